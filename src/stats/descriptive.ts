/**
 * Descriptive statistics over samples. Every function is pure: it never mutates its input.
 * An empty sample or a non-finite value is a caller's error and throws a RangeError, so no NaN
 * ever leaks into a report; `summarize` is the place that turns "not enough data" into nulls.
 */

/** Throws a RangeError unless `xs` holds at least `minN` values, all finite. */
export function assertSample(xs: readonly number[], what: string, minN = 1): void {
  if (xs.length < minN) {
    throw new RangeError(`${what} needs at least ${minN} value(s), got ${xs.length}`);
  }
  for (let i = 0; i < xs.length; i++) {
    if (!Number.isFinite(xs[i])) throw new RangeError(`${what}: value at index ${i} is ${xs[i]}`);
  }
}

/** An ascending, numerically sorted copy of `xs`; the input is left as it was. */
export function sortedCopy(xs: readonly number[]): number[] {
  return Array.from(Float64Array.from(xs).sort());
}

/**
 * Linear interpolation from `a` to `b` at `t` in [0, 1], written as numpy's `_lerp` is so that
 * results match numpy to the last bit (it interpolates from the nearer end).
 */
function lerp(a: number, b: number, t: number): number {
  const d = b - a;
  return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

/**
 * The `p`-th percentile (0 ≤ p ≤ 100) of an already ascending-sorted sample, by linear
 * interpolation between closest ranks: with h = (n − 1)·p/100 the result is
 * s[⌊h⌋] + (h − ⌊h⌋)·(s[⌈h⌉] − s[⌊h⌋]). This is numpy's default (`method='linear'`,
 * Hyndman & Fan type 7, also R's default and Excel's PERCENTILE.INC). Does not validate
 * `sortedXs` beyond its being non-empty.
 */
export function percentileOfSorted(sortedXs: ArrayLike<number>, p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within [0, 100], got ${p}`);
  if (sortedXs.length === 0) throw new RangeError('percentile needs at least 1 value(s), got 0');
  const h = ((sortedXs.length - 1) * p) / 100;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sortedXs.length - 1);
  return lerp(sortedXs[lo]!, sortedXs[hi]!, h - lo);
}

/** The median of an already ascending-sorted sample (mean of the two middle values when n is even). */
export function medianOfSorted(sortedXs: ArrayLike<number>): number {
  const n = sortedXs.length;
  if (n === 0) throw new RangeError('median needs at least 1 value(s), got 0');
  const mid = n >> 1;
  return n % 2 === 1 ? sortedXs[mid]! : (sortedXs[mid - 1]! + sortedXs[mid]!) / 2;
}

/**
 * The `p`-th percentile (0 ≤ p ≤ 100) of `xs`, by linear interpolation between closest ranks,
 * exactly numpy's default `np.percentile(xs, p)` (method 'linear'); see `percentileOfSorted`.
 */
export function percentile(xs: readonly number[], p: number): number {
  assertSample(xs, 'percentile');
  return percentileOfSorted(sortedCopy(xs), p);
}

/** The median of `xs`: the middle value, or the mean of the two middle values when n is even. */
export function median(xs: readonly number[]): number {
  assertSample(xs, 'median');
  return medianOfSorted(sortedCopy(xs));
}

/** The arithmetic mean of `xs`. */
export function mean(xs: readonly number[]): number {
  assertSample(xs, 'mean');
  let sum = 0;
  for (const x of xs) sum += x;
  return sum / xs.length;
}

/**
 * The sample standard deviation of `xs` (Bessel's correction, divisor n − 1, numpy's
 * `np.std(xs, ddof=1)`). Needs at least two values: one run says nothing about spread.
 */
export function stddev(xs: readonly number[]): number {
  assertSample(xs, 'stddev', 2);
  const m = mean(xs);
  let ss = 0;
  for (const x of xs) ss += (x - m) * (x - m);
  return Math.sqrt(ss / (xs.length - 1));
}

/**
 * The coefficient of variation of `xs`: sample standard deviation divided by the mean, as a
 * fraction (0.05 = 5 %). Needs at least two values and a non-zero mean.
 */
export function cv(xs: readonly number[]): number {
  const s = stddev(xs);
  const m = mean(xs);
  if (m === 0) throw new RangeError('cv is undefined for a sample whose mean is 0');
  return s / m;
}

/** The smallest value of `xs`. */
export function min(xs: readonly number[]): number {
  assertSample(xs, 'min');
  let m = xs[0]!;
  for (const x of xs) if (x < m) m = x;
  return m;
}

/** The largest value of `xs`. */
export function max(xs: readonly number[]): number {
  assertSample(xs, 'max');
  let m = xs[0]!;
  for (const x of xs) if (x > m) m = x;
  return m;
}
