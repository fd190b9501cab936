/**
 * The phase boundaries of one task, defined once for every backend. The master stamps `offered`
 * and `accepted`; the agent stamps `requested`, `ready`, `firstResult`, `workDone` and `cleaned`;
 * each backend stamps `created`, `running` and `exited` at the points defined here (through
 * `TaskSink.phase`), and may add its own marks (`guestInit`, `attached`, ...) as extras. Every
 * stamp is a clock time in ms since the epoch from `performance.timeOrigin + performance.now()`.
 */

/** Phases in the order a task goes through them. */
export const TASK_PHASES = [
  'offered', 'accepted', 'requested', 'created', 'running', 'ready', 'firstResult', 'workDone', 'exited', 'cleaned',
] as const;

/** One standard phase. */
export type TaskPhase = (typeof TASK_PHASES)[number];

/** Who stamps a phase. */
export type PhaseStamper = 'master' | 'agent' | 'backend';

/** What a phase means, and where each backend takes it. */
export interface PhaseDefinition {
  /** The phase. */
  phase: TaskPhase;
  /** Who stamps it. */
  by: PhaseStamper;
  /** What it means, backend-neutral. */
  meaning: string;
}

/** The definition of every standard phase (README and report quote these). */
export const PHASE_DEFINITIONS: readonly PhaseDefinition[] = [
  { phase: 'offered', by: 'master', meaning: 'the master made the offer the task was launched on' },
  { phase: 'accepted', by: 'master', meaning: 'the framework accepted the offer with this task' },
  { phase: 'requested', by: 'agent', meaning: 'the agent accepted the launch and asked its backend to start the task' },
  {
    phase: 'created', by: 'backend',
    meaning: 'the instance exists and is not yet running: process: its cgroup made, just before spawn; container: `docker create` returned; VM: the QEMU process exists (paused, before libvirt starts its vCPUs); vm:micro and vm:snapshot: QEMU was spawned',
  },
  {
    phase: 'running', by: 'backend',
    meaning: 'the instance\'s first process is executing: process: spawn returned; container: `docker start` returned; VM: the domain was started (libvirt\'s create returned, vCPUs running); vm:micro: QEMU was spawned (its vCPUs start at once); vm:snapshot: QMP says the restored guest runs',
  },
  { phase: 'ready', by: 'agent', meaning: 'the executor\'s ready line reached the agent (its runtime is up, before any work)' },
  { phase: 'firstResult', by: 'agent', meaning: 'the executor\'s result line reached the agent' },
  { phase: 'workDone', by: 'agent', meaning: 'the executor\'s last line (done, or error) reached the agent: the agent reports the task\'s result here' },
  {
    phase: 'exited', by: 'backend',
    meaning: 'the instance\'s main process ended: process: the child\'s exit; container: the engine\'s wait returned; VM: the QEMU process exited (or, when it cannot be watched, the guest\'s power-off line on the serial console), not the domain\'s disappearance',
  },
  { phase: 'cleaned', by: 'agent', meaning: 'the backend\'s destroy returned: everything of the instance removed' },
];

/** Phases a backend stamps itself; the agent stamps them at its own moment only when a backend did not. */
export const BACKEND_PHASES: readonly TaskPhase[] = PHASE_DEFINITIONS.filter((d) => d.by === 'backend').map((d) => d.phase);

/** True for a standard phase name (anything else a backend stamps is an extra mark). */
export function isTaskPhase(name: string): name is TaskPhase {
  return (TASK_PHASES as readonly string[]).includes(name);
}

/** Phase names of results written before schema 3, mapped to the standard ones. */
export const LEGACY_PHASE_NAMES: Readonly<Record<string, TaskPhase>> = { started: 'running', done: 'workDone' };
