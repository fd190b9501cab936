import { existsSync, readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { OwnedResource } from '../backends/backend.js';
import { backendNames, getBackend } from '../backends/registry.js';
import { imagesDir } from '../image/manifest.js';
import { pidAlive as alive } from '../session/pid-alive.js';
import { sessionOfName } from '../session/session-id.js';
import { acquireSessionLock, inspectSession, recordedSessions, sessionDir, sessionsDir, type HeldLock, type SessionState } from '../session/session-lock.js';
import { session } from '../session/session.js';
import { stateDir } from '../session/state-dir.js';

/** Pseudo-backend name for files the reaper itself finds (session temp folders, session records, interrupted image builds). */
export const FILES_OWNER = 'files';

/** Pseudo-backend name for clusters of test hosts (`isolab cluster up`): namespaces, links, processes, folder. */
export const CLUSTER_OWNER = 'cluster';

/** Every owner the reaper asks by default, in removal order: backends, clusters, files. */
export function reapOwners(): string[] {
  return [...backendNames(), CLUSTER_OWNER, FILES_OWNER];
}

/** A leftover and what the reaper did with it. */
export interface ReapItem extends OwnedResource {
  /** True once removed (always false in a dry run). */
  removed: boolean;
  /** Why removal failed. */
  error?: string;
  /** Why it was left alone on purpose (its session is live). */
  skipped?: string;
}

/** A session that is running now, whose leftovers were skipped (or, with force, removed anyway). */
export interface LiveSession {
  /** Session id. */
  session: string;
  /** Pid holding its lock, when known. */
  pid?: number;
  /** Since when (ISO time), when known. */
  since?: string;
  /** How many of its resources were found. */
  items: number;
}

/** What a reap found and did. */
export interface ReapReport {
  /** Nothing was removed. */
  dryRun: boolean;
  /** Live sessions' resources were removed too. */
  force: boolean;
  /** Every leftover found. */
  items: ReapItem[];
  /** Backends that could not be asked, with the reason (engine not reachable, native module missing). */
  skipped: { backend: string; reason: string }[];
  /** Sessions found running; their resources are skipped unless force. */
  live: LiveSession[];
}

/** Options of {@link reap}. */
export interface ReapOptions {
  /** Only list. */
  dryRun?: boolean;
  /** Only leftovers of this session. */
  session?: string;
  /** Only these backends (default: every registered one, plus files). */
  backends?: string[];
  /** Also remove resources of sessions that are running now. */
  force?: boolean;
}

/**
 * Files of other sessions under the state folder: temp folders (`tmp/isolab-<session>-*`), the
 * record folders of sessions that are not running (`sessions/<id>`), and image build folders of
 * dead processes. The current session's are left alone.
 */
export function leftoverFiles(): OwnedResource[] {
  const out: OwnedResource[] = [];
  const self = session().id;
  const tmp = join(stateDir(), 'tmp');
  if (existsSync(tmp)) {
    for (const n of readdirSync(tmp)) {
      const s = sessionOfName(n);
      if (s && s !== self) out.push({ backend: FILES_OWNER, kind: 'tmpdir', id: join(tmp, n), session: s });
    }
  }
  for (const s of recordedSessions()) {
    if (s !== self && inspectSession(s).state !== 'live') out.push({ backend: FILES_OWNER, kind: 'session', id: sessionDir(s), session: s });
  }
  const images = imagesDir();
  if (existsSync(images)) {
    for (const n of readdirSync(images)) {
      const m = /^\.build-[0-9a-f]+-(\d+)$/.exec(n);
      if (m && !alive(Number(m[1]))) out.push({ backend: FILES_OWNER, kind: 'image-build', id: join(images, n) });
    }
  }
  return out;
}

async function removeFile(r: OwnedResource): Promise<void> {
  const okTmp = r.kind === 'tmpdir' && dirname(r.id) === join(stateDir(), 'tmp') && sessionOfName(basename(r.id));
  const okBuild = r.kind === 'image-build' && dirname(r.id) === imagesDir();
  if (!okTmp && !okBuild) throw new Error(`not an isolab file: ${r.id}`);
  rmSync(r.id, { recursive: true, force: true });
}

const firstLine = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0]!;

