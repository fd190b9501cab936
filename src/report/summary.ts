import type { DensityResult, ResultsFile, RowContext, ThroughputResult } from '../experiments/types.js';
import type { Summary } from '../stats/summary.js';
import { baselineOf, headerOf, inIsolationOrder, nounOf, orderedBackends } from './backends.js';
import { MIB, ratioText, scaleSummary } from './format.js';
import { intervalOf, overlaps, rangeOf, type Interval } from './intervals.js';
import { fmt, missing, MISSING, table, type Align } from './markdown.js';

/** One backend's value of a headline figure, with the interval its comparisons use. */
export interface Estimate {
  /** The value (a median, or a fitted parameter). */
  value: number | null;
  /** Its 95% confidence interval; null when there is none (n < 6). */
  interval: Interval | null;
  /** For 2–5 values: their min–max range, shown but never compared. */
  range?: Interval | null;
  /** Number of values behind it. */
  n: number;
  /** Extra text after the value (e.g. "at P=2"). */
  note?: string;
  /** A count, not a statistic: shown without n or interval. */
  exact?: boolean;
  /** The whole text, already formatted (no interval or ratio is added). */
  text?: string;
  /** Why there is no interval although n ≥ 6 (e.g. a fitted rate whose interval is unbounded). */
  noCiWhy?: string;
}

/** Why a backend has no figure, when the data says so (e.g. a fit's note). */
export interface Missing {
  /** The reason. */
  missing: string;
}

/** One headline figure: its title and each backend's value as text. */
export interface Headline {
  /** What is compared, with its unit, e.g. "Start-up (warm), requested → executor ready, ms". */
  title: string;
  /** Per backend, in isolation order: the value with its interval and, when told apart, its ratio to the baseline. */
  cells: { backend: string; estimate: Estimate | null; text: string; ratio: number | null }[];
}

/** An estimate from a summary (its median and interval). */
export function fromSummary(s: Summary | null | undefined): Estimate | null {
  if (!s || s.median === null) return null;
  return { value: s.median, interval: intervalOf(s), range: rangeOf(s), n: s.n };
}

/** Why a backend has no figure in an experiment: not usable, or its configuration's reason. */
function whyMissing(res: ResultsFile, rows: readonly RowContext[], backend: string): string {
  const info = res.backends.find((x) => x.name === backend);
  if (info && !info.usable) return `skipped: ${info.health}: ${info.description}`;
  const r = rows.find((x) => x.backend === backend && x.reason);
  return r?.reason ? `${r.status}: ${r.reason}` : 'no measurement';
}

/**
 * The text of one estimate against the baseline's: value and interval, then "= 1.3× process" only
 * when both intervals exist and do not overlap; otherwise why no ratio is stated.
 */
export function compared(
  e: Estimate, base: Estimate | null, baseNoun: string | null, digits: number, unit: string,
): { text: string; ratio: number | null } {
  const f = (x: number): string => fmt(x, digits);
  const u = unit === '×' ? '×' : unit ? ` ${unit}` : '';
  if (e.text) return { text: e.text, ratio: null };
  const i = e.interval;
  const r0 = e.range;
  const iv = e.exact ? '' : i ? ` [${f(i.low)}, ${f(i.high)}]` : r0 ? ` (n=${e.n}, range ${f(r0.low)}–${f(r0.high)}, no CI)`
    : e.noCiWhy ? ` (no CI: ${e.noCiWhy})` : ` (n=${e.n}, no CI)`;
  const head = `${f(e.value!)}${u}${iv}${e.note ? ` ${e.note}` : ''}`;
  if (!base || !baseNoun || base.value === null) return { text: head, ratio: null };
  if (!i || !base.interval) {
    const why = !i ? (e.noCiWhy ? 'no CI' : e.n < 6 ? 'n < 6: no CI' : 'no CI') : `no CI for ${baseNoun}`;
    return { text: `${head}, no ratio to ${baseNoun} (${why})`, ratio: null };
  }
  if (overlaps(i, base.interval)) return { text: `${head}, not measurably different from ${baseNoun} (intervals overlap)`, ratio: null };
  if (e.value! <= 0 || base.value <= 0) return { text: head, ratio: null };
  const r = e.value! / base.value;
  return { text: `${head} = ${ratioText(r)} ${baseNoun}`, ratio: r };
}

