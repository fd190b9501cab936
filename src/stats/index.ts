/** Pure statistics over samples of measurements (modelled on hyperfine's). */
export {
  assertSample,
  cv,
  max,
  mean,
  median,
  medianOfSorted,
  min,
  percentile,
  percentileOfSorted,
  sortedCopy,
  stddev,
} from './descriptive.js';
export { DEFAULT_OUTLIER_THRESHOLD, madOutliers, modifiedZScores } from './outliers.js';
export { bootstrapMedianCI, mulberry32, type BootstrapOptions, type Interval } from './bootstrap.js';
export { emptySummary, summarize, type CiMethod, type Summary, type SummarizeOptions } from './summary.js';
export { binomialHalfCdf, medianCiRanks, MIN_N_FOR_CI, orderStatisticMedianCI, type CoveredInterval, type OrderStatisticRanks } from './order-ci.js';
export { logGamma, regularizedBeta, tCdf, tQuantile } from './t-dist.js';
export { bootstrapLineCI, fitLine, reciprocalInterval, type LinearFit } from './linear-fit.js';
export { intervalOf, overlaps, ratioOfMedians, type RatioEstimate } from './compare.js';
