import type { Interval } from './bootstrap.js';
import type { Summary } from './summary.js';

/** The interval of a summary's median, or null when it has none. */
export function intervalOf(s: Summary | null | undefined): Interval | null {
  return s && s.ciLow !== null && s.ciHigh !== null ? { low: s.ciLow, high: s.ciHigh } : null;
}

/** True when two intervals share at least one point. */
export function overlaps(a: Interval, b: Interval): boolean {
  return a.low <= b.high && b.low <= a.high;
}

/** A ratio of two medians with a conservative interval, and whether the difference is measurable. */
export interface RatioEstimate {
  /** median(num) / median(den); null when either is missing or not positive. */
  ratio: number | null;
  /**
   * [low(num)/high(den), high(num)/low(den)] from the two medians' intervals: it holds the true
   * ratio whenever both intervals hold their medians (probability ≥ the product of their coverages).
   * Null when either interval is missing.
   */
  interval: Interval | null;
  /** True only when both intervals exist and do not overlap. */
  measurable: boolean;
  /** Why it is not measurable, in words (`n < 6: no interval`, `intervals overlap`). */
  why?: string;
}

/** The ratio of two summaries' medians (e.g. a speed-up: time at P=1 / time at P=2), with its interval. */
export function ratioOfMedians(num: Summary | null | undefined, den: Summary | null | undefined): RatioEstimate {
  const a = num?.median ?? null;
  const b = den?.median ?? null;
  const ratio = a !== null && b !== null && a > 0 && b > 0 ? a / b : null;
  const ia = intervalOf(num);
  const ib = intervalOf(den);
  if (!ia || !ib) return { ratio, interval: null, measurable: false, why: `no interval (n < 6 on ${!ia ? 'the first' : 'the second'} side)` };
  const interval = ib.low > 0 && ib.high > 0 ? { low: ia.low / ib.high, high: ia.high / ib.low } : null;
  if (overlaps(ia, ib)) return { ratio, interval, measurable: false, why: 'intervals overlap' };
  return { ratio, interval, measurable: true };
}
