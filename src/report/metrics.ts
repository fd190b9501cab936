import { STARTUP_METRICS } from '../experiments/startup.js';
import type {
  ConfigStatus, DensityResult, EnvironmentRef, LaunchRound, ResultsFile, RowContext, ThroughputResult,
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
  /** Which way is better: `lower` (times, memory), `higher` (rates), or `none` (a description, not a cost). */
  better: Better;
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

/** Which way a metric is better. */
export type Better = 'lower' | 'higher' | 'none';

const MIB = 2 ** 20;

/** Units whose larger values are better (rates and ratios of speed). */
const HIGHER_BETTER = new Set(['MB/s', 'instances/s', '×', '1/GiB']);

/** Which way a unit is better: rates higher, times and memory lower, a percentage of host CPU neither. */
export function betterFor(unit: string): Better {
  if (HIGHER_BETTER.has(unit)) return 'higher';
  return unit === '%' ? 'none' : 'lower';
}

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

/** PSS per instance (MiB) over every serial round of a density result (the figure the summary compares). */
export function densityPssMiB(r: DensityResult): number[] {
  return r.steps.flatMap((s) => pssMiB(s.serial));
}

/** Median job time at P=1 divided by the median job time at each P, per backend. */
export function speedups(results: readonly ThroughputResult[]): Map<ThroughputResult, number | null> {
  const out = new Map<ThroughputResult, number | null>();
  for (const r of results) {
    const base = results.find((x) => x.backend === r.backend && x.parallelism === 1)?.summary.jobSeconds.median ?? null;
    const here = r.summary.jobSeconds.median;
    out.set(r, base !== null && here !== null && here > 0 ? base / here : null);
  }
  return out;
}

/** Every metric of a run, flattened: start-up intervals, density per K, throughput per P. */
export function metricRows(res: ResultsFile): MetricRow[] {
  const rows: Omit<MetricRow, 'better'>[] = [];
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
      const drop = s.serial.availableDropPerInstanceBytes;
      rows.push(
        { ...c, metric: 'pssPerInstance', label: 'PSS per instance', unit: 'MiB', summary: summarize(pssMiB(s.serial)) },
        { ...c, metric: 'availableDropPerInstance', label: 'host available memory drop per instance', unit: 'MiB', summary: one(drop === null ? null : drop / MIB) },
        { ...c, metric: 'instancesPerGiB', label: 'instances per GiB (PSS)', unit: '1/GiB', summary: one(instancesPerGiB(s.serial)) },
        { ...c, metric: 'launchMsSerial', label: 'launch → executor ready, serial', unit: 'ms', summary: summarize(s.serial.launchMs) },
        { ...c, metric: 'launchRateSerial', label: 'launch rate, serial', unit: 'instances/s', summary: one(s.serial.rate) },
        { ...c, metric: 'launchRateParallel', label: 'launch rate, parallel', unit: 'instances/s', summary: one(s.parallel?.rate) },
      );
    }
  }
  const sp = speedups(res.throughput);
  for (const r of res.throughput) {
    const c = { ...ctxOf(r), experiment: 'throughput', config: `P=${r.parallelism}` };
    rows.push(
      { ...c, metric: 'jobSeconds', label: 'job time', unit: 's', summary: r.summary.jobSeconds },
      { ...c, metric: 'startupSeconds', label: 'start-up (first offer → first executor ready)', unit: 's', summary: r.summary.startupSeconds },
      { ...c, metric: 'steadySeconds', label: 'steady state (rest of the job)', unit: 's', summary: r.summary.steadySeconds },
      { ...c, metric: 'mbPerSecond', label: 'throughput', unit: 'MB/s', summary: r.summary.mbPerSecond },
      { ...c, metric: 'speedup', label: 'speed-up vs P=1 (median job times)', unit: '×', summary: one(sp.get(r)) },
      { ...c, metric: 'meanCpuPct', label: 'host CPU busy, mean', unit: '%', summary: one(r.meanCpuPct) },
    );
  }
  return rows.map((r) => ({ ...r, better: betterFor(r.unit) }));
}

/** Median of a metric row, or null. */
export function rowMedian(rows: readonly MetricRow[], experiment: string, backend: string, config: string, metric: string): number | null {
  return rows.find((r) => r.experiment === experiment && r.backend === backend && r.config === config && r.metric === metric)?.summary.median ?? null;
}

/** Median of numbers, or null for none. */
export function medianOrNull(xs: readonly number[]): number | null {
  return xs.length === 0 ? null : median(xs);
}
