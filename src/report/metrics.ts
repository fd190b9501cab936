import { STARTUP_METRICS } from '../experiments/startup.js';
import type {
  ConfigStatus, DensityResult, DensityStep, EnvironmentRef, LaunchRound, ResultsFile, RowContext, ThroughputResult,
} from '../experiments/types.js';
import { median } from '../stats/descriptive.js';
import { emptySummary, summarize, type Summary } from '../stats/summary.js';
import type { LimitsEnforced } from '../backends/backend.js';
import type { Resources } from '../master/resources.js';

/** One measured quantity of one configuration: the unit of results.csv and of `compare`. */
export interface MetricRow {
  /** startup, density or throughput. */
  experiment: string;
  /** Backend. */
  backend: string;
  /** kvm | tcg | none. */
  accelerator: string;
  /** Configuration within the experiment: '' (start-up), 'K=4' (density), 'P=2' (throughput). */
  config: string;
  /** Metric id, stable across runs. */
  metric: string;
  /** Human label. */
  label: string;
  /** Unit of the values. */
  unit: string;
  /** Statistics (a single value is a sample of one). */
  summary: Summary;
  /** Configuration status. */
  status: ConfigStatus;
  /** Why not done. */
  reason?: string;
  /** Limits requested. */
  limitsRequested: Resources;
  /** Limits enforced. */
  limitsEnforced: LimitsEnforced | null;
  /** The machine. */
  environment: EnvironmentRef;
}

const MIB = 2 ** 20;

function one(v: number | null | undefined): Summary {
  return v === null || v === undefined || !Number.isFinite(v) ? emptySummary() : summarize([v]);
}

function ctxOf(r: RowContext): Pick<MetricRow, 'backend' | 'accelerator' | 'status' | 'reason' | 'limitsRequested' | 'limitsEnforced' | 'environment'> {
  return {
    backend: r.backend, accelerator: r.accelerator, status: r.status, reason: r.reason, limitsRequested: r.limitsRequested,
    limitsEnforced: r.limitsEnforced, environment: r.environment,
  };
}

/** PSS per instance (MiB) of a launch round, over the instances that could be read. */
export function pssMiB(r: LaunchRound): number[] {
  return r.pssBytes.filter((v): v is number => v !== null).map((v) => v / MIB);
}

/** Instances per GiB of host memory, from the mean PSS per instance; null when unknown. */
export function instancesPerGiB(r: LaunchRound): number | null {
  const xs = pssMiB(r);
  if (xs.length === 0) return null;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return mean > 0 ? 1024 / mean : null;
}

/**
 * The rounds of a density step pooled into one: every instance of every round, the median of the
 * rounds' rates and available-memory drops (schema 3 launches each K several times, all at once).
 */
export function pooledRound(s: DensityStep): LaunchRound {
  const rs = s.rounds;
  const med = (xs: (number | null)[]): number | null => {
    const v = xs.filter((x): x is number => x !== null);
    return v.length > 0 ? median(v) : null;
  };
  return {
    mode: rs[0]?.mode ?? 'parallel', k: s.k, ready: rs.reduce((a, r) => a + r.ready, 0),
    seconds: med(rs.map((r) => r.seconds)), rate: med(rs.map((r) => r.rate)), launchMs: rs.flatMap((r) => r.launchMs),
    pssBytes: rs.flatMap((r) => r.pssBytes), pids: rs.flatMap((r) => r.pids), statsMemoryBytes: rs.flatMap((r) => r.statsMemoryBytes),
    availableBeforeBytes: null, availableAfterBytes: null, availableDropPerInstanceBytes: med(rs.map((r) => r.availableDropPerInstanceBytes)),
    teardownSeconds: med(rs.map((r) => r.teardownSeconds)), error: rs.find((r) => r.error)?.error,
  };
}

/** PSS per instance (MiB) over every round of a density result (the figure the summary compares). */
export function densityPssMiB(r: DensityResult): number[] {
  return r.steps.flatMap((s) => pssMiB(pooledRound(s)));
}

