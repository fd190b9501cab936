import { describe, expect, it } from 'vitest';
import { madOutliers, modifiedZScores } from './outliers.js';

describe('madOutliers', () => {
  it('flags only the 100 in [10,10,11,10,12,10,100] (MAD = 0, mean-AD fallback)', () => {
    // median 10, |x - 10| = [0,0,1,0,2,0,90] → MAD 0, MeanAD = 93/7 = 13.2857…
    // 0.7979 * 90 / 13.2857 = 5.405 > 3.5; 0.7979 * 2 / 13.2857 = 0.120
    expect(madOutliers([10, 10, 11, 10, 12, 10, 100])).toEqual([6]);
  });
  it('uses 0.6745 (x - median) / MAD when MAD > 0', () => {
    const xs = [12.1, 11.8, 12.4, 13.0, 11.9, 12.2, 15.7, 12.0, 12.3, 11.7];
    // numpy: median 12.15, MAD 0.25 → z[6] = 0.6745 * 3.55 / 0.25 = 9.5779, z[3] = 2.2933
    const z = modifiedZScores(xs);
    expect(z[6]).toBeCloseTo(9.5779, 9);
    expect(z[3]).toBeCloseTo(2.2933, 9);
    expect(madOutliers(xs)).toEqual([6]);
    expect(madOutliers(xs, 2)).toEqual([3, 6]);
  });
  it('flags low outliers too', () => {
    expect(madOutliers([50, 51, 49, 50, 52, 48, 1])).toEqual([6]);
  });
  it('finds none in a constant or tiny sample', () => {
    expect(madOutliers([5, 5, 5, 5])).toEqual([]);
    expect(madOutliers([5])).toEqual([]);
    expect(madOutliers([])).toEqual([]);
    expect(modifiedZScores([5, 5, 5])).toEqual([0, 0, 0]);
  });
  it('rejects a non-positive threshold and leaves the input alone', () => {
    expect(() => madOutliers([1, 2, 3], 0)).toThrow(RangeError);
    const xs = Object.freeze([3, 1, 2, 100]);
    madOutliers(xs);
    expect(xs).toEqual([3, 1, 2, 100]);
  });
});
