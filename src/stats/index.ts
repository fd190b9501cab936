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
export { emptySummary, summarize, type Summary, type SummarizeOptions } from './summary.js';
