import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { constants as osConstants, release } from 'node:os';
import { LineSplitter, splitLines } from '../../executor/line-splitter.js';
import { procStartTime } from '../../session/proc.js';
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
import { FileTail, outputFiles, readExitStatus, wrapperScript, type OutputFiles } from './file-output.js';
import { forgetProcess, listOwned, markedProcesses, OWNER_ENV, recordProcess, removeOwned } from './owned.js';

export { OWNER_ENV } from './owned.js';
/** Every process carrying the owner marker, proven or not (tests use it to check that nothing is left). */
export const ownedPids = markedProcesses;

/** The process backend's state for one task. */
export interface ProcState {
  /** The instance's process group leader: the shell that joins the cgroup, then runs (or execs) node. */
  pid: number;
  /** Its start time (clock ticks after boot), when read. */
  startTime?: number;
  /** The child, when this process started it (not for a recovered task). */
  child?: ChildProcess;
  /** Set once the instance has exited. */
  over: boolean;
  /** With `outputDir`: the files its output and exit status go to. */
  files?: OutputFiles;
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
  /** Resolves when the output pipe is read to its end (resolved at once for output files). */
  closed?: Promise<void>;
  /** Output files: reads what is left once the instance exited. */
  finishOutput?: () => void;
  /** Pipes: what it wrote on stderr (first 4 KiB). */
  stderrText?: () => string;
}

/** The last line of a file's last 4 KiB (an executor's stderr), or undefined. */
function readTail(path: string): string | undefined {
  try {
    const text = readFileSync(path, 'utf8');
    return text.slice(-4096);
  } catch {
    return undefined;
  }
}

