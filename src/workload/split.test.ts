import { describe, expect, it } from 'vitest';
import { isWhitespace, splitRanges, WHITESPACE } from './split.js';

describe('splitRanges', () => {
  it('returns exactly P contiguous ranges covering [0, size)', () => {
    for (const size of [0, 1, 2, 7, 100, 1001, 65_537]) {
      for (const p of [1, 2, 3, 7, 16, 200]) {
        const r = splitRanges(size, p);
        expect(r).toHaveLength(p);
        expect(r[0].start).toBe(0);
        expect(r[p - 1].end).toBe(size);
        for (let i = 1; i < p; i++) expect(r[i].start).toBe(r[i - 1].end);
        const lens = r.map((x) => x.end - x.start);
        expect(Math.max(...lens) - Math.min(...lens)).toBeLessThanOrEqual(1);
      }
    }
  });

  it('gives empty ranges when P exceeds the size', () => {
    const r = splitRanges(3, 5);
    expect(r.filter((x) => x.end === x.start)).toHaveLength(2);
    expect(splitRanges(0, 4)).toEqual([0, 1, 2, 3].map(() => ({ start: 0, end: 0 })));
  });

  it('rejects bad arguments', () => {
    expect(() => splitRanges(-1, 2)).toThrow(RangeError);
    expect(() => splitRanges(10, 0)).toThrow(RangeError);
    expect(() => splitRanges(10, 1.5)).toThrow(RangeError);
  });
});

describe('whitespace table', () => {
  it('has exactly the six Hadoop separators', () => {
    const ws = [...Array(256).keys()].filter((b) => WHITESPACE[b] === 1);
    expect(ws).toEqual([0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20]);
    expect(isWhitespace(0x00)).toBe(false);
    expect(isWhitespace(0xa0)).toBe(false);
    expect(isWhitespace(0x85)).toBe(false);
  });
});
