import { describe, expect, it } from 'vitest';
import {
  canonicalBytes,
  canonicalTableBytes,
  decodeCounts,
  displayWord,
  encodeCounts,
  encodeTable,
  mergeCounts,
  parseCanonical,
  sha256Hex,
  summarize,
  tableToCounts,
  topWords,
  type Counts,
} from './counts.js';
import { generateCorpus } from './corpus.js';
import { countRange } from './word-table.js';

const latin1 = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');

describe('counts', () => {
  it('keys words by their bytes as latin1 and sorts canonically by raw bytes', () => {
    const buf = Buffer.concat([Buffer.from('b a B café caf\u00e9 ~ \u00ff ', 'utf8'), Buffer.from([0xff, 0x20, 0x00, 0x0a])]);
    const c = tableToCounts(countRange(buf, 0, buf.length));
    expect(c.get(latin1('café'))).toBe(2);
    expect(c.get('\u00ff')).toBe(1);
    const lines = canonicalBytes(c).toString('latin1').split('\n');
    expect(lines).toEqual(['\u0000\t1', 'B\t1', 'a\t1', 'b\t1', `${latin1('café')}\t2`, '~\t1', `${latin1('ÿ')}\t1`, '\u00ff\t1', '']);
    expect(displayWord(latin1('café'))).toBe('café');
  });

  it('round-trips through canonical bytes and the gzip+base64 wire form', () => {
    const buf = generateCorpus({ bytes: 100_000, seed: 2 });
    const t = countRange(buf, 0, buf.length);
    const c = tableToCounts(t);
    const canon = canonicalBytes(c);
    expect(canonicalTableBytes(t).equals(canon)).toBe(true);
    expect(canonicalBytes(parseCanonical(canon)).equals(canon)).toBe(true);
    const wire = encodeCounts(c);
    expect(wire).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(encodeTable(t)).toBe(wire);
    expect(canonicalBytes(decodeCounts(wire)).equals(canon)).toBe(true);
    expect(decodeCounts(encodeCounts(new Map())).size).toBe(0);
    expect(sha256Hex(canon)).toMatch(/^[0-9a-f]{64}$/);
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('rejects malformed canonical input', () => {
    for (const bad of ['a\t1', 'a 1\n', '\t1\n', 'a\t\n', 'a\t1x\n', 'a\t1\na\t2\n']) {
      expect(() => parseCanonical(Buffer.from(bad, 'latin1')), JSON.stringify(bad)).toThrow(/canonical counts/);
    }
  });

  it('merges, summarizes and ranks', () => {
    const a: Counts = new Map([['x', 2], ['y', 5]]);
    mergeCounts(a, new Map([['y', 1], ['z', 6], ['w', 6]]));
    expect(summarize(a)).toEqual({ words: 20, distinct: 4 });
    expect(topWords(a, 3)).toEqual([{ word: 'w', count: 6 }, { word: 'y', count: 6 }, { word: 'z', count: 6 }]);
    expect(topWords(a, 10)).toHaveLength(4);
    expect(topWords(a, 0)).toEqual([]);
  });
});
