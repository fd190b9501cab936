import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { splitLines } from '../../executor/line-splitter.js';
import { encodeTask, maxMessageBytes } from '../../executor/protocol.js';
import { executorPath } from '../../executor/paths.js';
import { session } from '../../session/session.js';
import type {
  Backend, ExitResult, Fingerprint, LimitsEnforced, OwnedResource, TaskHandle, TaskSink, TaskSpec, TaskStats,
} from '../backend.js';
import {
  cgroupMemory, cgroupOomKilled, cgroupPids, createTaskCgroup, detectCgroups, listTaskCgroups, removeTaskCgroup,
  type TaskCgroup,
} from './cgroup.js';

/** Environment variable that marks an executor process as isolab's, for the reaper. */
export const OWNER_ENV = 'ISOLAB_OWNER_SESSION';

interface ProcState {
  child: ChildProcess;
  cgroup?: TaskCgroup;
  exit: Promise<ExitResult>;
  timedOut: boolean;
  timer?: NodeJS.Timeout;
  removeCleanup: () => void;
}

/**
 * The executor's environment: PATH, the owner marker and NO_COLOR, as a container's executor gets
 * (plus test-only ISOLAB_TEST_* switches). Nothing else of the CLI's environment: NODE_OPTIONS
 * would change what the executor runs, and NODE_EXTRA_CA_CERTS alone adds ~80 ms to its start.
 */
export function executorEnv(session: string, from: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: from.PATH ?? '/usr/local/bin:/usr/bin:/bin', NO_COLOR: '1', [OWNER_ENV]: session };
  for (const [k, v] of Object.entries(from)) if (k.startsWith('ISOLAB_TEST_')) env[k] = v;
  return env;
}

/** Runs the executor as a child process of the host, in its own cgroup where the host allows it. */
export class ProcessBackend implements Backend {
  readonly name = 'process';

  async fingerprint(): Promise<Fingerprint> {
    const exe = executorPath();
    if (!existsSync(exe)) return { health: 'unhealthy', description: `executor not built (${exe}); run make`, attributes: {} };
    const cg = detectCgroups();
    const attributes: Record<string, string> = { 'process.node': process.version, 'process.executor': exe };
    if ('version' in cg) {
      attributes['process.cgroup'] = cg.version;
      return { health: 'healthy', description: `child processes, limits by ${cg.version}`, attributes };
    }
    attributes['process.cgroup'] = `none (${cg.unusable})`;
    return { health: 'healthy', description: `child processes, limits not enforced: ${cg.unusable}`, attributes };
  }

  async start(spec: TaskSpec, sink: TaskSink, signal?: AbortSignal): Promise<TaskHandle> {
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
    const [cmd, argv] = cgroup
      ? ['/bin/sh', ['-c', `${cgroup.dirs.map((d) => `echo $$ > '${d}/cgroup.procs'`).join(' && ')} && exec "$0" "$@"`, ...args]]
      : [args[0]!, args.slice(1)];
    const child = spawn(cmd, argv, {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: executorEnv(sess.id),
    });
    const startedAt = performance.timeOrigin + performance.now();
    const st: ProcState = { child, cgroup, timedOut: false, exit: undefined as never, removeCleanup: () => {} };
    const handle: TaskHandle = {
      taskId: spec.taskId, backend: this.name, instanceId: String(child.pid ?? ''), limits, attributes: {}, state: st,
    };
    st.removeCleanup = sess.defer(`process task ${spec.taskId}`, () => this.destroy(handle));
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => {
      if (stderr.length < 4096) stderr += b.toString();
    });
    const closed = splitLines(child.stdout!, maxMessageBytes(spec.executor), (l) => sink.line(l));
    st.exit = new Promise<ExitResult>((resolve) => {
      child.once('error', (err) => resolve({ exitCode: null, timedOut: false, message: err.message }));
      child.once('exit', (code, sig) => {
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
    sink.phase('started', startedAt);
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

  wait(handle: TaskHandle): Promise<ExitResult> {
    return (handle.state as ProcState).exit;
  }

  async stop(handle: TaskHandle, timeoutMs: number, sig: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const st = handle.state as ProcState;
    if (st.child.exitCode !== null || st.child.signalCode !== null) return;
    signalTree(st.child, sig);
    const done = await Promise.race([st.exit.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), timeoutMs).unref())]);
    if (!done) killTree(st.child);
    await st.exit;
  }

  async destroy(handle: TaskHandle): Promise<void> {
    const st = handle.state as ProcState;
    if (st.timer) clearTimeout(st.timer);
    if (st.child.exitCode === null && st.child.signalCode === null) {
      killTree(st.child);
      await st.exit;
    }
    if (st.cgroup) await removeTaskCgroup(st.cgroup);
    st.removeCleanup();
  }

  async stats(handle: TaskHandle): Promise<TaskStats> {
    const st = handle.state as ProcState;
    const pids = [...new Set([...(st.child.pid ? [st.child.pid] : []), ...(st.cgroup ? cgroupPids(st.cgroup) : [])])];
    let cpuMs = 0;
    let rss = 0;
    for (const pid of pids) {
      const s = procStat(pid);
      cpuMs += s.cpuMs;
      rss += s.rssBytes;
    }
    const mem = st.cgroup ? cgroupMemory(st.cgroup) : undefined;
    return { memoryBytes: rss || mem, cpuMs, pids };
  }

  async listOwned(): Promise<OwnedResource[]> {
    const out: OwnedResource[] = [];
    const self = session().id;
    for (const pid of ownedPids()) {
      if (pid.session !== self) out.push({ backend: this.name, kind: 'process', id: String(pid.pid), session: pid.session });
    }
    for (const path of listTaskCgroups()) {
      const s = /^isolab-([0-9a-z]+)-/.exec(path.split('/').pop() ?? '')?.[1];
      if (s !== self) out.push({ backend: this.name, kind: 'cgroup', id: path, session: s });
    }
    return out;
  }

  async removeOwned(r: OwnedResource): Promise<void> {
    if (r.kind === 'process') {
      try {
        process.kill(Number(r.id), 'SIGKILL');
      } catch {
        /* gone */
      }
      return;
    }
    if (r.kind === 'cgroup') {
      await removeTaskCgroup({ version: 'cgroup-v1', dirs: [r.id], memoryDir: r.id, cpuDir: r.id });
    }
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

function procStat(pid: number): { cpuMs: number; rssBytes: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]);
    const rssPages = Number(f[21]);
    return { cpuMs: (ticks * 1000) / 100, rssBytes: rssPages * 4096 };
  } catch {
    return { cpuMs: 0, rssBytes: 0 };
  }
}

/** Processes whose environment carries the isolab owner variable. */
export function ownedPids(): { pid: number; session: string }[] {
  const out: { pid: number; session: string }[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const env = readFileSync(`/proc/${e}/environ`, 'latin1');
      const m = new RegExp(`(?:^|\\0)${OWNER_ENV}=([^\\0]+)`).exec(env);
      if (m) out.push({ pid: Number(e), session: m[1]! });
    } catch {
      /* gone or not ours to read */
    }
  }
  return out;
}
