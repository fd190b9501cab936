import { describe, expect, it } from 'vitest';
import { ratioOfMedians } from './compare.js';
import { summarize } from './summary.js';

describe('ratioOfMedians (speed-ups)', () => {
  it('is measurable only when the intervals do not overlap', () => {
    const p1 = summarize([6.0, 6.1, 5.9, 6.2, 6.05, 5.95]);
    const p2 = summarize([3.5, 3.6, 3.4, 3.55, 3.45, 3.7]);
    const r = ratioOfMedians(p1, p2);
    expect(r.measurable).toBe(true);
    expect(r.ratio).toBeCloseTo(6.025 / 3.525, 12);
    expect(r.interval!.low).toBeCloseTo(5.9 / 3.7, 12);
    expect(r.interval!.high).toBeCloseTo(6.2 / 3.4, 12);
  });
  it('says why when it is not', () => {
    const a = summarize([1, 2, 3, 4, 5, 6]);
    const b = summarize([2, 3, 4, 5, 6, 7]);
    expect(ratioOfMedians(a, b)).toMatchObject({ measurable: false, why: 'intervals overlap' });
    expect(ratioOfMedians(summarize([1, 2, 3]), b)).toMatchObject({ measurable: false, interval: null });
  });
});
