import type { RowContext } from '../experiments/types.js';
import type { Summary } from '../stats/summary.js';
import { intervalOf, rangeOf } from './intervals.js';
import { fmt, MISSING, type Align, type Cell } from './markdown.js';

/** Bytes in a MiB. */
export const MIB = 2 ** 20;

/** Bytes in a GiB. */
export const GIB = 2 ** 30;

/** Milliseconds as the report prints them: one decimal. */
export function ms(x: number | null | undefined): string {
  return fmt(x, 1);
}

/** Bytes as MiB. */
export function mib(b: number | null | undefined, digits = 1): string {
  return b === null || b === undefined ? MISSING : fmt(b / MIB, digits);
}

/** A fraction as a percentage. */
export function pct(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined ? MISSING : `${fmt(x * 100, digits)}%`;
}

/** A ratio for sentences: 0 decimals from 10×, 1 from 1×, 2 below. */
export function ratioText(r: number): string {
  return `${fmt(r, r >= 10 ? 0 : r >= 1 ? 1 : 2)}×`;
}

/** A summary with every value in another unit (bytes → MiB, s → ms): `f` must be monotone increasing. */
export function scaleSummary(s: Summary, k: number): Summary {
  const m = (x: number | null): number | null => (x === null ? null : x * k);
  return { ...s, median: m(s.median), p95: m(s.p95), min: m(s.min), max: m(s.max), mean: m(s.mean), stddev: m(s.stddev), ciLow: m(s.ciLow), ciHigh: m(s.ciHigh) };
}

/** "median [low, high]" with its 95% CI, "median (n=3, range a–b, no CI)" below n = 6, "median (n=1)", or "—". */
export function withInterval(s: Summary | null | undefined, f: (x: number) => string): string {
  if (!s || s.median === null) return MISSING;
  const i = intervalOf(s);
  if (i) return `${f(s.median)} [${f(i.low)}, ${f(i.high)}]`;
  const r = rangeOf(s);
  return r ? `${f(s.median)} (n=${s.n}, range ${f(r.low)}–${f(r.high)}, no CI)` : `${f(s.median)} (n=${s.n})`;
}

/** Why a configuration has no figures: `SKIPPED: reason`, `FAILED: reason`, ... */
export function statusReason(r: RowContext): string {
  return `${r.status === 'skipped' ? 'SKIPPED' : r.status.toUpperCase()}: ${r.reason ?? 'no reason recorded'}`;
}

/** Column headers of a statistics table. */
export const STAT_HEADERS = ['n', 'median', '95% CI of median', 'min', 'max', 'p95', 'CV', 'outliers'];

/** Their alignment. */
export const STAT_ALIGN: Align[] = ['r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'];

/** The cells of one summary, in `STAT_HEADERS` order; no CI and no p95 below n = 6 (shown as "n < 6"). */
export function statCells(s: Summary | undefined, f: (x: number | null) => string): Cell[] {
  if (!s || s.n === 0) return [0, MISSING, MISSING, MISSING, MISSING, MISSING, MISSING, MISSING];
  const ci = s.ciLow === null || s.ciHigh === null ? (s.n < 6 ? '— (n < 6)' : MISSING) : `${f(s.ciLow)} – ${f(s.ciHigh)}`;
  return [s.n, f(s.median), ci, f(s.min), f(s.max), s.p95 === null ? MISSING : f(s.p95), pct(s.cv), s.outliers.length];
}
