import { randomUUID } from 'node:crypto';
import type { Backend, ExitResult, LimitsEnforced, TaskHandle, TaskSink, TaskUsage } from '../backends/backend.js';
import type { CommandMessage, ExecutorTask, ReadyMessage, ResultMessage } from '../executor/protocol.js';
import { RealClock, type Clock } from '../master/clock.js';
import type { Resources } from '../master/resources.js';
import { isTerminal, type TaskState } from '../master/task-state.js';
import type { AgentDriver, AgentInfo, AgentTaskReport, LaunchedTask, MasterLink, TaskStatus } from '../master/types.js';
import { ExecutorOutput } from './executor-output.js';
import { outcomeAtWorkDone, readUsage, snapshot, TEARDOWN_GATES, WorkDoneSignal, type TaskEndListener } from './task-end.js';

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
  /** A command task's exit: the command's code, signal and output tail. */
  command?: CommandMessage;
  /** Error reported by the executor or the backend. */
  error?: string;
}

/** What a task needs before its backend starts it, made ready by the agent (e.g. its input fetched into its sandbox). */
export interface PreparedTask {
  /** The task as the backend is to get it (e.g. its input now a local file). */
  task: LaunchedTask;
  /** Removes what the preparation made, once the task has ended. */
  cleanup(): Promise<void> | void;
  /** The task's sandbox, where a backend that can recover tasks keeps their output (TaskSpec.outputDir). */
  outputDir?: string;
}

/** A task a previous agent process started, to be found again (see LocalAgent.adopt). */
export interface RecoveredTask {
  /** The task, as its backend was given it. */
  task: LaunchedTask;
  /** The backend's checkpoint of the instance. */
  checkpoint: unknown;
  /** Its sandbox. */
  outputDir?: string;
  /** Removes its sandbox once it ended. */
  cleanup(): Promise<void> | void;
}

/**
 * Prepares a task before its start (Mesos' fetcher step); a rejection fails the task with that
 * reason. Undefined: the task needs nothing.
 */
export type TaskPreparer = (task: LaunchedTask, signal?: AbortSignal) => Promise<PreparedTask | undefined>;

/** Options of a LocalAgent beyond its master, backends and abort signal. */
export interface LocalAgentOptions {
  /** Runs before each task's start. */
  prepare?: TaskPreparer;
  /** A task's instance started (or was found again): e.g. to keep the backend's checkpoint of it. */
  onStarted?: (task: LaunchedTask, handle: TaskHandle, backend: Backend) => void;
  /** A task is over on this agent (reported and torn down, or never started). */
  onEnded?: (task: LaunchedTask) => void;
}

interface Running {
  task: LaunchedTask;
  handle?: TaskHandle;
  killRequested: boolean;
  /** Set by drain(): the task is stopped and reported `failed` with this message (not `killed`). */
  drained?: string;
  /** The state last reported for the task. */
  state: TaskState;
}

/** Terminal states of recently ended tasks kept for reconcile(). */
const KEEP_ENDED = 1000;

const keyOf = (frameworkId: string, taskId: string): string => `${frameworkId}\u0000${taskId}`;

/**
 * An agent in the master's process: runs tasks on its backends and reports their states. It talks to
 * the master only through MasterLink (register, status updates, pongs), the interface an agent in
 * another process will use over HTTP; the master reaches it through AgentDriver.
 */
export class LocalAgent implements AgentDriver {
  /** Id the master gave this agent. */
  id = '';
  private readonly running = new Map<string, Running>();
  private readonly ended = new Map<string, TaskState>();
  private readonly clock: Clock;
  private info?: Omit<AgentInfo, 'backends' | 'tasks'>;
  private connected = true;
  private removed = false;
  private held: TaskStatus[] = [];
  private readonly endListeners = new Set<TaskEndListener>();

