import type { StartupMetric } from './types.js';

/** One named interval between two standard phases, and whether it means the same thing on every backend. */
export interface IntervalDefinition {
  /** Metric name in results.json. */
  metric: StartupMetric;
  /** Phase where its clock starts. */
  from: string;
  /** Phase where it stops. */
  to: string;
  /** Label in tables. */
  label: string;
  /**
   * True when both ends are taken at the same kind of point on every backend (agent-stamped ends, or
   * a backend end whose definition is the same event everywhere), so values compare across backends.
   */
  comparable: boolean;
  /** Why it does or does not compare, in a few words (README and report). */
  note: string;
}

/** Each start-up interval: its name, the phases where its clock starts and stops, and whether it compares across backends. */
export const STARTUP_METRICS: readonly IntervalDefinition[] = [
  { metric: 'offerToRequested', from: 'offered', to: 'requested', label: 'offer → launch requested', comparable: true, note: 'the master, the framework and the agent: same code for every backend' },
  { metric: 'requestedToCreated', from: 'requested', to: 'created', label: 'requested → instance created', comparable: false, note: '"created" is a cgroup, a container, or a paused QEMU process' },
  { metric: 'createdToRunning', from: 'created', to: 'running', label: 'created → running', comparable: false, note: 'spawn, docker start, or libvirt starting the vCPUs' },
  { metric: 'runningToReady', from: 'running', to: 'ready', label: 'running → executor ready', comparable: false, note: 'node\'s start, plus a guest kernel\'s boot in a VM' },
  { metric: 'readyToFirstResult', from: 'ready', to: 'firstResult', label: 'ready → first result', comparable: true, note: 'the same work (a tiny count) seen by the agent' },
  { metric: 'firstResultToWorkDone', from: 'firstResult', to: 'workDone', label: 'first result → work done', comparable: true, note: 'the executor\'s last line after its result' },
  { metric: 'workDoneToExited', from: 'workDone', to: 'exited', label: 'work done → exited', comparable: false, note: 'process exit, container exit, or guest power-off and QEMU exit' },
  { metric: 'exitedToCleaned', from: 'exited', to: 'cleaned', label: 'exited → cleaned up', comparable: false, note: 'teardown: cgroup removal, docker rm, libvirt\'s domain cleanup' },
  { metric: 'requestedToReady', from: 'requested', to: 'ready', label: 'requested → executor ready (start-up)', comparable: true, note: 'agent-stamped at both ends: the start-up proper' },
  { metric: 'offerToReady', from: 'offered', to: 'ready', label: 'offer → executor ready', comparable: true, note: 'start-up including scheduling' },
  { metric: 'requestedToWorkDone', from: 'requested', to: 'workDone', label: 'requested → work done (task time)', comparable: true, note: 'what a framework waits for; teardown excluded' },
  { metric: 'total', from: 'offered', to: 'cleaned', label: 'total: offer → cleaned up', comparable: true, note: 'everything, teardown included' },
];

/** The intervals that add up to `total` (offer → cleaned), in order (for stacked charts). */
export const STARTUP_SEGMENTS: readonly StartupMetric[] = [
  'offerToRequested', 'requestedToCreated', 'createdToRunning', 'runningToReady', 'readyToFirstResult', 'firstResultToWorkDone',
  'workDoneToExited', 'exitedToCleaned',
];

/** Round to 3 decimals. */
const r3 = (x: number): number => Math.round(x * 1000) / 1000;

/** The intervals (ms) between recorded phases; an interval is missing when either end is. */
export function intervalsOf(phases: Record<string, number>): Partial<Record<StartupMetric, number>> {
  const out: Partial<Record<StartupMetric, number>> = {};
  for (const m of STARTUP_METRICS) {
    const a = phases[m.from];
    const b = phases[m.to];
    if (a !== undefined && b !== undefined) out[m.metric] = r3(b - a);
  }
  return out;
}
