import { assertSample, medianOfSorted, sortedCopy } from './descriptive.js';

/** The threshold on |modified z-score| above which Iglewicz & Hoaglin call a value an outlier. */
export const DEFAULT_OUTLIER_THRESHOLD = 3.5;

/** 0.6745 ≈ Φ⁻¹(0.75): scales the MAD into a consistent estimator of σ for normal data. */
const MAD_SCALE = 0.6745;

/** √(2/π) ≈ 0.7979: scales the mean absolute deviation into an estimator of σ for normal data. */
const MEAN_AD_SCALE = Math.sqrt(2 / Math.PI);

/**
 * Modified z-scores of `xs` (Iglewicz & Hoaglin, 1993, "How to Detect and Handle Outliers", the
 * method hyperfine cites): Mᵢ = 0.6745·(xᵢ − median)/MAD, with MAD the median of |xᵢ − median|.
 *
 * When MAD = 0 (more than half the values equal the median, common with coarse timers) the
 * formula divides by zero. Instead of hyperfine's choice (divide by machine epsilon, which flags
 * every value that differs from the median at all) this falls back to the mean absolute deviation
 * around the median: Mᵢ = 0.7979·(xᵢ − median)/MeanAD (the variant IBM SPSS documents). Only when
 * that is 0 too, i.e. all values are equal, are all scores 0. So [10,10,11,10,12,10,100] flags
 * only 100, not 11 and 12.
 */
export function modifiedZScores(xs: readonly number[]): number[] {
  assertSample(xs, 'modifiedZScores');
  const m = medianOfSorted(sortedCopy(xs));
  const deviations = xs.map((x) => Math.abs(x - m));
  const mad = medianOfSorted(sortedCopy(deviations));
  if (mad > 0) return xs.map((x) => (MAD_SCALE * (x - m)) / mad);
  const meanAd = deviations.reduce((a, d) => a + d, 0) / deviations.length;
  if (meanAd > 0) return xs.map((x) => (MEAN_AD_SCALE * (x - m)) / meanAd);
  return xs.map(() => 0);
}

/**
 * Indices (ascending) of the values of `xs` whose |modified z-score| exceeds `threshold`
 * (default 3.5, Iglewicz & Hoaglin's recommendation). See `modifiedZScores` for the MAD = 0 case.
 * An empty sample has no outliers.
 */
export function madOutliers(xs: readonly number[], threshold = DEFAULT_OUTLIER_THRESHOLD): number[] {
  if (!(threshold > 0)) throw new RangeError(`outlier threshold must be > 0, got ${threshold}`);
  if (xs.length === 0) return [];
  const out: number[] = [];
  modifiedZScores(xs).forEach((z, i) => {
    if (Math.abs(z) > threshold) out.push(i);
  });
  return out;
}
