import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { bootId, procStat, procStartTime } from '../../session/proc.js';
import { sessionDir } from '../../session/session-lock.js';
import { isSessionId, NAME_PREFIX, sessionOfName } from '../../session/session-id.js';
import type { OwnedResource } from '../backend.js';
import { CGROUP_PARENT, listTaskCgroups, removeTaskCgroup } from './cgroup.js';

/** Environment variable that marks an executor process as isolab's (its value is the session id). */
export const OWNER_ENV = 'ISOLAB_OWNER_SESSION';

/** What the process backend writes for each executor it starts: `sessions/<id>/processes/<pid>`. */
export interface ProcessRecord {
  /** Executor pid (also its process group id: executors are started detached). */
  pid: number;
  /** Its start time (clock ticks after boot). */
  startTime: number;
  /** Boot the start time belongs to. */
  bootId: string;
  /** Task id. */
  task: string;
}

function recordPath(sessionId: string, pid: number): string {
  return join(sessionDir(sessionId), 'processes', String(pid));
}

/** Records an executor the session started, so the reaper can prove it is isolab's. Never throws. */
export function recordProcess(sessionId: string, pid: number | undefined, task: string): void {
  if (!pid) return;
  const startTime = procStartTime(pid);
  if (startTime === undefined) return;
  try {
    mkdirSync(dirname(recordPath(sessionId, pid)), { recursive: true, mode: 0o700 });
    const rec: ProcessRecord = { pid, startTime, bootId: bootId(), task };
    writeFileSync(recordPath(sessionId, pid), JSON.stringify(rec) + '\n', { mode: 0o600, flag: 'w' });
  } catch {
    /* without a record the reaper needs the cgroup to prove ownership */
  }
}

/** Drops the record once the executor is gone. */
export function forgetProcess(sessionId: string, pid: number | undefined): void {
  if (pid) rmSync(recordPath(sessionId, pid), { force: true });
}

function readRecord(sessionId: string, pid: number): ProcessRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(recordPath(sessionId, pid), 'utf8')) as ProcessRecord;
    return r.pid === pid && r.bootId === bootId() ? r : undefined;
  } catch {
    return undefined;
  }
}

/** The session in a process's environment marker, when it carries one with a valid session id. */
export function markerOf(pid: number): string | undefined {
  try {
    const env = readFileSync(`/proc/${pid}/environ`, 'latin1');
    const m = new RegExp(`(?:^|\\0)${OWNER_ENV}=([^\\0]*)`).exec(env)?.[1];
    return isSessionId(m) ? m : undefined;
  } catch {
    return undefined;
  }
}

/** True when the process sits in a task cgroup of that session (`.../isolab/isolab-<session>-<task>`). */
export function inSessionCgroup(pid: number, sessionId: string): boolean {
  try {
    const text = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    return text.split('\n').some((l) => {
      const path = l.split(':').slice(2).join(':');
      return basename(dirname(path)) === CGROUP_PARENT && sessionOfName(basename(path)) === sessionId;
    });
  } catch {
    return false;
  }
}

/**
 * Why a process is provably an executor (or an executor's child) of `sessionId`: the session's
 * record of it (or of its process group leader) with the same start time, or membership in one of
 * the session's task cgroups. Undefined when there is no such proof.
 */
export function ownershipProof(pid: number, sessionId: string, startTime: number, pgid: number): string | undefined {
  const rec = readRecord(sessionId, pid);
  if (rec && rec.startTime === startTime) return 'session record';
  if (pgid !== pid) {
    const leader = readRecord(sessionId, pgid);
    if (leader && (procStartTime(pgid) === undefined || procStartTime(pgid) === leader.startTime)) return 'session record of its group';
  }
  if (inSessionCgroup(pid, sessionId)) return 'task cgroup';
  return undefined;
}

/** A process the reaper may take: marker, proof and the start time seen now. */
export interface OwnedProcess {
  /** Pid. */
  pid: number;
  /** Session in its marker. */
  session: string;
  /** Start time (clock ticks after boot) when listed; checked again just before the kill. */
  startTime: number;
  /** What proves it is isolab's. */
  proof: string;
}

/** Processes that carry the owner marker and are proven to be isolab executors (see {@link ownershipProof}). */
export function ownedProcesses(): OwnedProcess[] {
  const out: OwnedProcess[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    if (pid === process.pid) continue;
    const s = markerOf(pid);
    if (!s) continue;
    const st = procStat(pid);
    if (!st) continue;
    const proof = ownershipProof(pid, s, st.startTime, st.pgid);
    if (proof) out.push({ pid, session: s, startTime: st.startTime, proof });
  }
  return out;
}

/** Id of a process resource: `<pid>@<start time>`, so a reused pid never matches. */
export function processId(p: Pick<OwnedProcess, 'pid' | 'startTime'>): string {
  return `${p.pid}@${p.startTime}`;
}

/** The process backend's leftovers: proven executor processes and task cgroups, with their sessions. */
export function listOwned(backend: string): OwnedResource[] {
  const out: OwnedResource[] = [];
  for (const p of ownedProcesses()) out.push({ backend, kind: 'process', id: processId(p), session: p.session });
  for (const path of listTaskCgroups()) {
    const s = sessionOfName(basename(path));
    if (s) out.push({ backend, kind: 'cgroup', id: path, session: s });
  }
  return out;
}

/**
 * Removes one leftover. A process is killed only if, re-read just before the kill, it still has
 * the same start time, the same session marker and its proof; otherwise it is left alone (its pid
 * was reused, or it is no longer provably isolab's). A cgroup's processes are killed and its folder removed.
 */
export async function removeOwned(r: OwnedResource): Promise<void> {
  if (r.kind === 'process') {
    const m = /^(\d+)@(\d+)$/.exec(r.id);
    if (!m || !r.session) throw new Error(`not a process id: ${r.id}`);
    const pid = Number(m[1]);
    const startTime = Number(m[2]);
    const st = procStat(pid);
    if (!st || st.startTime !== startTime || st.state === 'Z') return;
    if (markerOf(pid) !== r.session || !ownershipProof(pid, r.session, startTime, st.pgid)) {
      throw new Error(`process ${pid} is no longer provably isolab's; left alone`);
    }
    if (procStartTime(pid) !== startTime) return;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
    return;
  }
  if (r.kind === 'cgroup') {
    const name = basename(r.id);
    if (basename(dirname(r.id)) !== CGROUP_PARENT || !name.startsWith(NAME_PREFIX) || !sessionOfName(name)) {
      throw new Error(`not an isolab task cgroup: ${r.id}`);
    }
    await removeTaskCgroup({ version: 'cgroup-v1', dirs: [r.id], memoryDir: r.id, cpuDir: r.id });
  }
}

/** Every process whose environment carries the owner marker, with the session it names (no proof asked). */
export function markedProcesses(): { pid: number; session: string }[] {
  const out: { pid: number; session: string }[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const s = markerOf(Number(e));
    if (s) out.push({ pid: Number(e), session: s });
  }
  return out;
}
