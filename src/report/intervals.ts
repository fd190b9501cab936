import type { Summary } from '../stats/summary.js';

/** Where a median plausibly lies (its confidence interval), or, for display only, a small sample's range. */
export interface Interval {
  /** Lower end. */
  low: number;
  /** Upper end. */
  high: number;
  /** `ci`: the summary's confidence interval of the median; `range`: min to max of a sample too small for one (shown, never compared). */
  kind: 'ci' | 'range';
}

/**
 * The interval comparisons use: the summary's 95% CI of the median, which exists from n = 6 (order
 * statistics). Null below that: such a figure is shown with its range but never compared, in the
 * summary as in `compare`.
 */
export function intervalOf(s: Summary | null | undefined): Interval | null {
  if (!s || s.n === 0 || s.median === null) return null;
  if (s.ciLow !== null && s.ciHigh !== null && s.n > 1) return { low: s.ciLow, high: s.ciHigh, kind: 'ci' };
  return null;
}

/** The min–max range of a sample of 2–5 values (too small for a CI), for display; null otherwise. */
export function rangeOf(s: Summary | null | undefined): Interval | null {
  if (!s || s.n < 2 || s.min === null || s.max === null || intervalOf(s)) return null;
  return { low: s.min, high: s.max, kind: 'range' };
}

/** True when two closed intervals share at least one point. */
export function overlaps(a: Interval, b: Interval): boolean {
  return a.low <= b.high && b.low <= a.high;
}

/** How two summaries compare: told apart (their intervals do not overlap), not told apart, or no interval to tell. */
export type Separation = 'apart' | 'overlap' | 'no-interval';

/** Whether the medians of two summaries can be told apart by their intervals. */
export function separation(a: Summary | null | undefined, b: Summary | null | undefined): Separation {
  const ia = intervalOf(a);
  const ib = intervalOf(b);
  if (!ia || !ib) return 'no-interval';
  return overlaps(ia, ib) ? 'overlap' : 'apart';
}

/** The interval as text, e.g. "[93.1, 99.0]", with a mark when it is a min–max range. */
export function intervalText(i: Interval | null, f: (x: number) => string): string {
  if (!i) return '';
  return i.kind === 'ci' ? `[${f(i.low)}, ${f(i.high)}]` : `[${f(i.low)}, ${f(i.high)}] (range)`;
}
