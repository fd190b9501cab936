import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { acquireSessionLock, type HeldLock } from './session-lock.js';
import { checkSessionId, NAME_PREFIX, sessionIdFromEnv } from './session-id.js';
import { stateDir } from './state-dir.js';

export { NAME_PREFIX, SESSION_ID_PATTERN, isSessionId, sessionOfName } from './session-id.js';

/** Label keys put on everything isolab creates (containers, domains, cgroups, files). */
export const LABELS = {
  /** Session that created the resource. */
  session: 'isolab.session',
  /** Task the resource belongs to. */
  task: 'isolab.task',
  /** Marks any isolab-owned resource, whatever the session. */
  owned: 'isolab.owned',
} as const;

type Cleanup = () => Promise<void> | void;

/**
 * One run of the CLI: an id, a temp folder, the cleanups to run on every exit path, and the
 * session lock (session-lock.ts) that tells the reaper this session is alive. The lock is taken
 * the first time the session names, labels or registers a resource, and released by close().
 */
export class Session {
  /** Short random id carried by every resource this session creates (matches SESSION_ID_PATTERN). */
  readonly id: string;
  private readonly cleanups = new Map<number, { what: string; fn: Cleanup }>();
  private nextKey = 1;
  private tmp?: string;
  private lock?: HeldLock;
  private exitHook?: () => void;

  constructor(id = randomBytes(4).toString('hex')) {
    this.id = checkSessionId(id);
  }

  /**
   * Takes this session's lock if it does not hold it yet; every resource-creating call goes
   * through here. Throws when another live process holds the same session id.
   */
  hold(): void {
    if (this.lock) return;
    this.lock = acquireSessionLock(this.id);
    if (!this.exitHook) {
      this.exitHook = () => {
        if (this.cleanups.size === 0) this.releaseLock();
      };
      process.once('exit', this.exitHook);
    }
  }

  /** True while this process holds the session's lock. */
  get locked(): boolean {
    return this.lock !== undefined;
  }

  private releaseLock(): void {
    const l = this.lock;
    this.lock = undefined;
    l?.release();
  }

  /** `isolab-<session>-<suffix>`: the name for a resource of this session. */
  name(suffix: string): string {
    this.hold();
    return `${NAME_PREFIX}${this.id}-${suffix}`.replace(/[^a-zA-Z0-9_.-]/g, '-');
  }

  /** Labels to attach to a resource of this session. */
  labels(task?: string): Record<string, string> {
    this.hold();
    const l: Record<string, string> = { [LABELS.owned]: 'true', [LABELS.session]: this.id };
    if (task !== undefined) l[LABELS.task] = task;
    return l;
  }

  /** This session's own temp folder under the state folder, created on first use. */
  tmpDir(): string {
    if (!this.tmp) {
      this.tmp = join(stateDir(), 'tmp', this.name('tmp'));
      mkdirSync(this.tmp, { recursive: true });
      const dir = this.tmp;
      this.defer(`temp folder ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
    }
    return this.tmp;
  }

  /** Registers a cleanup; call the returned function once the resource is gone by normal means. */
  defer(what: string, fn: Cleanup): () => void {
    this.hold();
    const key = this.nextKey++;
    this.cleanups.set(key, { what, fn });
    return () => this.cleanups.delete(key);
  }

  /**
   * Runs every pending cleanup, newest first; returns the failures as messages. Then releases the
   * session lock, unless a cleanup failed (the lock file then stays, and the reaper treats the
   * session as dead once this process has exited).
   */
  async close(): Promise<string[]> {
    const errors: string[] = [];
    const entries = [...this.cleanups.entries()].reverse();
    this.cleanups.clear();
    for (const [, { what, fn }] of entries) {
      try {
        await fn();
      } catch (err) {
        errors.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (errors.length === 0 && this.cleanups.size === 0) this.releaseLock();
    return errors;
  }
}

let current: Session | undefined;

/** The process-wide session, created on first use; its id comes from `ISOLAB_SESSION` (validated) or is random. */
export function session(): Session {
  current ??= new Session(sessionIdFromEnv());
  return current;
}
