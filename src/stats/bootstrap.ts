import { assertSample, medianOfSorted, percentileOfSorted } from './descriptive.js';

/**
 * mulberry32, a tiny 32-bit seeded PRNG (Tommy Ettinger). Returns a generator of floats in [0, 1);
 * the same seed always yields the same sequence, so resampling is reproducible.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Options of `bootstrapMedianCI`. */
export interface BootstrapOptions {
  /** Two-sided confidence level, strictly between 0 and 1; default 0.95. */
  confidence?: number;
  /** Number of bootstrap resamples; a positive integer, default 2000. */
  resamples?: number;
  /** Seed of the mulberry32 PRNG; default 1. Same seed and input, same interval. */
  seed?: number;
}

/** A confidence interval. */
export interface Interval {
  /** Lower bound. */
  low: number;
  /** Upper bound (≥ low). */
  high: number;
}

/**
 * Percentile-bootstrap confidence interval of the median of `xs` (Efron): draws `resamples`
 * samples of size n with replacement using a seeded mulberry32, takes the median of each, and
 * returns the (1 − c)/2 and (1 + c)/2 percentiles (numpy-'linear' interpolation) of those medians.
 * Deterministic for a given seed. A single value gives the degenerate interval [x, x].
 */
export function bootstrapMedianCI(xs: readonly number[], opts: BootstrapOptions = {}): Interval {
  const { confidence = 0.95, resamples = 2000, seed = 1 } = opts;
  assertSample(xs, 'bootstrapMedianCI');
  if (!(confidence > 0 && confidence < 1)) {
    throw new RangeError(`confidence must be within (0, 1), got ${confidence}`);
  }
  if (!Number.isInteger(resamples) || resamples < 1) {
    throw new RangeError(`resamples must be a positive integer, got ${resamples}`);
  }
  const n = xs.length;
  const rand = mulberry32(seed);
  const sample = new Float64Array(n);
  const medians = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) sample[i] = xs[Math.floor(rand() * n)]!;
    sample.sort();
    medians[r] = medianOfSorted(sample);
  }
  medians.sort();
  const alpha = (1 - confidence) / 2;
  return {
    low: percentileOfSorted(medians, alpha * 100),
    high: percentileOfSorted(medians, (1 - alpha) * 100),
  };
}
