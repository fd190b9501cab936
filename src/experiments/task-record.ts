import type { TaskResultData } from '../agent/agent.js';
import type { TaskUsage } from '../backends/backend.js';
import { LEGACY_PHASE_NAMES } from '../backends/phases.js';
import { emptySummary, summarize, type Summary } from '../stats/summary.js';
import type { TaskDerived, TaskRecord, UsageSummary } from './types.js';
import { round } from './util.js';

/** Figures derived from a task's phases and usage. */
export function deriveTask(phases: Record<string, number>, usage: TaskUsage | null | undefined, inputBytes: number): TaskDerived {
  const cpu = usage?.cpuSeconds ?? null;
  const peak = usage?.peakMemoryBytes ?? null;
  const ready = usage?.readyMemoryBytes ?? null;
  const span = (a: string, b: string): number | null =>
    phases[a] !== undefined && phases[b] !== undefined ? round(phases[b]! - phases[a]!, 3) : null;
  return {
    inputBytes,
    cpuSecondsPerMB: cpu !== null && inputBytes > 0 ? round(cpu / (inputBytes / 1e6), 6) : null,
    memoryAboveBaselineBytes: peak !== null && ready !== null ? peak - ready : null,
    taskMs: span('requested', 'workDone'),
    teardownMs: span('workDone', 'cleaned'),
  };
}

/** A task's record from the agent's complete (task-end) data. */
export function taskRecord(taskId: string, data: TaskResultData | undefined, inputBytes: number): TaskRecord {
  const phases = { ...(data?.phases ?? {}) };
  const usage = data?.usage ?? null;
  return {
    taskId, instanceId: data?.instanceId, phases, exit: data?.exit, usage: usage ? thinTimeline(usage) : null,
    derived: deriveTask(phases, usage, inputBytes), ...(data?.error ? { error: data.error } : {}),
  };
}

/** The usage with its timeline rounded for results.json (ms to 0.1, CPU to µs). */
function thinTimeline(u: TaskUsage): TaskUsage {
  return {
    ...u,
    timeline: u.timeline.map((p) => ({ at: p.at, cpuSeconds: p.cpuSeconds === null ? null : round(p.cpuSeconds, 6), memoryBytes: p.memoryBytes })),
  };
}

/** Phases of results written before schema 3, renamed to the standard names (`started` → `running`). */
export function renameLegacyPhases(phases: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(phases)) {
    const std = LEGACY_PHASE_NAMES[k];
    if (std) out[std] ??= v;
    else out[k] = v;
  }
  return out;
}

/** Statistics of the accounting of some task records. */
export function summarizeUsage(tasks: readonly (TaskRecord | undefined)[]): UsageSummary {
  const pick = (f: (t: TaskRecord) => number | null | undefined): Summary => {
    const xs = tasks.map((t) => (t ? f(t) : null)).filter((v): v is number => v !== null && v !== undefined && Number.isFinite(v));
    return xs.length > 0 ? summarize(xs) : emptySummary();
  };
  return {
    cpuSeconds: pick((t) => t.usage?.cpuSeconds),
    peakMemoryBytes: pick((t) => t.usage?.peakMemoryBytes),
    readyMemoryBytes: pick((t) => t.usage?.readyMemoryBytes),
    memoryAboveBaselineBytes: pick((t) => t.derived.memoryAboveBaselineBytes),
    cpuSecondsPerMB: pick((t) => t.derived.cpuSecondsPerMB),
    readBytes: pick((t) => t.usage?.readBytes),
    guestCpuSeconds: pick((t) => t.usage?.guest?.cpuSeconds),
    guestPeakMemoryBytes: pick((t) => t.usage?.guest?.peakMemoryBytes),
  };
}