  constructor(
    private readonly master: MasterLink & { readonly clock?: Clock },
    private readonly backends: Map<string, Backend>,
    private readonly signal?: AbortSignal,
    clock?: Clock,
    private readonly opts: LocalAgentOptions = {},
  ) {
    this.clock = clock ?? master.clock ?? new RealClock();
  }

  /** The tasks it runs now, with their latest state (what it reports when it re-registers). */
  taskReports(): AgentTaskReport[] {
    return [...this.running.values()].map((r) => ({ taskId: r.task.taskId, frameworkId: r.task.frameworkId, state: r.state }));
  }

  /** Calls `l` with each task's complete record (phases to `cleaned`, exit, usage) after its teardown; returns the unsubscribe. */
  onTaskEnd(l: TaskEndListener): () => void {
    this.endListeners.add(l);
    return () => this.endListeners.delete(l);
  }

  /** Registers with the master. */
  register(info: Omit<AgentInfo, 'backends' | 'tasks'>, id?: string): string {
    this.info = { hostname: info.hostname, resources: info.resources };
    this.id = this.master.registerAgent({ ...this.info, backends: [...this.backends.keys()] }, this, id);
    return this.id;
  }

  launch(task: LaunchedTask): void {
    const key = keyOf(task.frameworkId, task.taskId);
    const prev = this.running.get(key);
    // a task reported at workDone may still be tearing down: its id can be launched again (run() waits for the teardown)
    if (this.removed || (prev && !isTerminal(prev.state))) {
      this.update(task, 'dropped', this.removed ? 'agent is shut down' : `task ${task.taskId} is already running here`);
      return;
    }
    const r: Running = { task, killRequested: false, state: 'staging' };
    this.running.set(key, r);
    void this.run(task, r).finally(() => {
      if (this.running.get(key) === r) this.running.delete(key);
    });
  }

  /**
   * Takes over a task a previous process of this agent started (Mesos' agent recovery): its
   * backend finds the instance from the checkpoint and its output is read again; from then on it
   * is followed as if launched here. If the backend cannot find it, the task is reported failed.
   */
  adopt(rec: RecoveredTask): void {
    const task = rec.task;
    const key = keyOf(task.frameworkId, task.taskId);
    if (this.running.has(key)) return;
    const r: Running = { task, killRequested: false, state: 'running' };
    this.running.set(key, r);
    void this.run(task, r, rec).finally(() => {
      if (this.running.get(key) === r) this.running.delete(key);
    });
  }

