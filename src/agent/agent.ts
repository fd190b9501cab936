import { randomUUID } from 'node:crypto';
import type { Backend, ExitResult, LimitsEnforced, TaskHandle, TaskSink, TaskUsage } from '../backends/backend.js';
import type { ExecutorTask, ReadyMessage, ResultMessage } from '../executor/protocol.js';
import type { Master } from '../master/master.js';
import type { Resources } from '../master/resources.js';
import type { TaskState } from '../master/task-state.js';
import type { AgentDriver, AgentInfo, LaunchedTask, TaskStatus } from '../master/types.js';
import { ExecutorOutput } from './executor-output.js';
import { outcomeAtWorkDone, readUsage, snapshot, WorkDoneSignal, type TaskEndListener } from './task-end.js';

export type { TaskEnd, TaskEndListener } from './task-end.js';

/** What an agent attaches to a task's terminal status update. */
export interface TaskResultData {
  /** Backend that ran the task. */
  backend: string;
  /** Backend's id for the instance. */
  instanceId?: string;
  /** Resources requested. */
  requested: Resources;
  /** Limits as the backend enforced them. */
  limits?: LimitsEnforced;
  /** Backend facts, e.g. the accelerator. */
  attributes: Record<string, string>;
  /**
   * Clock times (ms) of each phase (src/backends/phases.ts): offered, accepted, requested, created,
   * running, ready, firstResult, workDone, exited, cleaned, plus backend-specific ones. A status
   * update sent at workDone carries the phases up to there; the task-end record has them all.
   */
  phases: Record<string, number>;
  /** The isolation layer's accounting of the instance (task-end record only: read after exit). */
  usage?: TaskUsage;
  /** How the instance ended. */
  exit?: ExitResult;
  /** The executor's ready message. */
  ready?: ReadyMessage;
  /** The executor's result message. */
  result?: ResultMessage;
  /** Error reported by the executor or the backend. */
  error?: string;
}

interface Running {
  handle?: TaskHandle;
  killRequested: boolean;
}

/** An agent in the master's process: runs tasks on its backends and reports their states. */
export class LocalAgent implements AgentDriver {
  /** Id the master gave this agent. */
  id = '';
  private readonly running = new Map<string, Running>();
  private connected = true;
  private removed = false;
  private held: TaskStatus[] = [];
  private readonly endListeners = new Set<TaskEndListener>();

  constructor(
    private readonly master: Master,
    private readonly backends: Map<string, Backend>,
    private readonly signal?: AbortSignal,
  ) {}

  /** Calls `l` with each task's complete record (phases to `cleaned`, exit, usage) after its teardown; returns the unsubscribe. */
  onTaskEnd(l: TaskEndListener): () => void {
    this.endListeners.add(l);
    return () => this.endListeners.delete(l);
  }

  /** Registers with the master. */
  register(info: Omit<AgentInfo, 'backends'>, id?: string): string {
    this.id = this.master.registerAgent({ ...info, backends: [...this.backends.keys()] }, this, id);
    return this.id;
  }

  launch(task: LaunchedTask): void {
    const r: Running = { killRequested: false };
    this.running.set(task.taskId, r);
    void this.run(task, r).finally(() => this.running.delete(task.taskId));
  }

  kill(taskId: string): void {
    const r = this.running.get(taskId);
    if (!r) return;
    r.killRequested = true;
    if (r.handle) {
      const b = this.backends.get(r.handle.backend)!;
      void b.stop(r.handle, 2000).catch(() => {});
    }
  }

  /** Answers the master's health check, unless disconnected or removed. */
  ping(): void {
    if (this.connected && !this.removed) this.master.pong(this.id);
  }

  /** The master removed this agent: kills every task; nothing more is reported. */
  shutdown(_reason?: string): void {
    this.removed = true;
    this.held = [];
    for (const taskId of [...this.running.keys()]) this.kill(taskId);
  }

  /**
   * Simulates a network partition (for failure tests): pings go unanswered and status updates are
   * held back until reconnect(). Tasks keep running.
   */
  disconnect(): void {
    this.connected = false;
  }

  /** Ends a partition: held status updates are sent, in order. */
  reconnect(): void {
    this.connected = true;
    const held = this.held;
    this.held = [];
    if (!this.removed) for (const s of held) this.master.statusUpdate(s);
  }

  /** True until the master removes the agent. */
  get registered(): boolean {
    return !this.removed && this.id !== '';
  }

