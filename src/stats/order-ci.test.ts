import { describe, expect, it } from 'vitest';
import { mulberry32 } from './bootstrap.js';
import { binomialHalfCdf, medianCiRanks, orderStatisticMedianCI } from './order-ci.js';

/** P(lo ≤ B ≤ hi − 1) for B ~ Binomial(n, 1/2), summed term by term: the textbook coverage of [x(lo), x(hi)]. */
function coverageByPmf(n: number, lo: number, hi: number): number {
  let p = 0;
  let c = 1;
  for (let i = 0; i <= n; i++) {
    if (i >= lo && i <= hi - 1) p += c / 2 ** n;
    c = (c * (n - i)) / (i + 1);
  }
  return p;
}

describe('binomialHalfCdf', () => {
  it('matches exact fractions', () => {
    expect(binomialHalfCdf(10, 1)).toBeCloseTo(11 / 1024, 14);
    expect(binomialHalfCdf(20, 5)).toBeCloseTo(21700 / 1048576, 14);
    expect(binomialHalfCdf(5, -1)).toBe(0);
    expect(binomialHalfCdf(5, 5)).toBe(1);
  });
});

describe('medianCiRanks (distribution-free CI of the median)', () => {
  it('gives the textbook ranks and exact coverages', () => {
    expect(medianCiRanks(5)).toBeUndefined();
    expect(medianCiRanks(6)).toEqual({ lo: 1, hi: 6, coverage: 1 - 2 / 64 });
    expect(medianCiRanks(10)!.lo).toBe(2);
    expect(medianCiRanks(10)!.hi).toBe(9);
    expect(medianCiRanks(10)!.coverage).toBeCloseTo(1 - 22 / 1024, 14);
    expect(medianCiRanks(20)).toMatchObject({ lo: 6, hi: 15 });
    expect(medianCiRanks(20)!.coverage).toBeCloseTo(0.9586105346679688, 12);
  });
  it('coverage equals the binomial formula and is the largest k with coverage ≥ 95%', () => {
    for (let n = 6; n <= 60; n++) {
      const r = medianCiRanks(n)!;
      expect(r.hi).toBe(n + 1 - r.lo);
      expect(r.coverage).toBeCloseTo(coverageByPmf(n, r.lo, r.hi), 12);
      expect(r.coverage).toBeGreaterThanOrEqual(0.95);
      if (r.lo + 1 <= (n + 1) / 2) expect(coverageByPmf(n, r.lo + 1, r.hi - 1)).toBeLessThan(0.95);
    }
  });
  it('covers the true median as often as it says (Monte Carlo on an exponential, 4000 samples of n = 10 and 20)', () => {
    const rand = mulberry32(2024);
    const trueMedian = Math.LN2;
    for (const n of [10, 20]) {
      const r = medianCiRanks(n)!;
      let hit = 0;
      const trials = 4000;
      for (let t = 0; t < trials; t++) {
        const xs = Array.from({ length: n }, () => -Math.log(1 - rand()));
        const ci = orderStatisticMedianCI(xs)!;
        if (ci.low <= trueMedian && trueMedian <= ci.high) hit++;
      }
      const se = Math.sqrt((r.coverage * (1 - r.coverage)) / trials);
      expect(Math.abs(hit / trials - r.coverage)).toBeLessThan(4 * se);
    }
  });
  it('validates its arguments', () => {
    expect(() => medianCiRanks(0)).toThrow(RangeError);
    expect(() => medianCiRanks(10, 1)).toThrow(RangeError);
  });
});

describe('orderStatisticMedianCI', () => {
  it('takes x(2) and x(9) of ten values, and leaves the input alone', () => {
    const xs = Object.freeze([12.1, 11.8, 12.4, 13.0, 11.9, 12.2, 15.7, 12.0, 12.3, 11.7]);
    const ci = orderStatisticMedianCI(xs)!;
    expect(ci.low).toBe(11.8);
    expect(ci.high).toBe(13.0);
    expect(ci.coverage).toBeCloseTo(0.978515625, 12);
  });
  it('has none below n = 6 at 95%', () => {
    expect(orderStatisticMedianCI([1, 2, 3, 4, 5])).toBeUndefined();
    expect(orderStatisticMedianCI([1, 2, 3, 4, 5], 0.9)).toMatchObject({ low: 1, high: 5 });
  });
});
