import { RealClock, type Clock, type Timer } from '../../src/master/clock.js';
import { encodeMessage } from '../../src/executor/protocol.js';
import { unmeasuredUsage, type Backend, type ExitResult, type Fingerprint, type OwnedResource, type TaskHandle, type TaskSink, type TaskSpec, type TaskStats, type TaskUsage } from '../../src/backends/backend.js';
import type { BackendDescriptor } from '../../src/backends/descriptor.js';

type PerTask<T> = T | ((spec: TaskSpec) => T);

/** Behaviour of the mock backend, after Nomad's mock driver (run_for, exit_code, start_error). */
export interface MockOptions {
  /** Time source: run times pass on this clock, so a FakeClock gives virtual time. */
  clock?: Clock;
  /** How long each task runs (ms). Default 0. */
  runMs?: PerTask<number>;
  /** Exit code of each task. Default 0. */
  exitCode?: PerTask<number>;
  /** When set, start() fails with this message. */
  startError?: PerTask<string | undefined>;
  /** Executor lines the task prints before it exits. Default: a ready line. */
  output?: PerTask<string[]>;
  /** Its descriptor (default `MOCK_DESCRIPTOR`; its name is the backend's name). */
  descriptor?: BackendDescriptor;
}

/** The mock backend's state for one task. */
export interface MockState {
  /** Resolves when the task ends. */
  exit: Promise<ExitResult>;
  /** Ends it once. */
  end: (r: ExitResult) => void;
  /** Cancels the run timer and the timeout timer. */
  timer?: Pick<Timer, 'cancel'>;
  /** Ended. */
  done: boolean;
}

/** A plain-process-like descriptor for the mock: it is never registered, so `--backends` cannot select it. */
export const MOCK_DESCRIPTOR: BackendDescriptor = {
  name: 'mock', displayName: 'Mock', noun: 'mock', kind: 'process', boundary: 'host-kernel', isolationOrder: 1, baseline: true,
  summary: 'runs nothing: a test double for the master and the experiments.', shares: 'nothing runs', attackSurface: 'none', hostProcesses: 'none',
  engine: { name: 'none', version: null, detail: null }, runtime: { name: 'none', version: null, detail: null }, accelerator: null,
  limits: { cpus: false, mem: false, pids: false, how: 'mock' }, timeoutScale: 1,
  priors: { startupSeconds: 0.01, launchSeconds: 0.01, countMBps: 100 }, densitySteps: null,
};

const pick = <T>(v: PerTask<T> | undefined, spec: TaskSpec, dflt: T): T =>
  v === undefined ? dflt : typeof v === 'function' ? (v as (s: TaskSpec) => T)(spec) : v;

/** A backend that runs nothing, for testing the master and the experiments (test-only: not in the registry). */
export class MockBackend implements Backend<MockState> {
  readonly name: string;
  readonly descriptor: BackendDescriptor;
  /** Tasks started so far. */
  started = 0;
  /** Tasks currently running. */
  running = 0;
  private readonly clock: Clock;

  constructor(private readonly opts: MockOptions = {}) {
    this.clock = opts.clock ?? new RealClock();
    this.descriptor = opts.descriptor ?? MOCK_DESCRIPTOR;
    this.name = this.descriptor.name;
  }

  async fingerprint(): Promise<Fingerprint> {
    return { health: 'healthy', description: 'mock backend (runs nothing)', attributes: { 'mock.version': '1' } };
  }

  async start(spec: TaskSpec, sink: TaskSink): Promise<TaskHandle<MockState>> {
    const err = pick(this.opts.startError, spec, undefined);
    if (err) throw new Error(err);
    let finish!: (r: ExitResult) => void;
    const exit = new Promise<ExitResult>((r) => (finish = r));
    const st: MockState = { exit, end: () => {}, done: false };
    this.started++;
    this.running++;
    sink.phase('created', this.clock.now());
    sink.phase('running', this.clock.now());
    const lines = pick(this.opts.output, spec, [
      encodeMessage({ type: 'ready', taskId: spec.taskId, pid: 0, node: 'mock', uptimeMs: 0 }),
    ]);
    const code = pick(this.opts.exitCode, spec, 0);
    const runMs = pick(this.opts.runMs, spec, 0);
    const end = (r: ExitResult): void => {
      if (st.done) return;
      st.done = true;
      sink.phase('exited', this.clock.now());
      this.running--;
      st.timer?.cancel();
      finish(r);
    };
    const run = this.clock.setTimer(runMs, () => {
      for (const l of lines) sink.line(l);
      end({ exitCode: code, timedOut: false });
    });
    const timeout = spec.timeoutMs !== undefined && spec.timeoutMs < runMs
      ? this.clock.setTimer(spec.timeoutMs, () => end({ exitCode: null, signal: 'SIGKILL', timedOut: true }))
      : undefined;
    st.timer = { cancel: () => { run.cancel(); timeout?.cancel(); } };
    st.end = end;
    return { taskId: spec.taskId, backend: this.name, instanceId: `mock-${spec.taskId}`, limits: { cpus: false, mem: false, how: 'mock' }, attributes: {}, state: st };
  }

  wait(handle: TaskHandle<MockState>): Promise<ExitResult> {
    return handle.state.exit;
  }

  async stop(handle: TaskHandle<MockState>, _timeoutMs: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    handle.state.end({ exitCode: null, signal, timedOut: false });
  }

  async destroy(handle: TaskHandle<MockState>): Promise<void> {
    await this.stop(handle, 0, 'SIGKILL');
  }

  async usage(): Promise<TaskUsage> {
    return unmeasuredUsage('mock backend: nothing runs');
  }

  async stats(): Promise<TaskStats> {
    return { memoryBytes: 0, cpuMs: 0, pids: [] };
  }

  async listOwned(): Promise<OwnedResource[]> {
    return [];
  }

  async removeOwned(): Promise<void> {}
}