  /** Tasks running now. */
  get activeTasks(): number {
    return this.running.size;
  }

  private update(task: LaunchedTask, state: TaskState, message?: string, data?: TaskResultData): void {
    if (this.removed) return;
    const status: TaskStatus = {
      taskId: task.taskId, frameworkId: task.frameworkId, agentId: this.id, state, uuid: randomUUID(),
      timestamp: this.master.clock.now(), message, data,
    };
    if (this.connected) this.master.statusUpdate(status);
    else this.held.push(status);
  }

  private async run(task: LaunchedTask, r: Running): Promise<void> {
    const clock = this.master.clock;
    const data: TaskResultData = {
      backend: task.backend, requested: task.resources, attributes: {},
      phases: { offered: task.offeredAt, accepted: task.acceptedAt, requested: clock.now() },
    };
    const workDone = new WorkDoneSignal();
    const backend = this.backends.get(task.backend);
    if (!backend) {
      this.update(task, 'failed', `agent has no backend ${task.backend}`, data);
      return;
    }
    this.update(task, 'starting');
    const output = new ExecutorOutput(task.taskId, task.payload as ExecutorTask | undefined, data, () => clock.now(), () => {
      if (r.handle) void backend.stop(r.handle, 2000).catch(() => {});
    });
    const sink: TaskSink = {
      line: (text: string) => {
        output.line(text);
        if (data.phases.workDone !== undefined) workDone.reach();
      },
      phase: (name: string, at: number) => output.phase(name, at),
    };
    let handle: TaskHandle;
    try {
      handle = await backend.start(
        { taskId: task.taskId, resources: task.resources, executor: task.payload as ExecutorTask, timeoutMs: task.timeoutMs },
        sink,
        this.signal,
      );
    } catch (err) {
      data.error = err instanceof Error ? err.message : String(err);
      this.update(task, 'failed', `start failed: ${data.error}`, data);
      return;
    }
    r.handle = handle;
    data.instanceId = handle.instanceId;
    data.limits = handle.limits;
    data.attributes = handle.attributes;
    data.phases.running ??= clock.now();
    if (r.killRequested || output.violation) void backend.stop(handle, 2000).catch(() => {});
    this.update(task, 'running');
    const exited = backend.wait(handle).catch((err: unknown): ExitResult => ({
      exitCode: null, timedOut: false, message: err instanceof Error ? err.message : String(err),
    }));
    let reported: TaskState | undefined;
    if ((await Promise.race([workDone.reached, exited.then(() => 'exited' as const)])) === 'workDone' && !r.killRequested) {
      const o = output.violation ? { state: 'failed' as const, message: output.violation } : outcomeAtWorkDone(task, data);
      reported = o.state;
      this.update(task, o.state, o.message, output.violation ? { ...snapshot(data), result: undefined } : snapshot(data));
    }
    const exit = await exited;
    data.exit = exit;
    data.phases.exited ??= clock.now();
    data.usage = await readUsage(backend, handle);
    try {
      await backend.destroy(handle);
      data.phases.cleaned = clock.now();
    } catch (err) {
      data.error ??= `cleanup failed: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (reported === undefined) {
      const wanted = (task.payload as ExecutorTask | undefined)?.mode === 'wordcount';
      if (r.killRequested) reported = 'killed';
      else if (output.violation || exit.timedOut) reported = 'failed';
      else reported = exit.exitCode === 0 && (!wanted || data.result) ? 'finished' : 'failed';
      const message = reported === 'killed' ? 'killed on request' : output.violation ? output.violation
        : exit.timedOut ? `timed out after ${task.timeoutMs} ms` : reported === 'failed' ? describeFailure(exit, data) : undefined;
      this.update(task, reported, message, output.violation ? { ...data, result: undefined } : data);
    }
    for (const l of this.endListeners) {
      try {
        l({ task, state: reported, data });
      } catch {
        /* a listener's failure is its own */
      }
    }
  }
}

function describeFailure(exit: ExitResult, data: TaskResultData): string {
  if (data.error) return data.error;
  if (exit.oomKilled) return 'out of memory';
  if (exit.signal) return `killed by ${exit.signal}`;
  if (exit.exitCode !== 0) return `executor exited with ${exit.exitCode}${exit.message ? `: ${exit.message}` : ''}`;
  return 'executor exited without a result';
}
