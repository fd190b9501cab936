import { describe, expect, it } from 'vitest';
import { CanonicalError, checkCanonical, decodeCheckedCanonical, mergeCanonical, topWordsCanonical } from './canonical.js';
import { canonicalBytes, mergeCounts, parseCanonical, tableToCounts, topWords, type Counts } from './counts.js';
import { generateCorpus } from './corpus.js';
import { splitRanges } from './split.js';
import { WasmWordTable } from './wasm-word-table.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('checkCanonical', () => {
  it('returns the totals of a canonical file (JS and WebAssembly checks)', () => {
    expect(checkCanonical(b(''))).toEqual({ words: 0, distinct: 0 });
    expect(checkCanonical(b('a\t2\nb\t10\n\xff\t1\n'))).toEqual({ words: 13, distinct: 3 });
    for (const text of ['', 'a\t2\nb\t10\n\xff\t1\n', 'a\t1\nab\t1\nab\x00\t1\nb\t9007199254740988\n']) {
      const { canonical, ...totals } = decodeCheckedCanonical({ raw: b(text) });
      expect(totals).toEqual(checkCanonical(b(text)));
      expect(canonical.equals(b(text))).toBe(true);
      expect(decodeCheckedCanonical({ base64: b(text).toString('base64') }).canonical.equals(b(text))).toBe(true);
    }
    const big = WasmWordTable.fromBuffer(generateCorpus({ bytes: 300_000, seed: 4 }), 0, 300_000).canonical();
    const { canonical: _c, ...totals } = decodeCheckedCanonical({ base64: big.toString('base64') });
    expect(totals).toEqual(checkCanonical(big));
  });

  it.each([
    ['unsorted', 'b\t1\na\t1\n', /not after the previous/],
    ['repeated', 'a\t1\na\t2\n', /not after the previous/],
    ['zero count', 'a\t0\n', /bad count/],
    ['leading zero', 'a\t01\n', /bad count/],
    ['negative', 'a\t-2\n', /bad count/],
    ['no count', 'a\t\n', /bad count/],
    ['no tab', 'a 1\n', /no tab/],
    ['empty word', '\t1\n', /no word/],
    ['no final newline', 'a\t1', /no newline/],
    ['huge count', 'a\t99999999999999999\n', /bad count/],
    ['whitespace in word', 'a\rb\t1\n', /no tab/],
    ['prefix after longer word', 'ab\t1\na\t1\n', /not after the previous/],
    ['sum above 2^53', 'a\t9007199254740991\nb\t1\n', /exceeds 2\^53/],
  ])('rejects %s (JS and WebAssembly checks)', (_name, text, re) => {
    expect(() => checkCanonical(b(text))).toThrow(CanonicalError);
    expect(() => checkCanonical(b(text))).toThrow(re);
    expect(() => decodeCheckedCanonical({ raw: b(text) })).toThrow(CanonicalError);
    expect(() => decodeCheckedCanonical({ raw: b(text) })).toThrow(re);
  });
});

describe('mergeCanonical', () => {
  it('equals merging maps, for the map outputs of P = 1, 2, 3, 7, 16', () => {
    const buf = generateCorpus({ bytes: 400_000, seed: 9, vocabulary: 3000 });
    const whole = WasmWordTable.fromBuffer(buf, 0, buf.length).canonical();
    for (const p of [1, 2, 3, 7, 16]) {
      const runs = splitRanges(buf.length, p).map((r) => WasmWordTable.fromBuffer(buf, r.start, r.end).canonical());
      const m = mergeCanonical(runs);
      expect(m.canonical.equals(whole), `P=${p}`).toBe(true);
      const all: Counts = new Map();
      for (const r of runs) mergeCounts(all, parseCanonical(r));
      expect(m.distinct).toBe(all.size);
      expect(m.words).toBe([...all.values()].reduce((x, y) => x + y, 0));
    }
  });

  it('merges empty inputs and sums counts that gain a digit', () => {
    expect(mergeCanonical([]).canonical.length).toBe(0);
    expect(mergeCanonical([b(''), b('')]).canonical.length).toBe(0);
    expect(mergeCanonical([b('a\t9\n'), b(''), b('a\t9\nb\t1\n')]).canonical.toString()).toBe('a\t18\nb\t1\n');
  });

  it('checks a single input instead of trusting it', () => {
    expect(() => mergeCanonical([b('b\t1\na\t1\n')])).toThrow(CanonicalError);
  });
});

describe('topWordsCanonical', () => {
  it('equals topWords on the parsed counts', () => {
    const buf = generateCorpus({ bytes: 200_000, seed: 2 });
    const c = WasmWordTable.fromBuffer(buf, 0, buf.length).canonical();
    expect(topWordsCanonical(c, 10)).toEqual(topWords(parseCanonical(c), 10));
    expect(topWordsCanonical(b('b\t2\na\t2\nc\t3\n'.split('\n').sort().join('\n').trim() + '\n'), 2)).toEqual([
      { word: 'c', count: 3 },
      { word: 'a', count: 2 },
    ]);
    expect(canonicalBytes(tableToCounts(WasmWordTable.fromBuffer(buf, 0, buf.length))).equals(c)).toBe(true);
  });
});
