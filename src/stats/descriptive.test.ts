import { describe, expect, it } from 'vitest';
import { cv, max, mean, median, min, percentile, percentileOfSorted, sortedCopy, stddev } from './descriptive.js';

// A start-up time sample (ms) with one slow run; reference values from numpy 2.4:
//   np.median(xs) = 12.149999999999999, np.percentile(xs, 95) = 14.484999999999996,
//   np.percentile(xs, 25) = 11.925, np.mean(xs) = 12.51,
//   np.std(xs, ddof=1) = 1.1798775831039041, np.std(xs, ddof=1)/np.mean(xs) = 0.09431475484443679
const xs = [12.1, 11.8, 12.4, 13.0, 11.9, 12.2, 15.7, 12.0, 12.3, 11.7];

describe('median', () => {
  it('averages the two middle values for even n', () => {
    expect(median([1, 2, 3, 4])).toBe(2.5);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
  it('takes the middle value for odd n', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([7])).toBe(7);
  });
  it('matches numpy', () => {
    expect(median(xs)).toBe(12.149999999999999);
  });
});

describe('percentile (numpy linear)', () => {
  it('p95 of 1..20 is 19.05', () => {
    const oneToTwenty = Array.from({ length: 20 }, (_, i) => i + 1);
    // h = 19 * 0.95 = 18.05 → s[18] + 0.05 * (s[19] - s[18]) = 19 + 0.05
    expect(percentile(oneToTwenty, 95)).toBeCloseTo(19.05, 12);
  });
  it('matches numpy on an unsorted sample', () => {
    expect(percentile(xs, 95)).toBeCloseTo(14.484999999999996, 12);
    expect(percentile(xs, 25)).toBeCloseTo(11.925, 12);
    expect(percentile(xs, 50)).toBeCloseTo(12.15, 12);
  });
  it('handles the ends and fractional p', () => {
    expect(percentile([3, 1, 2], 0)).toBe(1);
    expect(percentile([3, 1, 2], 100)).toBe(3);
    expect(percentile([1, 2, 3, 4, 5], 10)).toBeCloseTo(1.4, 12); // np: 1.4
    expect(percentile([1, 2, 3, 4, 5], 99.9)).toBeCloseTo(4.996, 12); // np: 4.996
    expect(percentile([42], 37)).toBe(42);
  });
  it('rejects p outside [0, 100]', () => {
    expect(() => percentile([1, 2], -1)).toThrow(RangeError);
    expect(() => percentile([1, 2], 101)).toThrow(RangeError);
    expect(() => percentile([1, 2], Number.NaN)).toThrow(RangeError);
  });
  it('percentileOfSorted accepts typed arrays', () => {
    expect(percentileOfSorted(Float64Array.from([1, 2, 3, 4]), 50)).toBe(2.5);
  });
});

describe('moments and extremes', () => {
  it('mean, stddev (n-1) and cv match numpy', () => {
    expect(mean(xs)).toBeCloseTo(12.51, 12);
    expect(stddev(xs)).toBeCloseTo(1.1798775831039041, 12);
    expect(cv(xs)).toBeCloseTo(0.09431475484443679, 12);
  });
  it('stddev of [2,4,4,4,5,5,7,9] is sqrt(32/7)', () => {
    expect(stddev([2, 4, 4, 4, 5, 5, 7, 9])).toBeCloseTo(Math.sqrt(32 / 7), 12);
  });
  it('stddev and cv need two values; cv needs a non-zero mean', () => {
    expect(() => stddev([1])).toThrow(RangeError);
    expect(() => cv([1])).toThrow(RangeError);
    expect(() => cv([-1, 1])).toThrow(RangeError);
  });
  it('min and max', () => {
    expect(min(xs)).toBe(11.7);
    expect(max(xs)).toBe(15.7);
    expect(min([-3, -1e9, 2])).toBe(-1e9);
  });
});

describe('input handling', () => {
  it('rejects empty samples and non-finite values', () => {
    for (const f of [median, mean, min, max, stddev, cv, (a: number[]) => percentile(a, 50)]) {
      expect(() => f([])).toThrow(RangeError);
      expect(() => f([1, Number.NaN, 3])).toThrow(RangeError);
      expect(() => f([1, Number.POSITIVE_INFINITY])).toThrow(RangeError);
    }
  });
  it('never mutates the input', () => {
    const input = [3, 1, 2, 10, -4];
    const frozen = Object.freeze([...input]);
    median(frozen);
    percentile(frozen, 90);
    stddev(frozen);
    expect(frozen).toEqual(input);
    expect(sortedCopy(frozen)).toEqual([-4, 1, 2, 3, 10]);
  });
  it('sorts numerically, not lexicographically', () => {
    expect(sortedCopy([10, 9, 100, 1])).toEqual([1, 9, 10, 100]);
  });
});
