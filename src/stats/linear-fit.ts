import { assertSample } from './descriptive.js';
import { mulberry32, type Interval } from './bootstrap.js';
import { tQuantile } from './t-dist.js';

/**
 * A straight-line fit y = a + b·x by ordinary least squares, with t-based confidence intervals of
 * both coefficients (normal errors assumed) and, separately labelled, pairs-bootstrap intervals.
 */
export interface LinearFit {
  /** Number of points. */
  n: number;
  /** Distinct x values (a fit needs at least 2). */
  distinctX: number;
  /** Intercept a. */
  a: number;
  /** Slope b. */
  b: number;
  /** Standard error of a; null when n < 3 (no residual degrees of freedom). */
  seA: number | null;
  /** Standard error of b; null when n < 3. */
  seB: number | null;
  /** t-based CI of a at `confidence`; null when n < 3. */
  ciA: Interval | null;
  /** t-based CI of b at `confidence`; null when n < 3. */
  ciB: Interval | null;
  /** Confidence level of the intervals. */
  confidence: number;
  /** Coefficient of determination R². */
  r2: number;
  /** Residual standard deviation; null when n < 3. */
  residualSd: number | null;
}

/** Least-squares fit of y = a + b·x; throws a RangeError unless there are ≥ 2 points at ≥ 2 distinct x. */
export function fitLine(xs: readonly number[], ys: readonly number[], confidence = 0.95): LinearFit {
  assertSample(xs, 'fitLine x', 2);
  assertSample(ys, 'fitLine y', 2);
  if (xs.length !== ys.length) throw new RangeError(`fitLine: ${xs.length} x values but ${ys.length} y values`);
  const n = xs.length;
  const distinctX = new Set(xs).size;
  if (distinctX < 2) throw new RangeError('fitLine needs at least 2 distinct x values');
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += xs[i]!;
    my += ys[i]!;
  }
  mx /= n;
  my /= n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i]! - mx;
    const dy = ys[i]! - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  const b = sxy / sxx;
  const a = my - b * mx;
  let sse = 0;
  for (let i = 0; i < n; i++) {
    const r = ys[i]! - (a + b * xs[i]!);
    sse += r * r;
  }
  const r2 = syy === 0 ? 1 : 1 - sse / syy;
  if (n < 3) return { n, distinctX, a, b, seA: null, seB: null, ciA: null, ciB: null, confidence, r2, residualSd: null };
  const s2 = sse / (n - 2);
  const seB = Math.sqrt(s2 / sxx);
  const seA = Math.sqrt(s2 * (1 / n + (mx * mx) / sxx));
  const t = tQuantile(1 - (1 - confidence) / 2, n - 2);
  return {
    n, distinctX, a, b, seA, seB, confidence, r2, residualSd: Math.sqrt(s2),
    ciA: { low: a - t * seA, high: a + t * seA },
    ciB: { low: b - t * seB, high: b + t * seB },
  };
}

/**
 * Pairs-bootstrap percentile intervals of a and b (resamples (x, y) pairs with replacement; a
 * resample with a single distinct x is drawn again). Seeded, so deterministic.
 */
export function bootstrapLineCI(
  xs: readonly number[], ys: readonly number[], o: { confidence?: number; resamples?: number; seed?: number } = {},
): { a: Interval; b: Interval } {
  const { confidence = 0.95, resamples = 2000, seed = 1 } = o;
  fitLine(xs, ys, confidence);
  const n = xs.length;
  const rand = mulberry32(seed);
  const as: number[] = [];
  const bs: number[] = [];
  const bx = new Array<number>(n);
  const by = new Array<number>(n);
  for (let r = 0; r < resamples; r++) {
    for (let tries = 0; tries < 100; tries++) {
      for (let i = 0; i < n; i++) {
        const j = Math.floor(rand() * n);
        bx[i] = xs[j]!;
        by[i] = ys[j]!;
      }
      if (new Set(bx).size >= 2) break;
    }
    if (new Set(bx).size < 2) continue;
    const f = fitLine(bx, by, confidence);
    as.push(f.a);
    bs.push(f.b);
  }
  const q = (v: number[], p: number): number => {
    const s = [...v].sort((x, y) => x - y);
    const h = (s.length - 1) * p;
    const lo = Math.floor(h);
    return s[lo]! + (h - lo) * (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!);
  };
  const alpha = (1 - confidence) / 2;
  return { a: { low: q(as, alpha), high: q(as, 1 - alpha) }, b: { low: q(bs, alpha), high: q(bs, 1 - alpha) } };
}

/** The reciprocal of an interval of a positive quantity (1/b for a slope b in s/byte gives bytes/s); null when it spans 0. */
export function reciprocalInterval(i: Interval | null): Interval | null {
  if (!i || i.low <= 0 || i.high <= 0) return null;
  return { low: 1 / i.high, high: 1 / i.low };
}
