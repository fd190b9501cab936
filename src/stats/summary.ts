import { bootstrapMedianCI, type BootstrapOptions } from './bootstrap.js';
import { assertSample, mean, medianOfSorted, percentileOfSorted, sortedCopy, stddev } from './descriptive.js';
import { DEFAULT_OUTLIER_THRESHOLD, madOutliers } from './outliers.js';

/**
 * Summary of one sample of measurements, in the sample's unit. A field that the sample cannot
 * support is null, never NaN: everything but `n` and `outliers` is null for an empty sample;
 * `stddev` and `cv` are null below two values; `cv` is null when the mean is 0.
 */
export interface Summary {
  /** Number of values. */
  n: number;
  /** Median (50th percentile). */
  median: number | null;
  /** 95th percentile, numpy-'linear' interpolation. */
  p95: number | null;
  /** Smallest value. */
  min: number | null;
  /** Largest value. */
  max: number | null;
  /** Arithmetic mean. */
  mean: number | null;
  /** Sample standard deviation (n − 1); null when n < 2. */
  stddev: number | null;
  /** Coefficient of variation, stddev/mean as a fraction; null when n < 2 or the mean is 0. */
  cv: number | null;
  /** Lower bound of the bootstrap confidence interval of the median. */
  ciLow: number | null;
  /** Upper bound of the bootstrap confidence interval of the median. */
  ciHigh: number | null;
  /** Indices into the input of MAD outliers (see `madOutliers`), ascending. */
  outliers: number[];
}

/** Options of `summarize`: those of the median's bootstrap CI plus the outlier threshold. */
export interface SummarizeOptions extends BootstrapOptions {
  /** |Modified z-score| above which a value is an outlier; default 3.5. */
  outlierThreshold?: number;
}

/** The summary of an empty sample: n 0, every statistic null, no outliers. */
export function emptySummary(): Summary {
  return {
    n: 0,
    median: null,
    p95: null,
    min: null,
    max: null,
    mean: null,
    stddev: null,
    cv: null,
    ciLow: null,
    ciHigh: null,
    outliers: [],
  };
}

/**
 * Summarizes a sample: order statistics, moments, a bootstrap CI of the median and MAD outliers.
 * Pure and deterministic (the bootstrap is seeded). Throws a RangeError on a non-finite value.
 */
export function summarize(xs: readonly number[], opts: SummarizeOptions = {}): Summary {
  if (xs.length === 0) return emptySummary();
  assertSample(xs, 'summarize');
  const { outlierThreshold = DEFAULT_OUTLIER_THRESHOLD, ...bootstrap } = opts;
  const s = sortedCopy(xs);
  const m = mean(xs);
  const sd = xs.length >= 2 ? stddev(xs) : null;
  const ci = bootstrapMedianCI(xs, bootstrap);
  return {
    n: xs.length,
    median: medianOfSorted(s),
    p95: percentileOfSorted(s, 95),
    min: s[0]!,
    max: s[s.length - 1]!,
    mean: m,
    stddev: sd,
    cv: sd === null || m === 0 ? null : sd / m,
    ciLow: ci.low,
    ciHigh: ci.high,
    outliers: madOutliers(xs, outlierThreshold),
  };
}
