import { unmeasuredUsage, type Backend, type ExitResult, type Fingerprint, type OwnedResource, type TaskHandle, type TaskSink, type TaskSpec, type TaskStats, type TaskUsage } from '../../../src/backends/backend.js';
import type { BackendDescriptor } from '../../../src/backends/descriptor.js';
import { encodeMessage } from '../../../src/executor/protocol.js';
import { countFileRange } from '../../../src/workload/count.js';
import { encodeTable } from '../../../src/workload/counts.js';
import { KATA_DESCRIPTOR } from './descriptor.js';

/** The fake's state for one task. */
export interface KataState {
  /** Resolves when the task ends. */
  exit: Promise<ExitResult>;
  /** Ends an idle task. */
  end: () => void;
}

/** A fifth backend, in its own folder: it runs the executor's work in the test process, and records what it was asked. */
export class KataBackend implements Backend<KataState> {
  readonly name = KATA_DESCRIPTOR.name;
  readonly descriptor: BackendDescriptor = KATA_DESCRIPTOR;
  /** Every task spec it was given. */
  readonly specs: TaskSpec[] = [];

  async fingerprint(): Promise<Fingerprint> {
    return {
      health: 'healthy', description: 'kata-runtime 3.2.0 on containerd 1.7 (fake)',
      attributes: { 'kata.containerd': '1.7.0', 'kata.version': '3.2.0', 'kata.hypervisor': 'firecracker' },
    };
  }

  async start(spec: TaskSpec, sink: TaskSink): Promise<TaskHandle<KataState>> {
    this.specs.push(spec);
    const t = spec.executor;
    const at = performance.timeOrigin + performance.now();
    sink.phase('created', at);
    sink.phase('running', at);
    sink.phase('microvmBooted', at);
    let end!: () => void;
    const ended = new Promise<void>((r) => (end = r));
    const exit = (async (): Promise<ExitResult> => {
      await new Promise((r) => setTimeout(r, 2));
      sink.line(encodeMessage({ type: 'ready', taskId: t.taskId, pid: process.pid, node: process.version, uptimeMs: 1 }));
      if (t.mode === 'wordcount') {
        const table = await countFileRange(t.input!, t.start!, t.end!, t.size);
        sink.line(encodeMessage({ type: 'result', taskId: t.taskId, words: table.total, distinct: table.distinct, bytes: t.end! - t.start!, countMs: 1, counts: encodeTable(table) }));
      } else {
        await ended;
      }
      sink.line(encodeMessage({ type: 'done', taskId: t.taskId }));
      sink.phase('exited', performance.timeOrigin + performance.now());
      return { exitCode: 0, timedOut: false };
    })();
    return {
      taskId: spec.taskId, backend: this.name, instanceId: `kata-${spec.taskId}`, limits: { cpus: true, mem: true, how: 'guest size' },
      attributes: { 'kata.hypervisor': 'firecracker' }, state: { exit, end },
    };
  }

  wait(h: TaskHandle<KataState>): Promise<ExitResult> {
    return h.state.exit;
  }

  async stop(h: TaskHandle<KataState>): Promise<void> {
    h.state.end();
    await h.state.exit;
  }

  async destroy(h: TaskHandle<KataState>): Promise<void> {
    h.state.end();
    await h.state.exit;
  }

  async usage(): Promise<TaskUsage> {
    return unmeasuredUsage('fake kata: nothing runs');
  }

  async stats(): Promise<TaskStats> {
    return { memoryBytes: 2 ** 20, cpuMs: 1, pids: [process.pid] };
  }

  async listOwned(): Promise<OwnedResource[]> {
    return [];
  }

  async removeOwned(): Promise<void> {}
}
