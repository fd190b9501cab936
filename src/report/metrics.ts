import { STARTUP_METRICS } from '../experiments/intervals.js';
import type {
  ConfigStatus, EnvironmentRef, ResultsFile, RowContext, ThroughputResult,
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

/** A fitted value with its interval, as a summary (median = the estimate) so it can sit in results.csv and compare. */
function estimate(value: number | null, interval: { low: number; high: number } | null, n: number): Summary {
  if (value === null || !Number.isFinite(value)) return emptySummary();
  return { ...emptySummary(), n, median: value, min: value, max: value, mean: value, ciLow: interval?.low ?? null, ciHigh: interval?.high ?? null };
}

/** A throughput configuration's name: "P=2", with the input size when the backend ran several. */
function tpConfig(res: ResultsFile, r: ThroughputResult): string {
  const sizes = new Set(res.throughput.filter((x) => x.backend === r.backend).map((x) => x.bytes));
  return sizes.size > 1 ? `P=${r.parallelism} ${Math.round(r.bytes / 1e6)}MB` : `P=${r.parallelism}`;
}

/** Every metric of a run, flattened: start-up intervals (warm and cold), per-task usage, launch series, density per K, throughput per P and size, fits. */
export function metricRows(res: ResultsFile): MetricRow[] {
  const rows: Omit<MetricRow, 'better'>[] = [];
  for (const r of res.startup) {
    for (const m of STARTUP_METRICS) {
      rows.push({ ...ctxOf(r), experiment: 'startup', config: 'warm', metric: m.metric, label: m.label, unit: 'ms', summary: r.summary[m.metric] ?? emptySummary() });
      const c = r.cold?.summary[m.metric];
      if (c) rows.push({ ...ctxOf(r), experiment: 'startup', config: 'cold', metric: m.metric, label: `${m.label} (${r.cold!.kind})`, unit: 'ms', summary: c });
    }
    const u = r.usage;
    if (u) {
      rows.push(
        { ...ctxOf(r), experiment: 'startup', config: 'warm', metric: 'cpuSeconds', label: 'CPU-seconds of the task (isolation layer)', unit: 's', summary: u.cpuSeconds },
        { ...ctxOf(r), experiment: 'startup', config: 'warm', metric: 'peakMemory', label: 'peak memory of the instance', unit: 'MiB', summary: mibOf(u.peakMemoryBytes) },
        { ...ctxOf(r), experiment: 'startup', config: 'warm', metric: 'readyMemory', label: 'memory of the instance at ready', unit: 'MiB', summary: mibOf(u.readyMemoryBytes) },
      );
    }
    for (const [name, s] of Object.entries(r.backendPhases)) {
      rows.push({ ...ctxOf(r), experiment: 'startup', config: 'warm', metric: `phase:${name}`, label: `offer → ${name} (backend mark)`, unit: 'ms', summary: s });
    }
    for (const s of r.series ?? []) {
      rows.push(
        { ...ctxOf(r), experiment: 'startup', config: `series ${s.mode} N=${s.n}`, metric: 'requestedToReady', label: 'requested → ready per instance', unit: 'ms', summary: s.summary.requestedToReady ?? emptySummary() },
        { ...ctxOf(r), experiment: 'startup', config: `series ${s.mode} N=${s.n}`, metric: 'rate', label: 'launch rate of the series', unit: 'instances/s', summary: one(s.rate) },
      );
    }
  }
  for (const r of res.density) {
    if (r.steps.length === 0) {
      rows.push({ ...ctxOf(r), experiment: 'density', config: '', metric: 'pssPerInstance', label: 'PSS per instance', unit: 'MiB', summary: emptySummary() });
    }
    for (const s of r.steps) {
      const c = { ...ctxOf(r), experiment: 'density', config: `K=${s.k}` };
      rows.push(
        { ...c, metric: 'pssPerInstance', label: 'PSS per instance', unit: 'MiB', summary: s.summary.pssPerInstanceMiB },
        { ...c, metric: 'availableDropPerInstance', label: 'host available memory drop per instance', unit: 'MiB', summary: s.summary.availableDropPerInstanceMiB },
        { ...c, metric: 'launchMs', label: 'launch → executor ready per instance, K at once', unit: 'ms', summary: s.summary.launchMs },
        { ...c, metric: 'launchRate', label: 'launch rate, K at once', unit: 'instances/s', summary: s.summary.rate },
      );
    }
    if (r.kReached > 0) rows.push({ ...ctxOf(r), experiment: 'density', config: '', metric: 'kReached', label: `instances reached (${r.stopKind})`, unit: 'instances', summary: one(r.kReached) });
  }
  for (const r of res.throughput) {
    const c = { ...ctxOf(r), experiment: 'throughput', config: tpConfig(res, r) };
    const u = r.summary;
    rows.push(
      { ...c, metric: 'jobSeconds', label: 'job time', unit: 's', summary: u.jobSeconds },
      { ...c, metric: 'startupSeconds', label: 'start-up (first offer → first executor ready)', unit: 's', summary: u.startupSeconds },
      { ...c, metric: 'steadySeconds', label: 'steady state (rest of the job)', unit: 's', summary: u.steadySeconds },
      { ...c, metric: 'mbPerSecond', label: 'throughput', unit: 'MB/s', summary: u.mbPerSecond },
    );
    if (u.cpuSeconds) rows.push({ ...c, metric: 'cpuSeconds', label: 'CPU-seconds, all map tasks (isolation layer)', unit: 's', summary: u.cpuSeconds });
    if (u.cpuSecondsPerMB) rows.push({ ...c, metric: 'cpuSecondsPerMB', label: 'CPU-seconds per input MB', unit: 's/MB', summary: u.cpuSecondsPerMB });
    if (u.memoryAboveBaselineBytes) rows.push({ ...c, metric: 'memoryAboveBaseline', label: 'peak memory above idle, largest map task', unit: 'MiB', summary: mibOf(u.memoryAboveBaselineBytes) });
    if (u.teardownSeconds) rows.push({ ...c, metric: 'teardownSeconds', label: 'teardown after the job', unit: 's', summary: u.teardownSeconds });
    if (r.speedup && r.speedup.ratio !== null) {
      rows.push({ ...c, metric: 'speedup', label: `speed-up vs P=1${r.speedup.measurable ? '' : ' (not measurable: intervals overlap)'}`, unit: '×', summary: estimate(r.speedup.ratio, r.speedup.interval, 1) });
    }
    rows.push({ ...c, metric: 'meanCpuPct', label: 'host CPU busy, mean', unit: '%', summary: one(r.meanCpuPct) });
  }
  for (const f of res.fits ?? []) {
    const ctx = res.throughput.find((r) => r.backend === f.backend);
    if (!ctx) continue;
    const c = { ...ctxOf(ctx), experiment: 'throughput', config: 'fit P=1' };
    rows.push(
      { ...c, metric: 'fixedSeconds', label: 'fixed cost a of time = a + b·bytes', unit: 's', summary: estimate(f.fixedSeconds, f.fixedInterval, f.points.length) },
      { ...c, metric: 'fitMBps', label: 'steady rate 1/b of time = a + b·bytes', unit: 'MB/s', summary: estimate(f.mbPerSecond, f.mbPerSecondInterval, f.points.length) },
    );
  }
  return rows.map((r) => ({ ...r, better: betterFor(r.unit) }));
}

function mibOf(s: Summary): Summary {
  const m = (x: number | null): number | null => (x === null ? null : x / MIB);
  return { ...s, median: m(s.median), p95: m(s.p95), min: m(s.min), max: m(s.max), mean: m(s.mean), stddev: m(s.stddev), ciLow: m(s.ciLow), ciHigh: m(s.ciHigh) };
}

/** Median of a metric row, or null. */
export function rowMedian(rows: readonly MetricRow[], experiment: string, backend: string, config: string, metric: string): number | null {
  return rows.find((r) => r.experiment === experiment && r.backend === backend && r.config === config && r.metric === metric)?.summary.median ?? null;
}

/** Median of numbers, or null for none. */
export function medianOrNull(xs: readonly number[]): number | null {
  return xs.length === 0 ? null : median(xs);
}
