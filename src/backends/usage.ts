import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GuestUsage, TaskSink, TaskUsage, UsageField, UsagePoint } from './backend.js';
import { CLOCK_TICKS } from './proc.js';

/** One reading of an instance's counters; a field is null (or absent) when its source could not be read. */
export interface UsageReading {
  /** CPU time so far, user + system (s). */
  cpuSeconds: number | null;
  /** User part (s). */
  cpuUserSeconds?: number | null;
  /** System part (s). */
  cpuSystemSeconds?: number | null;
  /** Memory in use now (bytes). */
  memoryBytes: number | null;
  /** High-water mark so far (bytes). */
  peakMemoryBytes: number | null;
  /** Bytes read through system calls by the instance's live host processes. */
  readBytes?: number | null;
  /** Bytes read from block devices. */
  blockReadBytes?: number | null;
}

/** Where a backend's figures come from, and why some cannot be had. */
export interface UsageSources {
  /** Source of each figure, e.g. `cgroup-v1 cpuacct.usage`. */
  sources: Partial<Record<UsageField, string>>;
  /** Why a figure is missing (kept only for figures that end up null). */
  missing: Partial<Record<UsageField, string>>;
}

/** Most points a task's timeline keeps; past it every other point is dropped and the interval doubles. */
export const MAX_TIMELINE_POINTS = 600;

/** Default reading interval while a task runs (ms). */
export const USAGE_INTERVAL_MS = 100;

const now = (): number => performance.timeOrigin + performance.now();

