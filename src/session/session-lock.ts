import { closeSync, constants, fstatSync, ftruncateSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, rmdirSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { flockFd } from './flock.js';
import { bootId, procStartTime } from './proc.js';
import { isSessionId } from './session-id.js';
import { stateDir } from './state-dir.js';

/** What a session's lock file says about the process holding it. */
export interface SessionRecord {
  /** Session id. */
  session: string;
  /** Pid of the process holding the lock. */
  pid: number;
  /** That process's start time (clock ticks after boot, `/proc/<pid>/stat` field 22). */
  startTime: number;
  /** Boot the start time belongs to (`/proc/sys/kernel/random/boot_id`). */
  bootId: string;
  /** When the lock was taken (ISO time). */
  since: string;
  /** `session` for a running isolab command, `reap` while a reaper removes a dead session's leftovers. */
  holder: 'session' | 'reap';
}

/** Whether a session is running now, as its lock says. */
export interface SessionState {
  /** Session id. */
  id: string;
  /** live: its lock is held; dead: a lock file whose holder is gone; none: no lock file (ended, or never locked). */
  state: 'live' | 'dead' | 'none';
  /** The lock file's record, when readable. */
  record?: SessionRecord;
}

/** Thrown when a session id is already held by a live process. */
export class SessionInUseError extends Error {}

/** Folder of per-session records: `stateDir()/sessions`. */
export function sessionsDir(): string {
  return join(stateDir(), 'sessions');
}

/** Folder of one session's records (`lock`, `processes/`). */
export function sessionDir(id: string): string {
  return join(sessionsDir(), id);
}

const LOCK = 'lock';
const WAIT_S = 2;

function readRecord(fdOrPath: number | string): SessionRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(fdOrPath, 'utf8')) as SessionRecord;
    return typeof r.pid === 'number' && typeof r.startTime === 'number' ? r : undefined;
  } catch {
    return undefined;
  }
}

/** True when the record's process is alive and is the same one (pid + start time + boot). */
export function holderAlive(r: SessionRecord): boolean {
  return r.bootId === bootId() && procStartTime(r.pid) === r.startTime;
}

function describeHolder(id: string, r: SessionRecord | undefined): string {
  if (!r) return `session ${id} is in use by another process`;
  return `session ${id} is in use by pid ${r.pid} (${r.holder === 'reap' ? 'a reaper' : 'since ' + r.since})`;
}

/** A session lock this process holds. */
export interface HeldLock {
  /** Session id. */
  readonly id: string;
  /** Lock file path. */
  readonly path: string;
  /** Releases the lock: removes the lock file (and, with `all`, the session's whole record folder), then closes it. */
  release(all?: boolean): void;
}

/**
 * Takes the lock of session `id`: `stateDir()/sessions/<id>/lock`, created with O_NOFOLLOW, locked
 * with flock(2) (see flock.ts) and holding this process's pid, start time and boot id. The kernel
 * drops the lock when this process dies, however it dies, so a lock file nobody holds is a dead
 * session. Where the `flock` tool is missing, liveness falls back to the record (pid + start time
 * + boot id, checked against /proc). Throws {@link SessionInUseError} when a live process holds it.
 */
export function acquireSessionLock(id: string, holder: SessionRecord['holder'] = 'session', waitS = WAIT_S): HeldLock {
  if (!isSessionId(id)) throw new Error(`invalid session id ${JSON.stringify(id)}`);
  const dir = sessionDir(id);
  const path = join(dir, LOCK);
  for (let attempt = 0; ; attempt++) {
    mkdirSync(sessionsDir(), { recursive: true, mode: 0o700 });
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    let fd: number;
    try {
      fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && attempt < 5) continue;
      throw err;
    }
    const got = flockFd(fd, 'exclusive', waitS);
    if (got === 'busy') {
      const r = readRecord(fd);
      closeSync(fd);
      throw new SessionInUseError(describeHolder(id, r));
    }
    if (got === 'unavailable') {
      const r = readRecord(fd);
      if (r && r.pid !== process.pid && holderAlive(r)) {
        closeSync(fd);
        throw new SessionInUseError(describeHolder(id, r));
      }
    }
    let same = false;
    try {
      same = lstatSync(path).ino === fstatSync(fd).ino;
    } catch {
      /* unlinked by a reaper meanwhile */
    }
    if (!same) {
      closeSync(fd);
      if (attempt < 5) continue;
      throw new Error(`cannot take the lock of session ${id}: ${path} keeps changing`);
    }
    const rec: SessionRecord = {
      session: id, pid: process.pid, startTime: procStartTime(process.pid) ?? -1, bootId: bootId(), since: new Date().toISOString(), holder,
    };
    ftruncateSync(fd, 0);
    writeSync(fd, JSON.stringify(rec) + '\n', 0);
    let released = false;
    return {
      id,
      path,
      release(all = false) {
        if (released) return;
        released = true;
        try {
          if (all) rmSync(dir, { recursive: true, force: true });
          else {
            unlinkSync(path);
            for (const d of [join(dir, 'processes'), dir]) {
              try {
                rmdirSync(d);
              } catch {
                /* records left (or never made): the reaper finds what is left */
              }
            }
          }
        } catch {
          /* already gone */
        }
        closeSync(fd);
      },
    };
  }
}

/** Whether session `id` is running now. Never throws. */
export function inspectSession(id: string): SessionState {
  if (!isSessionId(id)) return { id, state: 'none' };
  const path = join(sessionDir(id), LOCK);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return { id, state: 'none' };
  }
  try {
    const record = readRecord(fd);
    const got = flockFd(fd, 'shared');
    if (got === 'busy') return { id, state: 'live', record };
    if (got === 'locked') return { id, state: 'dead', record };
    return { id, state: record && holderAlive(record) ? 'live' : 'dead', record };
  } finally {
    closeSync(fd);
  }
}

/** Ids of every session with a record folder in the state folder. */
export function recordedSessions(): string[] {
  try {
    return readdirSync(sessionsDir()).filter(isSessionId).sort();
  } catch {
    return [];
  }
}
