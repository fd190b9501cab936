import { describe, expect, it } from 'vitest';
import { canonicalBytes, mergeCounts, tableToCounts, type Counts } from './counts.js';
import { generateCorpus } from './corpus.js';
import { splitRanges } from './split.js';
import { ByteWordTable, countRange, hashBytes } from './word-table.js';

function oracle(buf: Uint8Array): Counts {
  const c: Counts = new Map();
  for (const w of Buffer.from(buf).toString('latin1').split(/[ \t\n\v\f\r]+/)) {
    if (w !== '') c.set(w, (c.get(w) ?? 0) + 1);
  }
  return c;
}

function countSplit(buf: Uint8Array, p: number): Counts {
  const all: Counts = new Map();
  for (const r of splitRanges(buf.length, p)) mergeCounts(all, tableToCounts(countRange(buf, r.start, r.end)));
  return all;
}

function countAt(buf: Uint8Array, cuts: number[]): Counts {
  const all: Counts = new Map();
  const edges = [0, ...cuts, buf.length];
  for (let i = 1; i < edges.length; i++) mergeCounts(all, tableToCounts(countRange(buf, edges[i - 1], edges[i])));
  return all;
}

function expectSame(a: Counts, b: Counts): void {
  expect(canonicalBytes(a).toString('latin1')).toBe(canonicalBytes(b).toString('latin1'));
}

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('countRange', () => {
  it('counts case-sensitive words separated by every kind of whitespace', () => {
    const buf = b('a b\tc\nd\ve\ff\rg A a  a\r\n\t b');
    const t = countRange(buf, 0, buf.length);
    const c = tableToCounts(t);
    expect(t.total).toBe(11);
    expect(t.distinct).toBe(8);
    expect(c.get('a')).toBe(3);
    expect(c.get('A')).toBe(1);
    expect(c.get('b')).toBe(2);
  });

  it('treats 0x00, 0xff, 0xa0, 0x85 and other control bytes as word bytes', () => {
    const buf = Buffer.from([0xff, 0x00, 0x20, 0xa0, 0x0a, 0x85, 0x01, 0x20, 0xff, 0x00]);
    const c = tableToCounts(countRange(buf, 0, buf.length));
    expect([...c.entries()].sort()).toEqual([['\u0085\u0001', 1], ['\u00a0', 1], ['\u00ff\u0000', 2]]);
  });

  it('handles empty input, all-whitespace input and no trailing newline', () => {
    expect(countRange(new Uint8Array(0), 0, 0).total).toBe(0);
    const ws = b(' \t\n\v\f\r'.repeat(1000));
    for (const p of [1, 3, 16]) expect(countSplit(ws, p).size).toBe(0);
    const noNl = b('x y z');
    expectSame(countSplit(noNl, 1), oracle(noNl));
    expectSame(countSplit(noNl, 2), oracle(noNl));
  });

  it('counts a word exactly once wherever the boundaries fall', () => {
    const buf = Buffer.from('alpha beta\tgamma  café naïve 東京 🙂x\r\nend\n', 'utf8');
    const want = oracle(buf);
    for (let i = 0; i <= buf.length; i++) {
      for (let j = i; j <= buf.length; j++) expectSame(countAt(buf, [i, j]), want);
    }
  });

  it('splits correctly inside multi-byte UTF-8 sequences', () => {
    const buf = Buffer.from('東京東京 🙂🙂🙂 naïve\n', 'utf8');
    for (let p = 1; p <= buf.length + 3; p++) expectSame(countSplit(buf, p), oracle(buf));
  });

  it('works when P exceeds the number of words and the file size', () => {
    const buf = b('one two three');
    for (const p of [4, 13, 14, 50]) expectSame(countSplit(buf, p), oracle(buf));
  });

  it('counts one huge line and one huge word across many ranges', () => {
    const line = generateCorpus({ bytes: 1 << 20, seed: 9 }).map((x) => (x === 0x0a || x === 0x0d ? 0x20 : x));
    expectSame(countSplit(line, 7), oracle(line));
    const word = Buffer.alloc(1 << 20, 0x78);
    for (const p of [1, 2, 7, 16]) {
      const c = countSplit(word, p);
      expect(c.size).toBe(1);
      expect(c.get('x'.repeat(1 << 20))).toBe(1);
    }
  });

  it('respects size: words end at size even without whitespace', () => {
    const buf = b('abc def ghi');
    expect([...tableToCounts(countRange(buf, 0, 11, 6)).keys()].sort()).toEqual(['abc', 'de']);
    expect(tableToCounts(countRange(buf, 5, 11, 6)).size).toBe(0);
    expect(tableToCounts(countRange(buf, 4, 5)).get('def')).toBe(1);
    expect(() => countRange(buf, 0, 3, 12)).toThrow(RangeError);
    expect(() => countRange(buf, -1, 3)).toThrow(RangeError);
  });

  it('returns empty for start >= end', () => {
    const buf = b('abc def');
    expect(countRange(buf, 4, 4).total).toBe(0);
    expect(countRange(buf, 5, 2).total).toBe(0);
    expect(countRange(buf, 20, 30).total).toBe(0);
  });

  it('matches a regex oracle on random splits of a generated corpus', () => {
    const buf = generateCorpus({ bytes: 300_000, seed: 3, vocabulary: 2000 });
    const want = oracle(buf);
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    for (let k = 0; k < 30; k++) {
      const cuts = Array.from({ length: 1 + rnd(10) }, () => rnd(buf.length + 1)).sort((x, y) => x - y);
      expectSame(countAt(buf, cuts), want);
    }
  });

  it('keeps words with equal 32-bit hashes apart', () => {
    const pairs = [['k4uzxq', 'kf2adq'], ['k4uzyq', 'kf2aeq']];
    for (const [x, y] of pairs) expect(hashBytes(b(x), 0, 6)).toBe(hashBytes(b(y), 0, 6));
    const buf = b('k4uzxq kf2adq kf2adq k4uzyq kf2aeq kf2aeq kf2aeq k4uzxq');
    const t = countRange(buf, 0, buf.length);
    expect(Object.fromEntries(tableToCounts(t))).toEqual({ k4uzxq: 2, kf2adq: 2, k4uzyq: 1, kf2aeq: 3 });
    const m = new ByteWordTable();
    m.merge(t);
    m.add(b('kf2adq'), 0, 6);
    expect(Object.fromEntries(tableToCounts(m))).toEqual({ k4uzxq: 2, kf2adq: 3, k4uzyq: 1, kf2aeq: 3 });
  });

  it('grows through many distinct words', () => {
    const words = Array.from({ length: 200_000 }, (_, i) => `w${i.toString(36)}`);
    const buf = b(words.join(' ') + ' ' + words.slice(0, 1000).join('\n'));
    const t = countRange(buf, 0, buf.length);
    expect(t.distinct).toBe(200_000);
    expect(t.total).toBe(201_000);
    expectSame(tableToCounts(t), oracle(buf));
  });

  it('merges tables and adds words directly', () => {
    const x = countRange(b('a b b'), 0, 5);
    const y = countRange(b('b c'), 0, 3);
    const m = new ByteWordTable();
    m.merge(x);
    m.merge(y);
    m.add(b('zz'), 0, 2, 5);
    expect(m.total).toBe(10);
    expect(Object.fromEntries(tableToCounts(m))).toEqual({ a: 1, b: 3, c: 1, zz: 5 });
  });

  it('lets one table accumulate several ranges', () => {
    const buf = generateCorpus({ bytes: 50_000, seed: 4 });
    const t = new ByteWordTable(8);
    for (const r of splitRanges(buf.length, 5)) t.countRange(buf, r.start, r.end);
    expectSame(tableToCounts(t), oracle(buf));
  });
});
