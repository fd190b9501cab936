import { describe, expect, it } from 'vitest';
import { checkCanonical } from './canonical.js';
import { canonicalBytes, tableToCounts } from './counts.js';
import { generateCorpus } from './corpus.js';
import { WasmWordTable } from './wasm-word-table.js';
import { countRange } from './word-table.js';

/** The JS kernel's canonical file, sorted by JS string order on latin1 keys: the reference. */
const reference = (buf: Uint8Array, start: number, end: number, size = buf.length): Buffer =>
  canonicalBytes(tableToCounts(countRange(buf, start, end, size)));

function prng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) % n;
  };
}

describe('WasmWordTable (the WebAssembly kernel)', () => {
  it('counts, sorts and writes like the JS kernel on a generated corpus', () => {
    const buf = generateCorpus({ bytes: 300_000, seed: 3, vocabulary: 5000 });
    const t = WasmWordTable.fromBuffer(buf, 0, buf.length);
    const want = reference(buf, 0, buf.length);
    expect(t.canonical().equals(want)).toBe(true);
    expect(checkCanonical(t.canonical())).toEqual({ words: t.total, distinct: t.distinct });
  });

  it('agrees on random ranges of random bytes, including NUL and bytes >= 0x80', () => {
    const rnd = prng(17);
    const alphabet = [0x00, 0x01, 0x61, 0x62, 0x7f, 0x80, 0xff, 0x20, 0x0a, 0x09, 0x0b, 0x0c, 0x0d, 0x20];
    const buf = new Uint8Array(20_000);
    for (let i = 0; i < buf.length; i++) buf[i] = alphabet[rnd(alphabet.length)]!;
    for (let k = 0; k < 60; k++) {
      const size = k % 4 === 0 ? buf.length : rnd(buf.length + 1);
      const start = rnd(buf.length);
      const end = start + rnd(buf.length - start + 5);
      const got = WasmWordTable.fromBuffer(buf, start, end, size).canonical();
      expect(got.equals(reference(buf, start, end, size)), `range ${start}-${end} of ${size}`).toBe(true);
    }
  });

  it('orders words that tie on their first 8 bytes, and words that are zero-padded prefixes of others', () => {
    const words = ['ab', 'ab\0', 'ab\0\0\0\0\0\0', 'ab\0\0\0\0\0\0x', 'ab\0\0\0\0\0\0\0', 'abcdefgh', 'abcdefghi', 'abcdefgh\xff', 'abcdefgh\x01', 'abcdefg', 'b', '\xff', '\0'];
    const text = Buffer.from(words.flatMap((w, i) => Array.from({ length: i + 1 }, () => w)).join(' '), 'latin1');
    const t = WasmWordTable.fromBuffer(text, 0, text.length);
    expect(t.canonical().equals(reference(text, 0, text.length))).toBe(true);
    expect(t.distinct).toBe(words.length);
  });

  it('sorts many long words that share prefixes (quicksort partitions and tie-breaks)', () => {
    const rnd = prng(5);
    const parts: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const tail = Array.from({ length: rnd(12) }, () => String.fromCharCode(0x61 + rnd(3))).join('');
      parts.push(`prefix-${rnd(4)}${tail}`);
    }
    const buf = Buffer.from(parts.join('\n'), 'latin1');
    const t = WasmWordTable.fromBuffer(buf, 0, buf.length);
    expect(t.canonical().equals(reference(buf, 0, buf.length))).toBe(true);
  });

  it('grows its table through many distinct words and keeps counts above 2^16', () => {
    const parts: string[] = [];
    for (let i = 0; i < 150_000; i++) parts.push(`w${i.toString(36)}`);
    for (let i = 0; i < 70_000; i++) parts.push('the');
    const buf = Buffer.from(parts.join(' '));
    const t = WasmWordTable.fromBuffer(buf, 0, buf.length);
    expect(t.distinct).toBe(150_001);
    expect(t.total).toBe(220_000);
    const c = t.canonical();
    expect(c.equals(reference(buf, 0, buf.length))).toBe(true);
    expect(c.toString('latin1')).toMatch(/(^|\n)the\t70000\n/);
  });

  it('handles empty, all-separator and single-word inputs', () => {
    for (const s of ['', ' ', '\n\t\r', 'x', 'word', ' lead', 'trail ']) {
      const b = Buffer.from(s);
      expect(WasmWordTable.fromBuffer(b, 0, b.length).canonical().equals(reference(b, 0, b.length)), JSON.stringify(s)).toBe(true);
    }
  });
});
