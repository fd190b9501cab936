import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { release } from 'node:os';
import { splitLines } from '../../executor/line-splitter.js';
import { encodeTask, maxMessageBytes } from '../../executor/protocol.js';
import { executorPath } from '../../executor/paths.js';
import { session } from '../../session/session.js';
import type {
  Backend, ExitResult, Fingerprint, LimitsEnforced, OwnedResource, TaskHandle, TaskSink, TaskSpec, TaskStats, TaskUsage,
} from '../backend.js';
import type { BackendDescriptor } from '../descriptor.js';
import { processTree, procUsage } from '../proc.js';
import { stopWithTimeout } from '../stop.js';
import {
  cgroupSources, cgroupTreePids, procCpu, procMemory, readCgroupCounters, readCharsOf, UsageMeter, type UsageReading, type UsageSources,
} from '../usage.js';
import {
  cgroupMemory, cgroupOomKilled, cgroupPids, counterDirs, createTaskCgroup, detectCgroups, removeTaskCgroup, type TaskCgroup,
} from './cgroup.js';
import { PROCESS_DESCRIPTOR } from './descriptor.js';
import { forgetProcess, listOwned, markedProcesses, OWNER_ENV, recordProcess, removeOwned } from './owned.js';

export { OWNER_ENV } from './owned.js';
/** Every process carrying the owner marker, proven or not (tests use it to check that nothing is left). */
export const ownedPids = markedProcesses;

/** The process backend's state for one task. */
export interface ProcState {
  /** The child (a shell that joins the cgroup, then execs node). */
  child: ChildProcess;
  /** The task's cgroup, when the host allowed one. */
  cgroup?: TaskCgroup;
  /** Resolves when the child has exited and its output is read. */
  exit: Promise<ExitResult>;
  /** Killed at its timeout. */
  timedOut: boolean;
  /** The timeout's timer. */
  timer?: NodeJS.Timeout;
  /** Drops the session cleanup once destroyed. */
  removeCleanup: () => void;
  /** Reads the task's own counters while it runs. */
  meter: UsageMeter;
  /** Clock time the child exited. */
  exitedAt?: number;
}

/** One reading of a process task: its cgroup's counters (and rchar of its live processes), or /proc of its process tree without a cgroup. */
function readProcessTask(child: ChildProcess, cg: TaskCgroup | undefined): UsageReading | undefined {
  if (cg) {
    const r = readCgroupCounters(counterDirs(cg));
    if (!r) return undefined;
    const pids = cgroupTreePids(cg.memoryDir);
    return { ...r, readBytes: pids.length > 0 ? readCharsOf(pids) : null };
  }
  if (!child.pid) return undefined;
  const pids = processTree(child.pid);
  let user = 0;
  let system = 0;
  let rss = 0;
  let hwm = 0;
  let found = 0;
  for (const p of pids) {
    const c = procCpu(p);
    const m = procMemory(p);
    if (!c || !m) continue;
    found++;
    user += c.user;
    system += c.system;
    rss += m.rss;
    hwm = Math.max(hwm, m.hwm);
  }
  if (found === 0) return undefined;
  return { cpuSeconds: user + system, cpuUserSeconds: user, cpuSystemSeconds: system, memoryBytes: rss, peakMemoryBytes: Math.max(hwm, rss), readBytes: readCharsOf(pids) };
}

/** Sources of a process task's figures. */
function processSources(cg: TaskCgroup | undefined, why: string): UsageSources {
  if (cg) return { sources: cgroupSources(cg.version, 'the task\'s cgroup'), missing: cg.ioDir ? {} : { blockReadBytes: 'no blkio/io controller for the task\'s cgroup' } };
  const polled = `no task cgroup (${why}): polled /proc of the process tree, the end after the last reading is missed`;
  return {
    sources: { cpuSeconds: polled, peakMemoryBytes: '/proc/<pid>/status VmHWM (largest one process), polled', readBytes: 'rchar of /proc/<pid>/io, polled' },
    missing: { blockReadBytes: `no task cgroup (${why})` },
  };
}

/**
 * The executor's environment: PATH, the owner marker and NO_COLOR, as a container's executor gets
 * (plus test-only ISOLAB_TEST_* switches; ISOLAB_TEST_NODE_OPTIONS becomes NODE_OPTIONS). Nothing else of the CLI's environment: NODE_OPTIONS
 * would change what the executor runs, and NODE_EXTRA_CA_CERTS alone adds ~80 ms to its start.
 */
export function executorEnv(session: string, from: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: from.PATH ?? '/usr/local/bin:/usr/bin:/bin', NO_COLOR: '1', [OWNER_ENV]: session };
  for (const [k, v] of Object.entries(from)) if (k.startsWith('ISOLAB_TEST_')) env[k] = v;
  if (from.ISOLAB_TEST_NODE_OPTIONS) env.NODE_OPTIONS = from.ISOLAB_TEST_NODE_OPTIONS;
  return env;
}

/** Runs the executor as a child process of the host, in its own cgroup where the host allows it. */
export class ProcessBackend implements Backend<ProcState> {
  readonly name = PROCESS_DESCRIPTOR.name;
  readonly descriptor: BackendDescriptor = PROCESS_DESCRIPTOR;

  async fingerprint(): Promise<Fingerprint> {
    const exe = executorPath();
    if (!existsSync(exe)) return { health: 'unhealthy', description: `executor not built (${exe}); run make`, attributes: {} };
    const cg = detectCgroups();
    const attributes: Record<string, string> = { 'process.node': process.version, 'process.kernel': release(), 'process.executor': exe };
    if ('version' in cg) {
      attributes['process.cgroup'] = cg.version;
      return { health: 'healthy', description: `child processes, limits by ${cg.version}`, attributes };
    }
    attributes['process.cgroup'] = `none (${cg.unusable})`;
    return { health: 'healthy', description: `child processes, limits not enforced: ${cg.unusable}`, attributes };
  }

