import type { ResultsFile } from '../experiments/types.js';
import { intervalOf, intervalText, overlaps } from './intervals.js';
import { blocks, bulletList, fmt, heading, MISSING, table, type Cell } from './markdown.js';
import { metricRows, type MetricRow } from './metrics.js';

/** What became of one metric between the base run and the new one. */
export type Verdict =
  /** Worse beyond the threshold, and the two intervals do not overlap: the gate fails. */
  | 'regression'
  /** Worse beyond the threshold, but the intervals overlap: not told apart from noise. */
  | 'worse, within noise'
  /** Better beyond the threshold, and the intervals do not overlap. */
  | 'improvement'
  /** Better beyond the threshold, but the intervals overlap. */
  | 'better, within noise'
  /** The medians differ by no more than the threshold. */
  | 'unchanged'
  /** A median, but no interval in one run (fewer than 2 values): cannot be judged. */
  | 'no interval'
  /** Measured in one run only. */
  | 'missing'
  /** A figure with no better direction (e.g. host CPU %): shown, never judged. */
  | 'not judged';

/** One metric of both runs, judged. */
export interface CompareRow {
  /** The metric in the base run, if measured there. */
  base?: MetricRow;
  /** The metric in the new run, if measured there. */
  next?: MetricRow;
  /** new / base of the medians, when both exist and base ≠ 0. */
  ratio: number | null;
  /** How much worse the new median is, as a fraction (negative = better); null when not computable. */
  worseBy: number | null;
  /** The verdict. */
  verdict: Verdict;
}

/** Options of `compareRuns`. */
export interface CompareOptions {
  /** A median this much worse (a fraction: 0.1 = 10 %) is a regression when the intervals do not overlap too. */
  maxRegression: number;
}

/** The default threshold: 10 %. */
export const DEFAULT_MAX_REGRESSION = 0.1;

function key(r: MetricRow): string {
  return [r.experiment, r.backend, r.config, r.metric].join('\u0000');
}

/** Judges one metric; pure. */
export function judge(base: MetricRow | undefined, next: MetricRow | undefined, opts: CompareOptions): CompareRow {
  const mb = base?.summary.median ?? null;
  const mn = next?.summary.median ?? null;
  if (mb === null || mn === null) return { base, next, ratio: null, worseBy: null, verdict: 'missing' };
  const ratio = mb !== 0 ? mn / mb : null;
  const better = (base ?? next)!.better;
  if (better === 'none' || mb === 0) return { base, next, ratio, worseBy: null, verdict: 'not judged' };
  const change = (mn - mb) / Math.abs(mb);
  const worseBy = better === 'lower' ? change : -change;
  const ib = intervalOf(base!.summary);
  const inext = intervalOf(next!.summary);
  let verdict: Verdict;
  if (Math.abs(worseBy) <= opts.maxRegression) verdict = 'unchanged';
  else if (!ib || !inext) verdict = 'no interval';
  else if (overlaps(ib, inext)) verdict = worseBy > 0 ? 'worse, within noise' : 'better, within noise';
  else verdict = worseBy > 0 ? 'regression' : 'improvement';
  return { base, next, ratio, worseBy, verdict };
}

/** Every metric of both runs, matched by experiment, backend, configuration and metric, and judged. */
export function compareRuns(a: ResultsFile, b: ResultsFile, opts: CompareOptions): CompareRow[] {
  const ra = metricRows(a);
  const rb = new Map(metricRows(b).map((r) => [key(r), r]));
  const seen = new Set<string>();
  const out: CompareRow[] = [];
  for (const x of ra) {
    seen.add(key(x));
    out.push(judge(x, rb.get(key(x)), opts));
  }
  for (const [k, y] of rb) if (!seen.has(k)) out.push(judge(undefined, y, opts));
  return out;
}

