import { bootstrapMedianCI, type BootstrapOptions } from './bootstrap.js';
import { assertSample, mean, medianOfSorted, percentileOfSorted, sortedCopy, stddev } from './descriptive.js';
import { medianCiRanks, MIN_N_FOR_CI } from './order-ci.js';
import { DEFAULT_OUTLIER_THRESHOLD, madOutliers } from './outliers.js';

/** How a summary's interval of the median was computed. */
export type CiMethod = 'order-statistic' | 'bootstrap';

/**
 * Summary of one sample of measurements, in the sample's unit. A field that the sample cannot
 * support is null, never NaN: everything but `n` and `outliers` is null for an empty sample;
 * `stddev` and `cv` are null below two values; `cv` is null when the mean is 0; `p95` and the
 * median's interval are null below `MIN_N_FOR_CI` (6) values, where they would only restate the
 * extremes.
 */
export interface Summary {
  /** Number of values. */
  n: number;
  /** Median (50th percentile). */
  median: number | null;
  /** 95th percentile, numpy-'linear' interpolation; null when n < 6. */
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
  /** Lower bound of the confidence interval of the median (method in `ciMethod`); null when n < 6. */
  ciLow: number | null;
  /** Upper bound of the confidence interval of the median; null when n < 6. */
  ciHigh: number | null;
  /**
   * How the interval was computed: `order-statistic` (distribution-free, [x(k), x(n+1−k)], the
   * default) or `bootstrap` (percentile bootstrap, asked for explicitly); null when there is none.
   * Absent in results written before schema 3 (their intervals were bootstrap ones).
   */
  ciMethod?: CiMethod | null;
  /**
   * Coverage of the interval: the exact probability (≥ 0.95) that an order-statistic interval holds
   * the true median, or the nominal level of a bootstrap one; null when there is none.
   */
  ciCoverage?: number | null;
  /** Indices into the input of MAD outliers (see `madOutliers`), ascending. */
  outliers: number[];
}

/** Options of `summarize`: the interval's method and level (bootstrap options when asked for), and the outlier threshold. */
export interface SummarizeOptions extends BootstrapOptions {
  /** |Modified z-score| above which a value is an outlier; default 3.5. */
  outlierThreshold?: number;
  /** Interval of the median: `order-statistic` (default) or `bootstrap`. */
  ci?: CiMethod;
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
    ciMethod: null,
    ciCoverage: null,
    outliers: [],
  };
}

/**
 * Summarizes a sample: order statistics, moments, a confidence interval of the median (by order
 * statistics unless `ci: 'bootstrap'`), and MAD outliers. Below 6 values there is no interval and
 * no p95. Pure and deterministic (the bootstrap is seeded). Throws a RangeError on a non-finite value.
 */
export function summarize(xs: readonly number[], opts: SummarizeOptions = {}): Summary {
  if (xs.length === 0) return emptySummary();
  assertSample(xs, 'summarize');
  const { outlierThreshold = DEFAULT_OUTLIER_THRESHOLD, ci: method = 'order-statistic', ...bootstrap } = opts;
  const s = sortedCopy(xs);
  const m = mean(xs);
  const sd = xs.length >= 2 ? stddev(xs) : null;
  const enough = xs.length >= MIN_N_FOR_CI;
  let ci: { low: number; high: number; coverage: number } | undefined;
  if (enough && method === 'bootstrap') {
    ci = { ...bootstrapMedianCI(xs, bootstrap), coverage: bootstrap.confidence ?? 0.95 };
  } else if (enough) {
    const r = medianCiRanks(xs.length, bootstrap.confidence ?? 0.95);
    if (r) ci = { low: s[r.lo - 1]!, high: s[r.hi - 1]!, coverage: r.coverage };
  }
  return {
    n: xs.length,
    median: medianOfSorted(s),
    p95: enough ? percentileOfSorted(s, 95) : null,
    min: s[0]!,
    max: s[s.length - 1]!,
    mean: m,
    stddev: sd,
    cv: sd === null || m === 0 ? null : sd / m,
    ciLow: ci?.low ?? null,
    ciHigh: ci?.high ?? null,
    ciMethod: ci ? method : null,
    ciCoverage: ci?.coverage ?? null,
    outliers: madOutliers(xs, outlierThreshold),
  };
}
