import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { stateDir } from './state-dir.js';

/** Label keys put on everything isolab creates (containers, domains, cgroups, files). */
export const LABELS = {
  /** Session that created the resource. */
  session: 'isolab.session',
  /** Task the resource belongs to. */
  task: 'isolab.task',
  /** Marks any isolab-owned resource, whatever the session. */
  owned: 'isolab.owned',
} as const;

/** Name prefix of every named resource: containers, domains, cgroups, temp folders. */
export const NAME_PREFIX = 'isolab-';

type Cleanup = () => Promise<void> | void;

/** One run of the CLI: an id, a temp folder and the cleanups to run on every exit path. */
export class Session {
  /** Short random id carried by every resource this session creates. */
  readonly id: string;
  private readonly cleanups = new Map<number, { what: string; fn: Cleanup }>();
  private nextKey = 1;
  private tmp?: string;

  constructor(id = randomBytes(4).toString('hex')) {
    this.id = id;
  }

  /** `isolab-<session>-<suffix>`: the name for a resource of this session. */
  name(suffix: string): string {
    return `${NAME_PREFIX}${this.id}-${suffix}`.replace(/[^a-zA-Z0-9_.-]/g, '-');
  }

  /** Labels to attach to a resource of this session. */
  labels(task?: string): Record<string, string> {
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
    const key = this.nextKey++;
    this.cleanups.set(key, { what, fn });
    return () => this.cleanups.delete(key);
  }

  /** Runs every pending cleanup, newest first; returns the failures as messages. */
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
    return errors;
  }
}

let current: Session | undefined;

/** The process-wide session, created on first use. */
export function session(): Session {
  current ??= new Session(process.env.ISOLAB_SESSION || undefined);
  return current;
}