  kill(taskId: string, frameworkId?: string): void {
    const r = this.find(taskId, frameworkId);
    if (!r) {
      // Not running here (never launched, or already ended): answer, so the master stops resending the kill.
      if (frameworkId !== undefined) {
        this.send({
          taskId, frameworkId, agentId: this.id, state: this.ended.get(keyOf(frameworkId, taskId)) ?? 'killed', uuid: randomUUID(),
          timestamp: this.clock.now(), message: 'task not running on this agent',
        });
      }
      return;
    }
    if (r.killRequested) return;
    r.killRequested = true;
    if (r.handle) {
      this.update(r.task, 'killing', 'kill requested');
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
    for (const r of [...this.running.values()]) this.kill(r.task.taskId, r.task.frameworkId);
  }

  /**
   * Stops every task because the agent itself stops (SIGTERM), reporting each `failed` with
   * `message` (a framework retries failed tasks; `killed` is what it asked for).
   */
  drain(message: string): void {
    for (const r of [...this.running.values()]) {
      if (isTerminal(r.state)) continue;
      r.drained = message;
      this.kill(r.task.taskId, r.task.frameworkId);
    }
  }

  /** Reports the current state of the named tasks; `dropped` for a task it never had. */
  reconcile(tasks: readonly { taskId: string; frameworkId: string }[]): void {
    for (const t of tasks) {
      const r = this.running.get(keyOf(t.frameworkId, t.taskId));
      const ended = this.ended.get(keyOf(t.frameworkId, t.taskId));
      const state: TaskState = r ? r.state : ended ?? 'dropped';
      this.send({
        taskId: t.taskId, frameworkId: t.frameworkId, agentId: this.id, state, uuid: randomUUID(), timestamp: this.clock.now(),
        reason: 'reconciliation', message: r || ended ? undefined : 'task never reached this agent',
      });
    }
  }

  /**
   * Simulates a network partition (for failure tests): pings go unanswered and status updates are
   * held back until reconnect(). Tasks keep running.
   */
  disconnect(): void {
    this.connected = false;
  }

  /**
   * Ends a partition: the agent re-registers, reporting its tasks (the master may have marked it
   * unreachable meanwhile), then sends its held status updates, in order.
   */
  reconnect(): void {
    this.connected = true;
    const held = this.held;
    this.held = [];
    if (this.removed || !this.info) return;
    const tasks: AgentTaskReport[] = [...this.running.values()].map((r) => ({ taskId: r.task.taskId, frameworkId: r.task.frameworkId, state: r.state }));
    for (const s of held) {
      if (isTerminal(s.state) && !this.running.has(keyOf(s.frameworkId, s.taskId))) tasks.push({ taskId: s.taskId, frameworkId: s.frameworkId, state: s.state });
    }
    try {
      this.master.registerAgent({ ...this.info, backends: [...this.backends.keys()], tasks }, this, this.id);
    } catch {
      return; // marked gone: the master told it to shut down
    }
    for (const s of held) this.master.statusUpdate(s);
  }

  /** True until the master removes the agent. */
  get registered(): boolean {
    return !this.removed && this.id !== '';
  }

  /** Tasks running now. */
  get activeTasks(): number {
    return this.running.size;
  }

  private find(taskId: string, frameworkId?: string): Running | undefined {
    if (frameworkId !== undefined) return this.running.get(keyOf(frameworkId, taskId));
    for (const r of this.running.values()) if (r.task.taskId === taskId) return r;
    return undefined;
  }

  private update(task: LaunchedTask, state: TaskState, message?: string, data?: TaskResultData): void {
    if (this.removed) return;
    const key = keyOf(task.frameworkId, task.taskId);
    const r = this.running.get(key);
    if (r && r.task === task) r.state = state;
    if (isTerminal(state)) {
      this.ended.set(key, state);
      if (this.ended.size > KEEP_ENDED) this.ended.delete(this.ended.keys().next().value!);
    }
    this.send({ taskId: task.taskId, frameworkId: task.frameworkId, agentId: this.id, state, uuid: randomUUID(), timestamp: this.clock.now(), message, data });
  }

  private send(status: TaskStatus): void {
    if (this.removed) return;
    if (this.connected) this.master.statusUpdate(status);
    else this.held.push(status);
  }

  private async run(task: LaunchedTask, r: Running, recovered?: RecoveredTask): Promise<void> {
    try {
      await this.runPrepared(task, r, recovered);
    } finally {
      try {
        this.opts.onEnded?.(r.task);
      } catch {
        /* the listener's own */
      }
    }
  }

  private async runPrepared(task: LaunchedTask, r: Running, recovered?: RecoveredTask): Promise<void> {
    const clock = this.clock;
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
    let prepared: PreparedTask | undefined = recovered ? { task, cleanup: recovered.cleanup, outputDir: recovered.outputDir } : undefined;
    if (this.opts.prepare && !recovered) {
      try {
        prepared = await this.opts.prepare(task, this.signal);
      } catch (err) {
        data.error = err instanceof Error ? err.message : String(err);
        this.update(task, 'failed', data.error, data);
        return;
      }
      if (prepared) r.task = prepared.task;
      if (r.killRequested) {
        await prepared?.cleanup();
        this.update(r.task, 'killed', 'killed on request');
        return;
      }
    }
    const release = await TEARDOWN_GATES.enter(task.taskId);
    try {
      await this.runOn(prepared?.task ?? task, r, backend, data, workDone, prepared?.outputDir, recovered);
    } finally {
      release();
      try {
        await prepared?.cleanup();
      } catch {
        /* the sandbox stays for the reaper */
      }
    }
  }

  private async runOn(
    task: LaunchedTask, r: Running, backend: Backend, data: TaskResultData, workDone: WorkDoneSignal, outputDir?: string, recovered?: RecoveredTask,
  ): Promise<void> {
    const clock = this.clock;
    if (!recovered) this.update(task, 'starting');
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
    const spec = { taskId: task.taskId, resources: task.resources, executor: task.payload as ExecutorTask, timeoutMs: task.timeoutMs, outputDir };
    try {
      if (recovered) {
        if (!backend.recover) throw new Error(`backend ${backend.name} cannot recover tasks`);
        handle = await backend.recover(recovered.checkpoint, spec, sink);
      } else handle = await backend.start(spec, sink, this.signal);
    } catch (err) {
      data.error = err instanceof Error ? err.message : String(err);
      this.update(task, 'failed', recovered ? `the agent restarted and could not recover the task: ${data.error}` : `start failed: ${data.error}`, data);
      return;
    }
    r.handle = handle;
    try {
      this.opts.onStarted?.(task, handle, backend);
    } catch {
      /* the listener's own */
    }
    data.instanceId = handle.instanceId;
    data.limits = handle.limits;
    data.attributes = handle.attributes;
    data.phases.running ??= clock.now();
    this.update(task, 'running');
    if (r.killRequested) {
      this.update(task, 'killing', 'kill requested');
      void backend.stop(handle, 2000).catch(() => {});
    } else if (output.violation) void backend.stop(handle, 2000).catch(() => {});
    const exited = backend.wait(handle).catch((err: unknown): ExitResult => ({
      exitCode: null, timedOut: false, message: err instanceof Error ? err.message : String(err),
    }));
    let reported: TaskState | undefined;
    if ((await Promise.race([workDone.reached, exited.then(() => 'exited' as const)])) === 'workDone' && !r.killRequested) {
      const o = output.violation ? { state: 'failed' as const, message: output.violation } : outcomeAtWorkDone(data, commandOutcome);
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
    // The executor's exit says how it went (exit 0 and no error message: finished); whether a finished
    // task produced what its framework wanted is the framework's call, not the agent's.
    if (reported === undefined) {
      if (r.drained) reported = 'failed';
      else if (r.killRequested) reported = 'killed';
      else if (output.violation || exit.timedOut) reported = 'failed';
      else reported = exit.exitCode === 0 && !data.error ? 'finished' : 'failed';
      const message = r.drained ?? (reported === 'killed' ? 'killed on request' : output.violation ? output.violation
        : exit.timedOut ? `timed out after ${task.timeoutMs} ms` : reported === 'failed' ? describeFailure(exit, data)
          : data.command ? commandOutcome(data.command) : undefined);
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

/** A command task's end as Mesos' command executor words it, with the last line of its output. */
export function commandOutcome(c: CommandMessage): string {
  const how = c.exitCode !== null ? `Command exited with status ${c.exitCode}` : `Command terminated with signal ${c.signal ?? 'unknown'}`;
  const last = c.output.split('\n').map((l) => l.trim()).filter(Boolean).pop();
  return c.exitCode === 0 || !last ? how : `${how}: ${last.length > 200 ? `${last.slice(0, 197)}...` : last}`;
}

function describeFailure(exit: ExitResult, data: TaskResultData): string {
  if (data.error) return data.error;
  if (exit.oomKilled) return 'out of memory';
  if (data.command) return commandOutcome(data.command);
  if (exit.signal) return `killed by ${exit.signal}`;
  if (exit.exitCode !== 0) return `executor exited with ${exit.exitCode}${exit.message ? `: ${exit.message}` : ''}`;
  return 'executor exited without a result';
}
