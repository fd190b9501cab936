import { describe, expect, it } from 'vitest';
import { bootstrapMedianCI, mulberry32 } from './bootstrap.js';
import { median } from './descriptive.js';

const xs = [12.1, 11.8, 12.4, 13.0, 11.9, 12.2, 15.7, 12.0, 12.3, 11.7];

describe('mulberry32', () => {
  it('is the reference sequence for seed 1', () => {
    const r = mulberry32(1);
    expect([r(), r(), r()]).toEqual([0.6270739405881613, 0.002735721180215478, 0.5274470399599522]);
  });
  it('stays in [0, 1)', () => {
    const r = mulberry32(123);
    for (let i = 0; i < 10_000; i++) {
      const v = r();
      expect(v >= 0 && v < 1).toBe(true);
    }
  });
});

describe('bootstrapMedianCI', () => {
  it('is deterministic for a seed and contains the median', () => {
    const a = bootstrapMedianCI(xs);
    const b = bootstrapMedianCI(xs);
    expect(a).toEqual(b);
    const m = median(xs);
    expect(a.low).toBeLessThanOrEqual(m);
    expect(a.high).toBeGreaterThanOrEqual(m);
  });
  it('matches an independent Python port (mulberry32 + np.median + np.percentile)', () => {
    // meds = [np.median([xs[int(r()*n)] for _ in range(n)]) for _ in range(B)]
    // np.percentile(meds, [2.5, 97.5]) → (11.9, 12.6) for seed 1, B 2000
    const a = bootstrapMedianCI(xs);
    expect(a.low).toBeCloseTo(11.9, 9);
    expect(a.high).toBeCloseTo(12.6, 9);
    // seed 42 → (11.9, 12.65); confidence 0.9, B 500, seed 7 → (11.95, 12.4)
    const b = bootstrapMedianCI(xs, { seed: 42 });
    expect(b.low).toBeCloseTo(11.9, 9);
    expect(b.high).toBeCloseTo(12.65, 9);
    const c = bootstrapMedianCI(xs, { confidence: 0.9, resamples: 500, seed: 7 });
    expect(c.low).toBeCloseTo(11.95, 9);
    expect(c.high).toBeCloseTo(12.4, 9);
  });
  it('narrows as confidence drops', () => {
    const wide = bootstrapMedianCI(xs, { confidence: 0.99 });
    const narrow = bootstrapMedianCI(xs, { confidence: 0.5 });
    expect(wide.high - wide.low).toBeGreaterThanOrEqual(narrow.high - narrow.low);
  });
  it('is degenerate for one value or a constant sample', () => {
    expect(bootstrapMedianCI([7])).toEqual({ low: 7, high: 7 });
    expect(bootstrapMedianCI([3, 3, 3])).toEqual({ low: 3, high: 3 });
  });
  it('validates its options and leaves the input alone', () => {
    expect(() => bootstrapMedianCI([])).toThrow(RangeError);
    expect(() => bootstrapMedianCI(xs, { confidence: 1 })).toThrow(RangeError);
    expect(() => bootstrapMedianCI(xs, { resamples: 0 })).toThrow(RangeError);
    expect(() => bootstrapMedianCI(xs, { resamples: 1.5 })).toThrow(RangeError);
    const frozen = Object.freeze([...xs]);
    bootstrapMedianCI(frozen);
    expect(frozen).toEqual(xs);
  });
});