/**
 * Finds (and unless dryRun removes) what isolab sessions left behind: each backend's provably
 * owned resources (see the backends' owned.ts) and leftover files. A backend that cannot be asked
 * is reported as skipped, never fatal. The current session is left alone, and so is every session
 * that is running now (its lock is held, see session-lock.ts) unless `force`. While it removes a
 * dead session's leftovers the reaper holds that session's lock, so the session id cannot come
 * back to life meanwhile; the session's record folder goes last, once all else of it is gone.
 */
export async function reap(opts: ReapOptions = {}): Promise<ReapReport> {
  const report: ReapReport = { dryRun: Boolean(opts.dryRun), force: Boolean(opts.force), items: [], skipped: [], live: [] };
  const wanted = opts.backends ?? reapOwners();
  const self = session().id;
  const found: { r: OwnedResource; remove: (r: OwnedResource) => Promise<void> }[] = [];
  await Promise.all(
    wanted.map(async (name) => {
      try {
        if (name === FILES_OWNER) {
          for (const r of leftoverFiles()) found.push({ r, remove: removeFile });
          return;
        }
        if (name === CLUSTER_OWNER) {
          const { findClusters, removeCluster, describeLeftovers } = await import('../cluster/cluster.js');
          for (const c of findClusters()) {
            const r: OwnedResource = { backend: CLUSTER_OWNER, kind: 'cluster', id: c.session, name: describeLeftovers(c), session: c.session };
            found.push({ r, remove: () => removeCluster(c) });
          }
          return;
        }
        const b = await getBackend(name);
        for (const r of await b.listOwned()) found.push({ r, remove: (x) => b.removeOwned(x) });
      } catch (err) {
        report.skipped.push({ backend: name, reason: firstLine(err) });
      }
    }),
  );
  const order = (r: OwnedResource): number => wanted.indexOf(r.backend) + (r.kind === 'session' ? wanted.length : 0);
  found.sort((a, b) => order(a.r) - order(b.r) || a.r.kind.localeCompare(b.r.kind) || a.r.id.localeCompare(b.r.id));
  const mine = found.filter(({ r }) => r.session !== self && (opts.session === undefined || r.session === opts.session));

  const states = new Map<string, SessionState>();
  for (const { r } of mine) if (r.session && !states.has(r.session)) states.set(r.session, inspectSession(r.session));
  for (const st of states.values()) {
    if (st.state !== 'live') continue;
    report.live.push({
      session: st.id, pid: st.record?.pid, since: st.record?.since, items: mine.filter(({ r }) => r.session === st.id).length,
    });
  }

  const locks = new Map<string, HeldLock | Error>();
  const lockOf = (s: string): HeldLock | Error => {
    let l = locks.get(s);
    if (!l) {
      try {
        l = acquireSessionLock(s, 'reap', 0);
      } catch (err) {
        l = err instanceof Error ? err : new Error(String(err));
      }
      locks.set(s, l);
    }
    return l;
  };
  const failed = new Set<string>();
  const sessionItems: ReapItem[] = [];
  try {
    for (const { r, remove } of mine) {
      const item: ReapItem = { ...r, removed: false };
      report.items.push(item);
      const st = r.session ? states.get(r.session) : undefined;
      if (st?.state === 'live' && !opts.force) {
        item.skipped = `session ${st.id} is running${st.record ? ` (pid ${st.record.pid})` : ''}`;
        continue;
      }
      if (opts.dryRun) continue;
      if (r.session && st?.state !== 'live') {
        const l = lockOf(r.session);
        if (l instanceof Error) {
          item.skipped = firstLine(l);
          failed.add(r.session);
          continue;
        }
      }
      if (r.kind === 'session') {
        sessionItems.push(item);
        continue;
      }
      try {
        await remove(r);
        item.removed = true;
      } catch (err) {
        item.error = firstLine(err);
        if (r.session) failed.add(r.session);
      }
    }
    for (const item of sessionItems) {
      const l = locks.get(item.session!);
      if (failed.has(item.session!) || !l || l instanceof Error) {
        item.error = 'kept: other leftovers of this session could not be removed';
        continue;
      }
      l.release(true);
      item.removed = true;
    }
  } finally {
    for (const l of locks.values()) if (!(l instanceof Error)) l.release(false);
  }
  report.skipped.sort((a, b) => wanted.indexOf(a.backend) - wanted.indexOf(b.backend));
  return report;
}

/** Where session records live (for help texts). */
export function sessionRecordsDir(): string {
  return sessionsDir();
}