/** The figure per backend; every backend of the run appears, a missing one with its reason. */
function headline(
  res: ResultsFile, title: string, unit: string, digits: number, rows: readonly RowContext[],
  get0: (backend: string) => Estimate | Missing | null, withRatio = true,
): Headline {
  const why = new Map<string, string>();
  const get = (b: string): Estimate | null => {
    const v = get0(b);
    if (v && 'missing' in v) {
      why.set(b, v.missing);
      return null;
    }
    return v;
  };
  const base = baselineOf(res);
  const baseEst = base && withRatio ? get(base.name) : null;
  const baseNoun = base && withRatio ? nounOf(res, base.name) : null;
  return {
    title,
    cells: res.backends.map((b) => {
      const e = get(b.name);
      if (!e || e.value === null) return { backend: b.name, estimate: null, text: missing(why.get(b.name) ?? whyMissing(res, rows, b.name)), ratio: null };
      const c = b.name === base?.name ? compared(e, null, null, digits, unit) : compared(e, baseEst, baseNoun, digits, unit);
      return { backend: b.name, estimate: e, ...c };
    }),
  };
}

/** The throughput result of the P comparison for a backend at parallelism p (the common size). */
export function parallelRow(res: ResultsFile, backend: string, p: number): ThroughputResult | undefined {
  const rows = res.throughput.filter((r) => r.backend === backend && r.parallelism === p);
  return rows.find((r) => r.role === 'parallel' || r.role === 'both') ?? rows[rows.length - 1];
}

/** The largest K every backend with PSS reached (memory per instance depends on K: PSS shares pages). */
function commonK(density: readonly DensityResult[], has: (r: DensityResult, k: number) => boolean): number | null {
  const ks = density.map((r) => Math.max(0, ...r.steps.filter((s) => has(r, s.k)).map((s) => s.k))).filter((k) => k > 0);
  return ks.length > 0 ? Math.min(...ks) : null;
}

