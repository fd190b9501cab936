import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on every Linux architecture isolab runs on). */
export const CLOCK_TICKS = 100;

/** Bytes per page of /proc/<pid>/stat's rss field. */
export const PAGE_BYTES = 4096;

/** Fields of /proc/<pid>/stat the backends use. */
export interface ProcStat {
  /** Command name (truncated to 15 bytes by the kernel). */
  comm: string;
  /** State letter: R, S, D, Z (zombie: dead, waiting to be reaped), T, ... */
  state: string;
  /** Parent process id. */
  ppid: number;
  /** Process group id. */
  pgid: number;
  /** Start time after boot, in clock ticks (with the pid, names one process). */
  startTime: number;
  /** User + system CPU time (ms) of the process itself. */
  cpuMs: number;
  /** Resident set size (bytes). */
  rssBytes: number;
}

/** Parses the text of /proc/<pid>/stat (the command name may hold spaces and parentheses). */
export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const f = text.slice(close + 2).trim().split(' ');
  const n = (i: number): number => Number(f[i]);
  const st: ProcStat = {
    comm: text.slice(open + 1, close), state: f[0] ?? '?', ppid: n(1), pgid: n(2), startTime: n(19),
    cpuMs: ((n(11) + n(12)) * 1000) / CLOCK_TICKS, rssBytes: n(21) * PAGE_BYTES,
  };
  return Number.isSafeInteger(st.ppid) && Number.isSafeInteger(st.startTime) && Number.isFinite(st.cpuMs) && Number.isFinite(st.rssBytes)
    ? st : undefined;
}

/** /proc/<pid>/stat of one process, or undefined when it is gone or unreadable. */
export function procStat(pid: number): ProcStat | undefined {
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Parent of a process, or undefined when it is gone or its parent is init (pid ≤ 1). */
export function parentPid(pid: number): number | undefined {
  const p = procStat(pid)?.ppid;
  return p !== undefined && Number.isInteger(p) && p > 1 ? p : undefined;
}

/** Pids of every process on the host now. */
export function allPids(): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) if (/^\d+$/.test(e)) out.push(Number(e));
  return out;
}

/** The command line of a process as its arguments, or undefined when it is gone or unreadable (kernel threads: []). */
export function procArgs(pid: number): string[] | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter((a, i, all) => a !== '' || i < all.length - 1);
  } catch {
    return undefined;
  }
}

/** A process with its parent and arguments, as `ps -eo pid,ppid,args` lists it. */
export interface ProcInfo {
  /** Process id. */
  pid: number;
  /** Parent process id. */
  ppid: number;
  /** Command line. */
  args: string[];
}

/** Every process with its parent and command line (zombies and vanished ones left out). */
export function listProcesses(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const pid of allPids()) {
    const st = procStat(pid);
    if (!st || st.state === 'Z') continue;
    const args = procArgs(pid);
    if (args) out.push({ pid, ppid: st.ppid, args });
  }
  return out;
}

/** `root` and all its descendants now (a snapshot: processes may come and go meanwhile). */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const pid of allPids()) {
    const st = procStat(pid);
    if (!st) continue;
    const list = children.get(st.ppid);
    if (list) list.push(pid);
    else children.set(st.ppid, [pid]);
  }
  const out: number[] = [];
  const todo = [root];
  const seen = new Set<number>();
  while (todo.length > 0) {
    const p = todo.pop()!;
    if (seen.has(p)) continue;
    seen.add(p);
    out.push(p);
    for (const c of children.get(p) ?? []) todo.push(c);
  }
  return out.sort((a, b) => a - b);
}

/** Summed CPU time (ms) and resident memory (bytes) of some processes; vanished ones count 0. */
export function procUsage(pids: readonly number[]): { cpuMs: number; rssBytes: number; found: number } {
  let cpuMs = 0;
  let rssBytes = 0;
  let found = 0;
  for (const pid of new Set(pids)) {
    const s = procStat(pid);
    if (!s) continue;
    found++;
    cpuMs += s.cpuMs;
    rssBytes += s.rssBytes;
  }
  return { cpuMs, rssBytes, found };
}
