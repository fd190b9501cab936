/**
 * Task states, after Mesos' TaskState (lower case):
 * - `staging`: launched by the master, not yet reported by the agent;
 * - `starting`: the agent is starting the executor;
 * - `running`;
 * - `killing`: the agent is killing the task (Mesos' TASK_KILLING);
 * - `unreachable`: the task's agent stopped answering; the task may come back when the agent
 *   re-registers (only partition-aware frameworks see it; others get `lost`);
 * - terminal: `finished`, `failed`, `killed`, `lost`, `error` (the launch was invalid and never
 *   reached an agent), `dropped` (the launch did not reach the executor, or the task's agent came
 *   back without it: partition-aware frameworks only, others get `lost`), `gone`
 *   (the agent was removed or restarted while the task was on it: the task is gone for good).
 */
export type TaskState =
  | 'staging' | 'starting' | 'running' | 'killing' | 'unreachable'
  | 'finished' | 'failed' | 'killed' | 'lost' | 'error' | 'dropped' | 'gone';

/** Every state: non-terminal ones in lifecycle order, then the terminal ones. */
export const TASK_STATES: readonly TaskState[] = [
  'staging', 'starting', 'running', 'killing', 'unreachable', 'finished', 'failed', 'killed', 'lost', 'error', 'dropped', 'gone',
];

/** The states a task can end in. */
export const TERMINAL_STATES: readonly TaskState[] = ['finished', 'failed', 'killed', 'lost', 'error', 'dropped', 'gone'];

/** A terminal state. */
export type TerminalState = 'finished' | 'failed' | 'killed' | 'lost' | 'error' | 'dropped' | 'gone';

/** A non-terminal state. */
export type LiveState = 'staging' | 'starting' | 'running' | 'killing' | 'unreachable';

const TERMINAL: ReadonlySet<TaskState> = new Set(TERMINAL_STATES);

/** The one source of truth for terminal states (Mesos' isTerminalState): a terminal task never changes state again. */
export function isTerminal(s: TaskState): s is TerminalState {
  return TERMINAL.has(s);
}

const ENDINGS = ['finished', 'failed', 'killed', 'lost', 'dropped', 'gone'] as const;

/**
 * Allowed transitions. Steps may be skipped forward (staging → running), as agents report coarsely.
 * `error` is where an invalid launch starts and ends: no state leads to it. `dropped` ends a task that
 * never reached its executor, or one its re-registering agent does not know. `unreachable` leads back
 * to whatever the agent reports when it re-registers.
 */
export const TRANSITIONS: Readonly<Record<TaskState, readonly TaskState[]>> = {
  staging: ['starting', 'running', 'killing', 'unreachable', ...ENDINGS],
  starting: ['running', 'killing', 'unreachable', ...ENDINGS],
  running: ['killing', 'unreachable', ...ENDINGS],
  killing: ['unreachable', ...ENDINGS],
  unreachable: ['staging', 'starting', 'running', 'killing', ...ENDINGS],
  finished: [],
  failed: [],
  killed: [],
  lost: [],
  error: [],
  dropped: [],
  gone: [],
};

const ALLOWED: Readonly<Record<TaskState, ReadonlySet<TaskState>>> = Object.fromEntries(
  TASK_STATES.map((s) => [s, new Set(TRANSITIONS[s])]),
) as unknown as Record<TaskState, ReadonlySet<TaskState>>;

const STATES: ReadonlySet<string> = new Set(TASK_STATES);

/** True when a task in `from` may move to `to`. */
export function canTransition(from: TaskState, to: TaskState): boolean {
  return ALLOWED[from].has(to);
}

/** True when `s` is one of the task states (for input from the network). */
export function isTaskState(s: unknown): s is TaskState {
  return typeof s === 'string' && STATES.has(s);
}

/**
 * Why a status update was sent, after Mesos' TaskStatus.Reason (lower case, without `REASON_`).
 * Agents may send others; these are the ones the master itself sets.
 */
export type StatusReason =
  | 'reconciliation' | 'task_invalid' | 'invalid_offers' | 'framework_removed' | 'agent_removed' | 'agent_unreachable'
  | 'agent_reregistered' | 'agent_restarted' | 'task_killed_during_launch' | 'executor_terminated' | 'task_unknown';