/** The headline figures of a run (pure; from results.json alone). */
export function headlines(res0: ResultsFile): Headline[] {
  const res = inIsolationOrder(res0);
  const has = (e: string): boolean => res.settings.experiments.includes(e as never);
  const out: Headline[] = [];
  if (has('startup')) {
    const st = (b: string) => res.startup.find((r) => r.backend === b);
    out.push(headline(res, 'Start-up, warm: requested → executor ready (ms, median [95% CI])', 'ms', 1, res.startup, (b) => fromSummary(st(b)?.summary.requestedToReady)));
    out.push(headline(res, 'Start-up, cold or first run: requested → executor ready (ms)', 'ms', 1, res.startup, (b) => fromSummary(st(b)?.cold?.summary.requestedToReady)));
    out.push(headline(res, 'CPU time of one start-up task, isolation layer\'s count (CPU-seconds)', 's', 3, res.startup, (b) => fromSummary(st(b)?.usage?.cpuSeconds)));
  }
  if (has('density')) {
    const dr = (b: string) => res.density.find((r) => r.backend === b);
    const k = commonK(res.density, (r, kk) => (r.steps.find((s) => s.k === kk)?.summary.pssPerInstanceMiB.n ?? 0) > 0);
    if (k !== null) {
      out.push(headline(res, `Memory per idle instance at K=${k}: PSS (MiB)`, 'MiB', 1, res.density,
        (b) => fromSummary(dr(b)?.steps.find((s) => s.k === k)?.summary.pssPerInstanceMiB)));
    }
    out.push(headline(res, 'Density: instances reached (K) and why it stopped', '', 0, res.density, (b) => {
      const r = dr(b);
      return r && r.kReached > 0 ? { value: r.kReached, interval: null, n: 1, exact: true, text: `K=${r.kReached}; stopped: ${r.stopReason}` } : null;
    }, false));
    const kr = commonK(res.density, (r, kk) => (r.steps.find((s) => s.k === kk)?.summary.rate.n ?? 0) > 0);
    if (kr !== null) {
      out.push(headline(res, `Launch rate, K=${kr} at once (instances/s)`, 'instances/s', 2, res.density,
        (b) => fromSummary(dr(b)?.steps.find((s) => s.k === kr)?.summary.rate)));
    }
  }
  if (has('throughput')) {
    for (const p of [1, 2]) {
      out.push(headline(res, `Wordcount job time at P=${p} (s)`, 's', 2, res.throughput, (b) => fromSummary(parallelRow(res, b, p)?.summary.jobSeconds)));
    }
    out.push(headline(res, 'Speed-up of P=2 over P=1 (same input; stated only when the two job-time intervals do not overlap)', '×', 2, res.throughput, (b) => {
      const sp = parallelRow(res, b, 2)?.speedup;
      if (!sp || sp.ratio === null) return null;
      const iv = sp.interval ? ` [${fmt(sp.interval.low, 2)}, ${fmt(sp.interval.high, 2)}]` : '';
      const text = sp.measurable ? `${fmt(sp.ratio, 2)}×${iv}` : `no measurable speed-up (${fmt(sp.ratio, 2)}×${iv}; ${sp.why ?? 'intervals overlap'})`;
      return { value: sp.ratio, interval: null, n: 0, text };
    }, false));
    out.push(headline(res, 'CPU-seconds per input MB at P=1 (isolation layer\'s count)', 's/MB', 3, res.throughput,
      (b) => fromSummary(parallelRow(res, b, 1)?.summary.cpuSecondsPerMB)));
    out.push(headline(res, 'Peak memory of one map task above its idle baseline at P=1 (MiB)', 'MiB', 1, res.throughput, (b) => {
      const s = parallelRow(res, b, 1)?.summary.memoryAboveBaselineBytes;
      return s ? fromSummary(scaleSummary(s, 1 / MIB)) : null;
    }));
    const fit = (b: string) => res.fits?.find((f) => f.backend === b);
    out.push(headline(res, 'Steady-state counting rate 1/b from time = a + b·bytes (MB/s, higher is better)', 'MB/s', 2, res.throughput, (b) => {
      const f = fit(b);
      if (f && f.mbPerSecond == null) return { missing: f.note ?? 'no fit' };
      return f?.mbPerSecond != null ? {
        value: f.mbPerSecond, interval: f.mbPerSecondInterval ? { ...f.mbPerSecondInterval, kind: 'ci' } : null, n: f.points.length,
        noCiWhy: f.mbPerSecondInterval ? undefined : 'the slope\'s interval reaches 0, so 1/b has no upper bound',
      } : null;
    }));
    out.push(headline(res, 'Fixed cost per job a from the same fit (s)', 's', 2, res.throughput, (b) => {
      const f = fit(b);
      if (f && f.fixedSeconds == null) return { missing: f.note ?? 'no fit' };
      return f?.fixedSeconds != null ? {
        value: f.fixedSeconds, interval: f.fixedInterval ? { ...f.fixedInterval, kind: 'ci' } : null, n: f.points.length,
        noCiWhy: f.fixedInterval ? undefined : 'fewer than 3 points',
      } : null;
    }));
  }
  return out.filter((h) => h.cells.some((c) => c.estimate !== null));
}

/** The summary as sentences: one line per headline figure naming each backend (a TCG VM as "VM (TCG: emulated, not virtualised)"). */
export function summaryLines(res0: ResultsFile): string[] {
  const res = inIsolationOrder(res0);
  return headlines(res).map((h) => `${h.title}: ${h.cells.map((c) => `${nounOf(res, c.backend)} ${c.text}`).join('; ')}.`);
}

/** The summary as a table: one row per headline figure, one column per backend along the isolation spectrum. */
export function summaryTable(res0: ResultsFile): string {
  const res = inIsolationOrder(res0);
  const hs = headlines(res);
  if (hs.length === 0) return '';
  const backends = orderedBackends(res).map((b) => b.name);
  return table(
    ['figure', ...backends.map((b) => headerOf(res, b))],
    hs.map((h) => [h.title, ...backends.map((b) => h.cells.find((c) => c.backend === b)?.text ?? MISSING)]),
    ['l', ...backends.map((): Align => 'r')],
  );
}
