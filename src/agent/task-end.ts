import type { TaskUsage } from '../backends/backend.js';
import { unmeasuredUsage } from '../backends/backend.js';
import type { Backend, TaskHandle } from '../backends/backend.js';
import type { ExecutorTask } from '../executor/protocol.js';
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

/** The state to report at `workDone`, and why when it is not finished. */
export function outcomeAtWorkDone(task: LaunchedTask, data: TaskResultData): { state: TaskState; message?: string } {
  if (data.error) return { state: 'failed', message: data.error };
  const wanted = (task.payload as ExecutorTask | undefined)?.mode === 'wordcount';
  if (wanted && !data.result) return { state: 'failed', message: 'executor finished without a result' };
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
