import { readFileSync } from 'node:fs';

/** Fields of `/proc/<pid>/stat` isolab uses. */
export interface ProcStat {
  /** State letter: R, S, D, Z (zombie: dead, waiting to be reaped), T, ... */
  state: string;
  /** Parent pid. */
  ppid: number;
  /** Process group id. */
  pgid: number;
  /** Start time after boot, in clock ticks: with the pid and the boot id it names one process for good. */
  startTime: number;
  /** User + system CPU time (ms, at 100 ticks/s). */
  cpuMs: number;
  /** Resident set (bytes, 4 KiB pages). */
  rssBytes: number;
}

/** Parses the text of `/proc/<pid>/stat` (the command name may hold spaces and parentheses). */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const f = text.slice(close + 2).trim().split(' ');
  const n = (i: number): number => Number(f[i]);
  const st: ProcStat = {
    state: f[0] ?? '?', ppid: n(1), pgid: n(2), startTime: n(19), cpuMs: ((n(11) + n(12)) * 1000) / 100, rssBytes: n(21) * 4096,
  };
  return Number.isSafeInteger(st.startTime) && Number.isSafeInteger(st.ppid) ? st : undefined;
}

/** `/proc/<pid>/stat` of a process, or undefined when it is gone. */
export function procStat(pid: number): ProcStat | undefined {
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Start time of a process (clock ticks after boot), or undefined when it is gone. */
export function procStartTime(pid: number): number | undefined {
  return procStat(pid)?.startTime;
}

let boot: string | undefined;

/** This boot's id (`/proc/sys/kernel/random/boot_id`); start times only compare within one boot. */
export function bootId(): string {
  if (boot === undefined) {
    try {
      boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      boot = 'unknown';
    }
  }
  return boot;
}

/** True when `pid` is alive and is the same process that had `startTime` (not a reuse of its pid). */
export function sameProcess(pid: number, startTime: number): boolean {
  return procStartTime(pid) === startTime;
}