/** One reading of a process task: its cgroup's counters (and rchar of its live processes), or /proc of its process tree without a cgroup. */
function readProcessTask(pid: number | undefined, cg: TaskCgroup | undefined): UsageReading | undefined {
  if (cg) {
    const r = readCgroupCounters(counterDirs(cg));
    if (!r) return undefined;
    const pids = cgroupTreePids(cg.memoryDir);
    return { ...r, readBytes: pids.length > 0 ? readCharsOf(pids) : null };
  }
  if (!pid) return undefined;
  const pids = processTree(pid);
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
    const files = spec.outputDir ? outputFiles(spec.outputDir) : undefined;
    let cmd: string;
    let argv: string[];
    if (files) [cmd, argv] = ['/bin/sh', ['-c', wrapperScript(cgroup?.dirs ?? []), files.exit, ...args]];
    else if (cgroup) [cmd, argv] = ['/bin/sh', ['-c', `${cgroup.dirs.map((d) => `echo $$ > '${d}/cgroup.procs'`).join(' && ')} && exec "$0" "$@"`, ...args]];
    else [cmd, argv] = [args[0]!, args.slice(1)];
    let stdio: ('ignore' | 'pipe' | number)[] = ['ignore', 'pipe', 'pipe'];
    const fds: number[] = [];
    if (files) {
      fds.push(openSync(files.stdout, 'a', 0o600), openSync(files.stderr, 'a', 0o600));
      stdio = ['ignore', fds[0]!, fds[1]!];
    }
    let child: ChildProcess;
    try {
      child = spawn(cmd, argv, { detached: true, stdio, env: executorEnv(sess.id) });
    } finally {
      for (const fd of fds) closeSync(fd);
    }
    const startedAt = performance.timeOrigin + performance.now();
    recordProcess(sess.id, child.pid, spec.taskId);
    const st: ProcState = {
      pid: child.pid ?? 0, startTime: child.pid ? procStartTime(child.pid) : undefined, child, over: false, files, cgroup, timedOut: false,
      exit: undefined as never, removeCleanup: () => {}, meter: undefined as never,
    };
    const handle = this.follow(spec, sink, st, limits);
    st.exit = new Promise<ExitResult>((resolve) => {
      child.once('error', (err) => {
        st.over = true;
        resolve({ exitCode: null, timedOut: false, message: err.message });
      });
      child.once('exit', (code, sig) => void this.exited(st, sink, code, sig ?? undefined).then(resolve));
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', reject);
    });
    sink.phase('running', startedAt);
    this.running(spec, st, signal);
    return handle;
  }

  /** With `outputDir`, a restarted agent can find the task again: its process group, cgroup and files. */
  checkpoint(handle: TaskHandle<ProcState>): unknown {
    const st = handle.state;
    if (!st.files || !st.startTime) return undefined;
    return { pid: st.pid, startTime: st.startTime, files: st.files, cgroup: st.cgroup, limits: handle.limits };
  }

  async recover(data: unknown, spec: TaskSpec, sink: TaskSink): Promise<TaskHandle<ProcState>> {
    const c = data as { pid: number; startTime: number; files: OutputFiles; cgroup?: TaskCgroup; limits: LimitsEnforced } | undefined;
    if (!c || !Number.isSafeInteger(c.pid) || !c.files?.stdout) throw new Error('not a process backend checkpoint');
    const sess = session();
    sess.hold();
    const st: ProcState = {
      pid: c.pid, startTime: c.startTime, over: false, files: c.files, cgroup: c.cgroup, timedOut: false,
      exit: undefined as never, removeCleanup: () => {}, meter: undefined as never,
    };
    const handle = this.follow(spec, sink, st, c.limits);
    st.exit = new Promise<ExitResult>((resolve) => {
      const poll = (): void => {
        if (procStartTime(c.pid) === c.startTime) {
          setTimeout(poll, 50);
          return;
        }
        void this.exited(st, sink, null, undefined).then(resolve);
      };
      poll();
    });
    this.running(spec, st);
    return handle;
  }

  /** Sets up the output reading, the meter and the session cleanup of a started or recovered instance. */
  private follow(spec: TaskSpec, sink: TaskSink, st: ProcState, limits: LimitsEnforced): TaskHandle<ProcState> {
    const sess = session();
    const meter = new UsageMeter(() => readProcessTask(st.pid, st.cgroup));
    st.meter = meter;
    const metered = meter.sink(sink);
    const handle: TaskHandle<ProcState> = {
      taskId: spec.taskId, backend: this.name, instanceId: String(st.pid || ''), limits, attributes: {}, state: st,
    };
    st.removeCleanup = sess.defer(`process task ${spec.taskId}`, () => this.destroy(handle));
    if (st.files) {
      const splitter = new LineSplitter(maxMessageBytes(spec.executor), (l) => metered.line(l));
      const tail = new FileTail(st.files.stdout, (b) => splitter.push(b));
      tail.start();
      st.closed = Promise.resolve();
      st.finishOutput = () => {
        tail.finish();
        splitter.end();
      };
    } else if (st.child) {
      let stderr = '';
      st.child.stderr!.on('data', (b: Buffer) => {
        if (stderr.length < 4096) stderr += b.toString();
      });
      st.stderrText = () => stderr;
      st.closed = splitLines(st.child.stdout!, maxMessageBytes(spec.executor), (l) => metered.line(l));
    }
    return handle;
  }

  /** The instance exited (`code`/`sig` from its parent, or read back from the exit file): its result. */
  private async exited(st: ProcState, sink: TaskSink, code: number | null, sig: string | undefined): Promise<ExitResult> {
    st.exitedAt = performance.timeOrigin + performance.now();
    st.over = true;
    sink.phase('exited', st.exitedAt);
    if (!st.cgroup) st.meter.stop();
    await st.closed;
    st.finishOutput?.();
    if (st.timer) clearTimeout(st.timer);
    const oom = st.cgroup ? cgroupOomKilled(st.cgroup) : false;
    let message = st.stderrText?.();
    if (st.files) {
      const status = readExitStatus(st.files.exit);
      if (status === undefined) {
        code = null;
        sig ??= 'SIGKILL';
      } else if (status > 128) {
        code = null;
        sig = Object.entries(osConstants.signals).find(([, n]) => n === status - 128)?.[0] ?? `signal ${status - 128}`;
      } else {
        code = status;
        sig = undefined;
      }
      message = readTail(st.files.stderr);
    }
    return { exitCode: code, signal: sig, timedOut: st.timedOut, oomKilled: oom, message: message?.trim().split('\n').pop() || undefined };
  }

  /** The instance runs: meter, timeout and abort. */
  private running(spec: TaskSpec, st: ProcState, signal?: AbortSignal): void {
    st.meter.start();
    if (spec.timeoutMs !== undefined) {
      st.timer = setTimeout(() => {
        st.timedOut = true;
        killGroup(st.pid);
      }, spec.timeoutMs);
    }
    const onAbort = (): void => killGroup(st.pid);
    signal?.addEventListener('abort', onAbort, { once: true });
    void st.exit.then(() => signal?.removeEventListener('abort', onAbort));
  }

  wait(handle: TaskHandle<ProcState>): Promise<ExitResult> {
    return handle.state.exit;
  }

  async stop(handle: TaskHandle<ProcState>, timeoutMs: number, sig: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const st = handle.state;
    if (st.over) return;
    await stopWithTimeout({ exited: st.exit, ask: () => signalGroup(st.pid, sig), force: () => killGroup(st.pid) }, timeoutMs);
  }

  async destroy(handle: TaskHandle<ProcState>): Promise<void> {
    const st = handle.state;
    if (st.timer) clearTimeout(st.timer);
    if (!st.over) {
      killGroup(st.pid);
      await st.exit;
    }
    st.meter.stop();
    if (st.cgroup) await removeTaskCgroup(st.cgroup);
    forgetProcess(session().id, st.pid);
    st.removeCleanup();
  }

  async usage(handle: TaskHandle<ProcState>): Promise<TaskUsage> {
    const st = handle.state;
    const why = handle.limits.how.replace(/^not enforced: /, '');
    return st.meter.finish(processSources(st.cgroup, why), { final: st.cgroup !== undefined, exitedAt: st.exitedAt });
  }

  async stats(handle: TaskHandle<ProcState>): Promise<TaskStats> {
    const st = handle.state;
    const pids = [...new Set([...(st.pid ? [st.pid] : []), ...(st.cgroup ? cgroupPids(st.cgroup) : [])])];
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

/** Signals the instance's whole process group (its leader's pid); never throws. */
function signalGroup(pid: number, sig: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      /* gone */
    }
  }
}

function killGroup(pid: number): void {
  signalGroup(pid, 'SIGKILL');
}
