import { assertSample, sortedCopy } from './descriptive.js';
import type { Interval } from './bootstrap.js';

/** Smallest sample size that gets a distribution-free CI of the median (below it, no CI and no p95 are reported). */
export const MIN_N_FOR_CI = 6;

/** ln C(n, k) by sums of logs (exact enough for n up to millions). */
function logChoose(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log(n - k + i) - Math.log(i);
  return s;
}

/** P(B ≤ k) for B ~ Binomial(n, 1/2). */
export function binomialHalfCdf(n: number, k: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  let p = 0;
  for (let i = 0; i <= k; i++) p += Math.exp(logChoose(n, i) - n * Math.LN2);
  return Math.min(1, p);
}

/** The ranks (1-based) of the order-statistic interval and its exact coverage. */
export interface OrderStatisticRanks {
  /** Rank of the lower bound, x(lo). */
  lo: number;
  /** Rank of the upper bound, x(hi) = x(n + 1 − lo). */
  hi: number;
  /** Exact coverage 1 − 2·P(B ≤ lo − 1), B ~ Binomial(n, 1/2): at least the confidence asked for. */
  coverage: number;
}

/**
 * The ranks of the distribution-free confidence interval of the median (Thompson 1936; see e.g.
 * Conover, Practical Nonparametric Statistics, 3.2): [x(k), x(n+1−k)] with the largest k whose
 * coverage 1 − 2·P(B ≤ k − 1) is still ≥ `confidence`, for B ~ Binomial(n, 1/2). It holds for any
 * continuous distribution. Undefined (no k ≥ 1 reaches the confidence) for small n: n < 6 at 95%.
 */
export function medianCiRanks(n: number, confidence = 0.95): OrderStatisticRanks | undefined {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be a positive integer, got ${n}`);
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be within (0, 1), got ${confidence}`);
  let best: OrderStatisticRanks | undefined;
  for (let k = 1; k <= Math.floor((n + 1) / 2); k++) {
    const coverage = 1 - 2 * binomialHalfCdf(n, k - 1);
    if (coverage < confidence) break;
    best = { lo: k, hi: n + 1 - k, coverage };
  }
  return best;
}

/** An interval with its exact coverage. */
export interface CoveredInterval extends Interval {
  /** Probability the interval holds the true median (≥ the confidence asked for). */
  coverage: number;
}

/**
 * Distribution-free confidence interval of the median of `xs` by order statistics (see
 * {@link medianCiRanks}), with its exact coverage; undefined when n is too small for `confidence`.
 */
export function orderStatisticMedianCI(xs: readonly number[], confidence = 0.95): CoveredInterval | undefined {
  assertSample(xs, 'orderStatisticMedianCI');
  const r = medianCiRanks(xs.length, confidence);
  if (!r) return undefined;
  const s = sortedCopy(xs);
  return { low: s[r.lo - 1]!, high: s[r.hi - 1]!, coverage: r.coverage };
}