function describe(label: string, res: ResultsFile): string {
  const e = res.environment;
  return `${label}: ${res.startedAt} on ${e.hostname} (${e.cpuModel} ×${e.cores}, kernel ${e.kernel}), commit ${e.gitCommit?.slice(0, 12) ?? MISSING}, status ${res.status}`;
}

function name(r: CompareRow): string {
  const m = (r.base ?? r.next)!;
  return `${m.experiment} ${m.backend}${m.config ? ` ${m.config}` : ''} ${m.label}`;
}

/** Two runs compared as Markdown, with the gate's verdict first. */
export function compareMarkdown(a: ResultsFile, b: ResultsFile, labels: [string, string] = ['A', 'B'], opts: CompareOptions = { maxRegression: DEFAULT_MAX_REGRESSION }): string {
  const rows = compareRuns(a, b, opts);
  const pct = `${fmt(opts.maxRegression * 100, opts.maxRegression * 100 < 1 ? 1 : 0)} %`;
  const regressions = rows.filter((r) => r.verdict === 'regression');
  const improvements = rows.filter((r) => r.verdict === 'improvement');
  const noisy = rows.filter((r) => r.verdict === 'worse, within noise');
  const gate = regressions.length > 0
    ? `**Gate: FAIL.** ${regressions.length} metric(s) got worse by more than ${pct} with non-overlapping intervals:`
    : `**Gate: pass.** No metric got worse by more than ${pct} with non-overlapping intervals` +
      `${noisy.length > 0 ? ` (${noisy.length} got worse by more than ${pct} inside overlapping intervals: noise, not a regression)` : ''}.`;
  const cells: Cell[][] = rows.map((r) => {
    const m = (r.base ?? r.next)!;
    const digits = m.unit === 'ms' ? 1 : 3;
    const f = (x: number): string => fmt(x, digits);
    const side = (x: MetricRow | undefined): string => {
      if (!x || x.summary.median === null) return MISSING;
      const i = intervalText(intervalOf(x.summary), f);
      return `${f(x.summary.median)}${i ? ` ${i}` : ''} (n=${x.summary.n})`;
    };
    return [m.experiment, m.backend, m.config, m.label, m.unit, side(r.base), side(r.next), r.ratio === null ? MISSING : `${fmt(r.ratio, 2)}×`, r.verdict];
  });
  return blocks(
    heading('isolab: two runs compared', 1),
    `- ${describe(labels[0], a)}\n- ${describe(labels[1], b)}`,
    gate,
    regressions.length > 0 ? bulletList(regressions.map((r) => `${name(r)}: ${fmt(r.worseBy! * 100, 1)} % worse`)) : '',
    improvements.length > 0 ? `Improvements beyond ${pct} with non-overlapping intervals: ${improvements.map(name).join('; ')}.` : '',
    `Medians with their 95 % confidence interval (order statistics, from n = 6); ratio = ${labels[1]} / ${labels[0]}. A metric ` +
      `is a **regression** when its median got worse by more than ${pct} (slower or more memory; for rates, lower) *and* the ` +
      `two intervals do not overlap; worse inside overlapping intervals is noise. "no interval" = fewer than 6 values in a ` +
      `run, so there is no interval and it cannot be judged. ${MISSING} = not measured in that run.`,
    table(['experiment', 'backend', 'config', 'metric', 'unit', labels[0], labels[1], `${labels[1]}/${labels[0]}`, 'verdict'], cells, ['l', 'l', 'l', 'l', 'l', 'r', 'r', 'r', 'l']),
  );
}

/** True when the comparison should fail the gate (exit 1). */
export function hasRegression(a: ResultsFile, b: ResultsFile, opts: CompareOptions): boolean {
  return compareRuns(a, b, opts).some((r) => r.verdict === 'regression');
}

/** Parses a threshold like "10%", "10" (percent) or "2.5%" into a fraction; null when not a percentage in [0, 1000]. */
export function parseThreshold(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(text);
  if (!m) return null;
  const v = Number(m[1]);
  return Number.isFinite(v) && v <= 1000 ? v / 100 : null;
}
