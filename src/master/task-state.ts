/** Task states, after Mesos' TaskState. */
export type TaskState = 'staging' | 'starting' | 'running' | 'finished' | 'failed' | 'killed' | 'lost';

/** Every state, in lifecycle order. */
export const TASK_STATES: readonly TaskState[] = ['staging', 'starting', 'running', 'finished', 'failed', 'killed', 'lost'];

const TERMINAL: ReadonlySet<TaskState> = new Set(['finished', 'failed', 'killed', 'lost']);

/** The one source of truth for terminal states: a terminal task never changes state again. */
export function isTerminal(s: TaskState): boolean {
  return TERMINAL.has(s);
}

/** Allowed transitions. Steps may be skipped forward (staging → running), as agents report coarsely. */
export const TRANSITIONS: Readonly<Record<TaskState, readonly TaskState[]>> = {
  staging: ['starting', 'running', 'finished', 'failed', 'killed', 'lost'],
  starting: ['running', 'finished', 'failed', 'killed', 'lost'],
  running: ['finished', 'failed', 'killed', 'lost'],
  finished: [],
  failed: [],
  killed: [],
  lost: [],
};

/** True when a task in `from` may move to `to`. */
export function canTransition(from: TaskState, to: TaskState): boolean {
  return TRANSITIONS[from].includes(to);
}
