import { describe, expect, it } from 'vitest';
import { summarize } from './summary.js';

const xs = [12.1, 11.8, 12.4, 13.0, 11.9, 12.2, 15.7, 12.0, 12.3, 11.7];

describe('summarize', () => {
  it('summarizes a sample (numpy reference values)', () => {
    const s = summarize(xs);
    expect(s.n).toBe(10);
    expect(s.median).toBe(12.149999999999999);
    expect(s.p95).toBeCloseTo(14.484999999999996, 12);
    expect(s.min).toBe(11.7);
    expect(s.max).toBe(15.7);
    expect(s.mean).toBeCloseTo(12.51, 12);
    expect(s.stddev).toBeCloseTo(1.1798775831039041, 12);
    expect(s.cv).toBeCloseTo(0.09431475484443679, 12);
    // order statistics: n = 10 → [x(2), x(9)] with coverage 1 − 22/1024
    expect(s.ciLow).toBe(11.8);
    expect(s.ciHigh).toBe(13.0);
    expect(s.ciMethod).toBe('order-statistic');
    expect(s.ciCoverage).toBeCloseTo(0.978515625, 12);
    expect(s.outliers).toEqual([6]);
  });
  it('gives the bootstrap interval when asked, labelled as such', () => {
    const s = summarize(xs, { ci: 'bootstrap' });
    expect(s.ciLow).toBeCloseTo(11.9, 9);
    expect(s.ciHigh).toBeCloseTo(12.6, 9);
    expect(s.ciMethod).toBe('bootstrap');
    expect(s.ciCoverage).toBe(0.95);
  });
  it('has no interval and no p95 below n = 6', () => {
    const s = summarize([3, 1, 2, 5, 4]);
    expect(s).toMatchObject({ n: 5, median: 3, min: 1, max: 5, p95: null, ciLow: null, ciHigh: null, ciMethod: null, ciCoverage: null });
    expect(summarize([3, 1, 2, 5, 4, 6]).ciLow).toBe(1);
  });
  it('is deterministic and passes options through', () => {
    expect(summarize(xs)).toEqual(summarize(xs));
    expect(summarize(xs, { outlierThreshold: 2 }).outliers).toEqual([3, 6]);
    const c = summarize(xs, { ci: 'bootstrap', confidence: 0.9, resamples: 500, seed: 7 });
    expect(c.ciLow).toBeCloseTo(11.95, 9);
    expect(c.ciHigh).toBeCloseTo(12.4, 9);
  });
  it('returns nulls, not NaN, for an empty sample', () => {
    expect(summarize([])).toEqual({
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
    });
  });
  it('leaves spread null for a single value, cv null for a zero mean', () => {
    const one = summarize([4]);
    expect(one).toMatchObject({ n: 1, median: 4, p95: null, min: 4, max: 4, mean: 4, ciLow: null, ciHigh: null });
    expect(one.stddev).toBeNull();
    expect(one.cv).toBeNull();
    const zero = summarize([-1, 1]);
    expect(zero.stddev).toBeCloseTo(Math.SQRT2, 12);
    expect(zero.cv).toBeNull();
  });
  it('throws on non-finite input', () => {
    expect(() => summarize([1, Number.NaN])).toThrow(RangeError);
  });
});
