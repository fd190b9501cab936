import { describe, expect, it } from 'vitest';
import { logGamma, tCdf, tQuantile } from './t-dist.js';

describe('Student t', () => {
  it('quantiles match scipy.stats.t.ppf(0.975, df)', () => {
    const ref: [number, number][] = [[1, 12.70620474], [2, 4.30265273], [3, 3.18244631], [10, 2.22813885], [30, 2.04227246], [1000, 1.96233908]];
    for (const [df, q] of ref) expect(tQuantile(0.975, df)).toBeCloseTo(q, 6);
  });
  it('is symmetric and inverts its CDF', () => {
    expect(tQuantile(0.025, 7)).toBeCloseTo(-tQuantile(0.975, 7), 10);
    expect(tCdf(tQuantile(0.9, 4), 4)).toBeCloseTo(0.9, 10);
    expect(tCdf(0, 3)).toBeCloseTo(0.5, 14);
    expect(tQuantile(0.5, 3)).toBe(0);
  });
  it('logGamma matches factorials', () => {
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(logGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 12);
  });
  it('validates', () => {
    expect(() => tQuantile(1, 3)).toThrow(RangeError);
    expect(() => tCdf(1, 0)).toThrow(RangeError);
  });
});
