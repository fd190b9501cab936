import type { TaskUsage } from '../backends/backend.js';
import { unmeasuredUsage } from '../backends/backend.js';
import type { Backend, TaskHandle } from '../backends/backend.js';
import type { TaskState } from '../master/task-state.js';
import type { LaunchedTask } from '../master/types.js';
import type { TaskResultData } from './agent.js';

/**
 * When a task's result is reported, and what comes after. The agent reports a task at `workDone`
 * (the executor's last line), as a Mesos executor sends TASK_FINISHED before it exits: the
 * framework's job time never includes the instance's exit and teardown. The agent then waits for
 * `exited`, reads the isolation layer's accounting (`Backend.usage`, before destroy), destroys the
 * instance (`cleaned`) and hands the complete record to its task-end listeners.
 */

/** The complete record of a task after its teardown: every phase up to `cleaned`, the exit and the usage. */
export interface TaskEnd {
  /** The task as launched. */
  task: LaunchedTask;
  /** The state reported to the master. */
  state: TaskState;
  /** Everything the agent learnt (a copy of what the status update carried, completed). */
  data: TaskResultData;
}

/** Called once per task after its instance was destroyed. */
export type TaskEndListener = (end: TaskEnd) => void;

/** A one-shot signal for the executor's last line. */
export class WorkDoneSignal {
  /** Resolves when the executor's last line arrived. */
  readonly reached: Promise<'workDone'>;
  private resolve!: (v: 'workDone') => void;

  constructor() {
    this.reached = new Promise((r) => (this.resolve = r));
  }

  /** The executor's last line arrived (its reader stamped `workDone`); idempotent. */
  reach(): void {
    this.resolve('workDone');
  }
}

/**
 * The state to report at `workDone`: failed with the executor's error line; for a command task,
 * finished or failed by the command's exit (in Mesos' words, `describe`); else finished (whether a
 * finished task produced what its framework wanted is the framework's call, as at exit).
 */
export function outcomeAtWorkDone(data: TaskResultData, describe: (c: NonNullable<TaskResultData['command']>) => string): { state: TaskState; message?: string } {
  if (data.error) return { state: 'failed', message: data.error };
  if (data.command) return { state: data.command.exitCode === 0 ? 'finished' : 'failed', message: describe(data.command) };
  return { state: 'finished' };
}

/** The data as it stands now (phases copied), for a status update sent before the teardown. */
export function snapshot(data: TaskResultData): TaskResultData {
  return { ...data, phases: { ...data.phases } };
}

/** The backend's accounting of a task, or a record saying why there is none; never throws. */
export async function readUsage(backend: Backend, handle: TaskHandle): Promise<TaskUsage> {
  try {
    return await backend.usage(handle);
  } catch (err) {
    return unmeasuredUsage(`usage read failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * One instance per task id at a time in this process. A task reported at workDone may still be
 * tearing down when its framework launches the same task id again (on this agent or on another
 * agent of the same session, on any backend: the docker family shares container names): backends
 * name instances after the session and the task id (cgroup, container, domain), so the new start
 * waits until the old instance is destroyed.
 */
export class TeardownGates {
  private readonly last = new Map<string, Promise<void>>();

  /** Waits for the previous instance under `key` to be gone; returns the release to call once this one is. */
  async enter(key: string): Promise<() => void> {
    const prev = this.last.get(key);
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    this.last.set(key, mine);
    if (prev) await prev;
    return () => {
      release();
      if (this.last.get(key) === mine) this.last.delete(key);
    };
  }
}

/** The process's gates (agents of one process share a session, hence instance names). */
export const TEARDOWN_GATES = new TeardownGates();