/** Median job time at P=1 divided by the median job time at each P, per backend. */
export function speedups(results: readonly ThroughputResult[]): Map<ThroughputResult, number | null> {
  const out = new Map<ThroughputResult, number | null>();
  for (const r of results) {
    const base = results.find((x) => x.backend === r.backend && x.parallelism === 1 && x.bytes === r.bytes)?.summary.jobSeconds.median ?? null;
    const here = r.summary.jobSeconds.median;
    out.set(r, base !== null && here !== null && here > 0 ? base / here : null);
  }
  return out;
}

/** Every metric of a run, flattened: start-up intervals, density per K, throughput per P. */
export function metricRows(res: ResultsFile): MetricRow[] {
  const rows: MetricRow[] = [];
  for (const r of res.startup) {
    for (const m of STARTUP_METRICS) {
      rows.push({ ...ctxOf(r), experiment: 'startup', config: '', metric: m.metric, label: m.label, unit: 'ms', summary: r.summary[m.metric] ?? emptySummary() });
    }
    for (const [name, s] of Object.entries(r.backendPhases)) {
      rows.push({ ...ctxOf(r), experiment: 'startup', config: '', metric: `phase:${name}`, label: `offer → ${name} (backend phase)`, unit: 'ms', summary: s });
    }
  }
  for (const r of res.density) {
    if (r.steps.length === 0) {
      rows.push({ ...ctxOf(r), experiment: 'density', config: '', metric: 'pssPerInstance', label: 'PSS per instance', unit: 'MiB', summary: emptySummary() });
    }
    for (const s of r.steps) {
      const c = { ...ctxOf(r), experiment: 'density', config: `K=${s.k}` };
      const pooled = pooledRound(s);
      rows.push(
        { ...c, metric: 'pssPerInstance', label: 'PSS per instance', unit: 'MiB', summary: s.summary.pssPerInstanceMiB },
        { ...c, metric: 'availableDropPerInstance', label: 'host available memory drop per instance', unit: 'MiB', summary: s.summary.availableDropPerInstanceMiB },
        { ...c, metric: 'instancesPerGiB', label: 'instances per GiB (PSS)', unit: '1/GiB', summary: one(instancesPerGiB(pooled)) },
        { ...c, metric: 'launchMs', label: 'launch → executor ready, K at once', unit: 'ms', summary: s.summary.launchMs },
        { ...c, metric: 'launchRate', label: 'launch rate, K at once', unit: 'instances/s', summary: s.summary.rate },
      );
    }
  }
  const sp = speedups(res.throughput);
  for (const r of res.throughput) {
    const c = { ...ctxOf(r), experiment: 'throughput', config: `P=${r.parallelism} ${r.bytes}B` };
    rows.push(
      { ...c, metric: 'jobSeconds', label: 'job time', unit: 's', summary: r.summary.jobSeconds },
      { ...c, metric: 'startupSeconds', label: 'start-up (first offer → first executor ready)', unit: 's', summary: r.summary.startupSeconds },
      { ...c, metric: 'steadySeconds', label: 'steady state (rest of the job)', unit: 's', summary: r.summary.steadySeconds },
      { ...c, metric: 'mbPerSecond', label: 'throughput', unit: 'MB/s', summary: r.summary.mbPerSecond },
      { ...c, metric: 'speedup', label: 'speed-up vs P=1 (median job times)', unit: '×', summary: one(sp.get(r)) },
      { ...c, metric: 'meanCpuPct', label: 'host CPU busy, mean', unit: '%', summary: one(r.meanCpuPct) },
    );
  }
  return rows;
}

/** Median of a metric row, or null. */
export function rowMedian(rows: readonly MetricRow[], experiment: string, backend: string, config: string, metric: string): number | null {
  return rows.find((r) => r.experiment === experiment && r.backend === backend && r.config === config && r.metric === metric)?.summary.median ?? null;
}

/** Median of numbers, or null for none. */
export function medianOrNull(xs: readonly number[]): number | null {
  return xs.length === 0 ? null : median(xs);
}