  async start(spec: TaskSpec, sink: TaskSink, signal?: AbortSignal): Promise<TaskHandle<ProcState>> {
    signal?.throwIfAborted();
    const sess = session();
    const name = sess.name(spec.taskId);
    let cgroup: TaskCgroup | undefined;
    let limits: LimitsEnforced;
    try {
      cgroup = createTaskCgroup(name, spec.resources);
      limits = { cpus: true, mem: true, how: cgroup.version };
    } catch (err) {
      limits = { cpus: false, mem: false, how: `not enforced: ${err instanceof Error ? err.message : String(err)}` };
    }
    const exe = executorPath();
    const args = [process.execPath, exe, encodeTask(spec.executor)];
    sink.phase('created', performance.timeOrigin + performance.now());
    const [cmd, argv] = cgroup
      ? ['/bin/sh', ['-c', `${cgroup.dirs.map((d) => `echo $$ > '${d}/cgroup.procs'`).join(' && ')} && exec "$0" "$@"`, ...args]]
      : [args[0]!, args.slice(1)];
    const child = spawn(cmd, argv, {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: executorEnv(sess.id),
    });
    const startedAt = performance.timeOrigin + performance.now();
    recordProcess(sess.id, child.pid, spec.taskId);
    const meter = new UsageMeter(() => readProcessTask(child, cgroup));
    const st: ProcState = { child, cgroup, timedOut: false, exit: undefined as never, removeCleanup: () => {}, meter };
    const metered = meter.sink(sink);
    const handle: TaskHandle<ProcState> = {
      taskId: spec.taskId, backend: this.name, instanceId: String(child.pid ?? ''), limits, attributes: {}, state: st,
    };
    st.removeCleanup = sess.defer(`process task ${spec.taskId}`, () => this.destroy(handle));
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => {
      if (stderr.length < 4096) stderr += b.toString();
    });
    const closed = splitLines(child.stdout!, maxMessageBytes(spec.executor), (l) => metered.line(l));
    st.exit = new Promise<ExitResult>((resolve) => {
      child.once('error', (err) => resolve({ exitCode: null, timedOut: false, message: err.message }));
      child.once('exit', (code, sig) => {
        st.exitedAt = performance.timeOrigin + performance.now();
        sink.phase('exited', st.exitedAt);
        if (!cgroup) meter.stop();
        void closed.then(() => {
          if (st.timer) clearTimeout(st.timer);
          const oom = st.cgroup ? cgroupOomKilled(st.cgroup) : false;
          resolve({
            exitCode: code, signal: sig ?? undefined, timedOut: st.timedOut, oomKilled: oom,
            message: stderr.trim().split('\n').pop() || undefined,
          });
        });
      });
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', reject);
    });
    sink.phase('running', startedAt);
    meter.start();
    if (spec.timeoutMs !== undefined) {
      st.timer = setTimeout(() => {
        st.timedOut = true;
        killTree(child);
      }, spec.timeoutMs);
    }
    const onAbort = (): void => killTree(child);
    signal?.addEventListener('abort', onAbort, { once: true });
    void st.exit.then(() => signal?.removeEventListener('abort', onAbort));
    return handle;
  }

  wait(handle: TaskHandle<ProcState>): Promise<ExitResult> {
    return handle.state.exit;
  }

  async stop(handle: TaskHandle<ProcState>, timeoutMs: number, sig: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const st = handle.state;
    if (st.child.exitCode !== null || st.child.signalCode !== null) return;
    await stopWithTimeout({ exited: st.exit, ask: () => signalTree(st.child, sig), force: () => killTree(st.child) }, timeoutMs);
  }

  async destroy(handle: TaskHandle<ProcState>): Promise<void> {
    const st = handle.state;
    if (st.timer) clearTimeout(st.timer);
    if (st.child.exitCode === null && st.child.signalCode === null) {
      killTree(st.child);
      await st.exit;
    }
    st.meter.stop();
    if (st.cgroup) await removeTaskCgroup(st.cgroup);
    forgetProcess(session().id, st.child.pid);
    st.removeCleanup();
  }

  async usage(handle: TaskHandle<ProcState>): Promise<TaskUsage> {
    const st = handle.state;
    const why = handle.limits.how.replace(/^not enforced: /, '');
    return st.meter.finish(processSources(st.cgroup, why), { final: st.cgroup !== undefined, exitedAt: st.exitedAt });
  }

  async stats(handle: TaskHandle<ProcState>): Promise<TaskStats> {
    const st = handle.state;
    const pids = [...new Set([...(st.child.pid ? [st.child.pid] : []), ...(st.cgroup ? cgroupPids(st.cgroup) : [])])];
    const u = procUsage(pids);
    const mem = st.cgroup ? cgroupMemory(st.cgroup) : undefined;
    return { memoryBytes: u.rssBytes || mem, cpuMs: u.cpuMs, pids };
  }

  async listOwned(): Promise<OwnedResource[]> {
    return listOwned(this.name);
  }

  removeOwned(r: OwnedResource): Promise<void> {
    return removeOwned(r);
  }
}

function signalTree(child: ChildProcess, sig: NodeJS.Signals): void {
  if (!child.pid) return;
  try {
    process.kill(-child.pid, sig);
  } catch {
    try {
      child.kill(sig);
    } catch {
      /* gone */
    }
  }
}

function killTree(child: ChildProcess): void {
  signalTree(child, 'SIGKILL');
}
