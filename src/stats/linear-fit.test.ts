import { describe, expect, it } from 'vitest';
import { bootstrapLineCI, fitLine, reciprocalInterval } from './linear-fit.js';

describe('fitLine: time = a + b·bytes', () => {
  it('recovers an exact line with zero spread', () => {
    const f = fitLine([1e6, 2e6, 4e6, 1e6, 2e6, 4e6], [2 + 3e-6 * 1e6, 2 + 3e-6 * 2e6, 2 + 3e-6 * 4e6, 5, 8, 14]);
    expect(f.a).toBeCloseTo(2, 9);
    expect(f.b).toBeCloseTo(3e-6, 15);
    expect(f.seB!).toBeLessThan(1e-12);
    expect(f.r2).toBeCloseTo(1, 12);
  });
  it('matches numpy.polyfit and the textbook standard errors', () => {
    // numpy: b, a = polyfit(x, y, 1) = 0.75, 1.39; se(b) = 0.03, se(a) = 0.0994987437106622
    const f = fitLine([1, 2, 3, 4, 5], [2.2, 2.8, 3.6, 4.5, 5.1]);
    expect(f.a).toBeCloseTo(1.39, 12);
    expect(f.b).toBeCloseTo(0.75, 12);
    expect(f.seB!).toBeCloseTo(0.03, 12);
    expect(f.seA!).toBeCloseTo(0.0994987437106622, 12);
    // t(0.975, 3) = 3.18244631
    expect(f.ciB!.low).toBeCloseTo(0.75 - 3.18244631 * 0.03, 6);
    expect(f.ciA!.high).toBeCloseTo(1.39 + 3.18244631 * 0.0994987437106622, 6);
  });
  it('has no intervals with two points and refuses one distinct x', () => {
    const f = fitLine([1, 2], [3, 5]);
    expect([f.a, f.b, f.ciA, f.seB]).toEqual([1, 2, null, null]);
    expect(() => fitLine([1, 1, 1], [1, 2, 3])).toThrow(RangeError);
    expect(() => fitLine([1, 2], [1])).toThrow(RangeError);
  });
  it('pairs bootstrap is deterministic and brackets the estimate', () => {
    const xs = [1, 1, 1, 2, 2, 2, 4, 4, 4];
    const ys = [3.1, 2.9, 3.0, 4.1, 3.9, 4.0, 6.2, 5.8, 6.0];
    const a = bootstrapLineCI(xs, ys);
    expect(a).toEqual(bootstrapLineCI(xs, ys));
    const f = fitLine(xs, ys);
    expect(a.b.low).toBeLessThanOrEqual(f.b);
    expect(a.b.high).toBeGreaterThanOrEqual(f.b);
  });
  it('reciprocalInterval flips a positive interval and refuses one that reaches 0', () => {
    expect(reciprocalInterval({ low: 0.5, high: 2 })).toEqual({ low: 0.5, high: 2 });
    expect(reciprocalInterval({ low: 0.25, high: 0.5 })).toEqual({ low: 2, high: 4 });
    expect(reciprocalInterval({ low: -1, high: 2 })).toBeNull();
    expect(reciprocalInterval(null)).toBeNull();
  });
});