/** The executor message type of a line, by its first bytes (the executor always writes `type` first); undefined for other lines. */
export function messageType(line: string): string | undefined {
  return /^@isolab \{"type":"([a-z]+)"/.exec(line.slice(0, 40))?.[1];
}

/** The executor's own usage carried by its last (done) line, if any. */
export function guestUsageOf(line: string): GuestUsage | undefined {
  if (line.length > 4096) return undefined;
  try {
    const m = JSON.parse(line.slice(line.indexOf('{'))) as { usage?: { cpuUserMs?: number; cpuSystemMs?: number; maxRssBytes?: number } };
    const u = m.usage;
    if (!u || typeof u.cpuUserMs !== 'number' || typeof u.cpuSystemMs !== 'number' || typeof u.maxRssBytes !== 'number') return undefined;
    return { cpuSeconds: (u.cpuUserMs + u.cpuSystemMs) / 1000, peakMemoryBytes: u.maxRssBytes };
  } catch {
    return undefined;
  }
}

/**
 * Reads an instance's counters while it runs, about ten times a second, keeps the timeline, and
 * takes a reading right when the executor's ready line and its last line pass (through `sink`).
 * `finish` takes the last reading after the instance exited (cgroup counters outlive their
 * processes; a VM's QEMU process does not, so its figures come from the last reading before).
 */
export class UsageMeter {
  private readonly points: UsagePoint[] = [];
  private timer?: NodeJS.Timeout;
  private intervalMs: number;
  private last?: { at: number; r: UsageReading };
  private peak: number | null = null;
  private maxRead: number | null = null;
  private readyMemory: number | null = null;
  private guest: GuestUsage | null = null;
  private stopped = false;

  constructor(
    private readonly read: () => UsageReading | undefined,
    intervalMs = USAGE_INTERVAL_MS,
  ) {
    this.intervalMs = intervalMs;
  }

  /** Starts the periodic readings. */
  start(): void {
    if (this.stopped || this.timer) return;
    this.sample();
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.sample();
      this.schedule();
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Takes one reading now (kept in the timeline); returns it. */
  sample(): UsageReading | undefined {
    let r: UsageReading | undefined;
    try {
      r = this.read();
    } catch {
      r = undefined;
    }
    if (!r) return undefined;
    const at = now();
    this.last = { at, r };
    const peak = r.peakMemoryBytes ?? r.memoryBytes;
    if (peak !== null && peak !== undefined) this.peak = Math.max(this.peak ?? 0, peak);
    if (r.readBytes !== null && r.readBytes !== undefined) this.maxRead = Math.max(this.maxRead ?? 0, r.readBytes);
    this.points.push({ at: Math.round(at * 10) / 10, cpuSeconds: r.cpuSeconds, memoryBytes: r.memoryBytes });
    if (this.points.length > MAX_TIMELINE_POINTS) {
      for (let i = this.points.length - 2; i > 0; i -= 2) this.points.splice(i, 1);
      this.intervalMs *= 2;
    }
    return r;
  }

  /** Wraps a sink: readings at the executor's ready line and last line; the last line's own usage is kept as the guest's view. */
  sink(inner: TaskSink): TaskSink {
    return {
      line: (text: string) => {
        const type = messageType(text);
        if (type === 'ready' && this.readyMemory === null) {
          const r = this.sample();
          this.readyMemory = r?.memoryBytes ?? null;
        } else if (type === 'done' || type === 'error') {
          this.sample();
          if (type === 'done') this.guest = guestUsageOf(text) ?? this.guest;
        }
        inner.line(text);
      },
      phase: (name: string, at: number) => inner.phase(name, at),
    };
  }

  /** Stops the periodic readings. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * The task's usage: a final reading (after exit) when `final` is true and it succeeds, else the
   * last reading before, with `lagMs` from it to `exitedAt`.
   */
  finish(s: UsageSources, o: { final: boolean; exitedAt?: number }): TaskUsage {
    this.stop();
    let end = this.last;
    let lagMs: number | null = null;
    if (o.final) {
      const r = this.sample();
      if (r) end = this.last;
    }
    if (!o.final || !end) lagMs = end && o.exitedAt !== undefined ? Math.max(0, Math.round((o.exitedAt - end.at) * 10) / 10) : null;
    const r = end?.r;
    const missing = { ...s.missing };
    const val = (field: UsageField, v: number | null | undefined, fallback: string): number | null => {
      if (v === null || v === undefined || !Number.isFinite(v)) {
        missing[field] ??= fallback;
        return null;
      }
      delete missing[field];
      return v;
    };
    const noReading = 'no reading of the instance succeeded';
    const usage: TaskUsage = {
      cpuSeconds: val('cpuSeconds', r?.cpuSeconds, noReading),
      cpuUserSeconds: r?.cpuUserSeconds ?? null,
      cpuSystemSeconds: r?.cpuSystemSeconds ?? null,
      peakMemoryBytes: val('peakMemoryBytes', r?.peakMemoryBytes ?? this.peak, noReading),
      readyMemoryBytes: val('readyMemoryBytes', this.readyMemory, 'no reading when the executor said ready'),
      readBytes: val('readBytes', this.maxRead, noReading),
      blockReadBytes: val('blockReadBytes', r?.blockReadBytes, noReading),
      sources: s.sources,
      missing,
      lagMs,
      guest: this.guest,
      timeline: this.points,
    };
    if (usage.peakMemoryBytes !== null && this.peak !== null) usage.peakMemoryBytes = Math.max(usage.peakMemoryBytes, this.peak);
    return usage;
  }
}

/** A number from a one-value file, or null. */
export function readNumber(path: string): number | null {
  try {
    const v = Number(readFileSync(path, 'utf8').trim());
    return Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}

/** `key value` lines of a file (cpu.stat, memory.stat) as a map, or undefined when unreadable. */
export function readKeyed(path: string): Map<string, number> | undefined {
  try {
    const m = new Map<string, number>();
    for (const l of readFileSync(path, 'utf8').split('\n')) {
      const [k, v] = l.trim().split(/\s+/);
      if (k && v !== undefined && Number.isFinite(Number(v))) m.set(k, Number(v));
    }
    return m;
  } catch {
    return undefined;
  }
}

/** Bytes read of a cgroup-v1 blkio file (`8:0 Read 4096` lines, `Total` excluded), or null. */
export function blkioReadBytes(path: string): number | null {
  try {
    let sum = 0;
    for (const l of readFileSync(path, 'utf8').split('\n')) {
      const f = l.trim().split(/\s+/);
      if (f.length === 3 && f[1] === 'Read') sum += Number(f[2]) || 0;
    }
    return sum;
  } catch {
    return null;
  }
}

/** Bytes read of a cgroup-v2 io.stat (`8:0 rbytes=… wbytes=…` lines), or null. */
export function ioStatReadBytes(path: string): number | null {
  try {
    let sum = 0;
    for (const m of readFileSync(path, 'utf8').matchAll(/rbytes=(\d+)/g)) sum += Number(m[1]);
    return sum;
  } catch {
    return null;
  }
}

/** rchar of /proc/<pid>/io (bytes read through read-like system calls), or null. */
export function procReadChars(pid: number): number | null {
  try {
    const m = /^rchar:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Summed rchar of some processes, or null when none could be read. */
export function readCharsOf(pids: readonly number[]): number | null {
  let sum: number | null = null;
  for (const p of new Set(pids)) {
    const v = procReadChars(p);
    if (v !== null) sum = (sum ?? 0) + v;
  }
  return sum;
}

/** Every pid in a cgroup folder and its sub-folders (a container's cgroup under a per-task parent). */
export function cgroupTreePids(dir: string): number[] {
  const out: number[] = [];
  const walk = (d: string, depth: number): void => {
    try {
      for (const l of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n')) if (l) out.push(Number(l));
    } catch {
      return;
    }
    if (depth > 4) return;
    try {
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name), depth + 1);
    } catch {
      /* gone */
    }
  };
  walk(dir, 0);
  return out;
}

/** Cgroup counters of one task: v1 folders per controller, or one v2 folder. */
export interface CgroupCounterDirs {
  /** `cgroup-v1` or `cgroup-v2`. */
  version: 'cgroup-v1' | 'cgroup-v2';
  /** Memory controller folder. */
  memory?: string;
  /** cpuacct (v1) or the v2 folder. */
  cpu?: string;
  /** blkio (v1) or the v2 folder. */
  io?: string;
}

/** Reads a task cgroup's counters (hierarchical: children and removed children included). */
export function readCgroupCounters(d: CgroupCounterDirs): UsageReading | undefined {
  if (d.version === 'cgroup-v1') {
    const usage = d.cpu ? readNumber(join(d.cpu, 'cpuacct.usage')) : null;
    const user = d.cpu ? readNumber(join(d.cpu, 'cpuacct.usage_user')) : null;
    const sys = d.cpu ? readNumber(join(d.cpu, 'cpuacct.usage_sys')) : null;
    const mem = d.memory ? readNumber(join(d.memory, 'memory.usage_in_bytes')) : null;
    const peak = d.memory ? readNumber(join(d.memory, 'memory.max_usage_in_bytes')) : null;
    if (usage === null && mem === null) return undefined;
    return {
      cpuSeconds: usage === null ? null : usage / 1e9,
      cpuUserSeconds: user === null ? null : user / 1e9,
      cpuSystemSeconds: sys === null ? null : sys / 1e9,
      memoryBytes: mem,
      peakMemoryBytes: peak,
      blockReadBytes: d.io ? blkioReadBytes(join(d.io, 'blkio.throttle.io_service_bytes_recursive')) : null,
    };
  }
  const dir = d.cpu ?? d.memory;
  if (!dir) return undefined;
  const st = readKeyed(join(dir, 'cpu.stat'));
  const mem = readNumber(join(dir, 'memory.current'));
  if (!st && mem === null) return undefined;
  const us = (k: string): number | null => (st?.has(k) ? st.get(k)! / 1e6 : null);
  return {
    cpuSeconds: us('usage_usec'), cpuUserSeconds: us('user_usec'), cpuSystemSeconds: us('system_usec'), memoryBytes: mem,
    peakMemoryBytes: readNumber(join(dir, 'memory.peak')), blockReadBytes: ioStatReadBytes(join(dir, 'io.stat')),
  };
}

/** Where cgroup counters come from, in words, per version. */
export function cgroupSources(version: 'cgroup-v1' | 'cgroup-v2', what: string): UsageSources['sources'] {
  return version === 'cgroup-v1'
    ? {
      cpuSeconds: `${what}: cgroup-v1 cpuacct.usage`, peakMemoryBytes: `${what}: cgroup-v1 memory.max_usage_in_bytes`,
      readyMemoryBytes: `${what}: cgroup-v1 memory.usage_in_bytes at ready`, blockReadBytes: `${what}: cgroup-v1 blkio.throttle.io_service_bytes_recursive`,
      readBytes: 'rchar of /proc/<pid>/io summed over the instance\'s host processes, at the executor\'s last line',
    }
    : {
      cpuSeconds: `${what}: cgroup-v2 cpu.stat usage_usec`, peakMemoryBytes: `${what}: cgroup-v2 memory.peak`,
      readyMemoryBytes: `${what}: cgroup-v2 memory.current at ready`, blockReadBytes: `${what}: cgroup-v2 io.stat rbytes`,
      readBytes: 'rchar of /proc/<pid>/io summed over the instance\'s host processes, at the executor\'s last line',
    };
}

/** /proc/<pid>/status VmRSS and VmHWM (bytes), or undefined. */
export function procMemory(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const t = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(t)?.[1];
    const hwm = /^VmHWM:\s+(\d+)\s+kB/m.exec(t)?.[1];
    if (rss === undefined || hwm === undefined) return undefined;
    return { rss: Number(rss) * 1024, hwm: Number(hwm) * 1024 };
  } catch {
    return undefined;
  }
}

/** User and system CPU (s) of one process (all its threads) from /proc/<pid>/stat, or undefined. */
export function procCpu(pid: number): { user: number; system: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).trim().split(' ');
    if (f[0] === 'Z') return undefined;
    return { user: Number(f[11]) / CLOCK_TICKS, system: Number(f[12]) / CLOCK_TICKS };
  } catch {
    return undefined;
  }
}
