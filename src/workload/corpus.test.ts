import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CorpusGenerator, generateCorpus, writeCorpus } from './corpus.js';
import { tableToCounts, topWords } from './counts.js';
import { countRange } from './word-table.js';

describe('generateCorpus', () => {
  it('is deterministic and exactly sized', () => {
    for (const bytes of [0, 1, 7, 1000, 123_457]) {
      const a = generateCorpus({ bytes, seed: 42 });
      expect(a.length).toBe(bytes);
      expect(generateCorpus({ bytes, seed: 42 }).equals(a)).toBe(true);
    }
    const x = generateCorpus({ bytes: 10_000, seed: 1 });
    expect(generateCorpus({ bytes: 10_000 }).equals(x)).toBe(true);
    expect(generateCorpus({ bytes: 10_000, seed: 2 }).equals(x)).toBe(false);
    expect(generateCorpus({ bytes: 10_000, seed: 1, vocabulary: 500 }).equals(x)).toBe(false);
  });

  it('is a prefix of itself: a smaller size is a truncation of a larger one', () => {
    const big = generateCorpus({ bytes: 50_000, seed: 3 });
    expect(generateCorpus({ bytes: 12_345, seed: 3 }).equals(big.subarray(0, 12_345))).toBe(true);
  });

  it('gives the same bytes whatever the chunking', () => {
    const whole = generateCorpus({ bytes: 100_000, seed: 8 });
    const g = new CorpusGenerator({ seed: 8 });
    const parts: Buffer[] = [];
    let left = whole.length;
    for (let n = 1; left > 0; n = (n * 7 + 3) % 4099) {
      const part = Buffer.alloc(Math.min(n, left));
      g.fill(part);
      parts.push(part);
      left -= part.length;
    }
    expect(Buffer.concat(parts).equals(whole)).toBe(true);
  });

  it('streams to a file with the same bytes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'isolab-corpus-'));
    try {
      const bytes = (4 << 20) * 2 + 12_345;
      const path = join(dir, 'c.txt');
      await writeCorpus(path, { bytes, seed: 5 });
      expect((await readFile(path)).equals(generateCorpus({ bytes, seed: 5 }))).toBe(true);
      await writeCorpus(path, { bytes: 0 });
      expect((await readFile(path)).length).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('has Zipf-like frequencies, varied whitespace and multi-byte words', () => {
    const buf = generateCorpus({ bytes: 2_000_000, seed: 1 });
    const counts = tableToCounts(countRange(buf, 0, buf.length));
    const top = topWords(counts, 10);
    expect(top[0].count / top[9].count).toBeGreaterThan(5);
    expect(counts.size).toBeGreaterThan(10_000);
    for (const byte of [0x09, 0x0a, 0x0b, 0x0c, 0x0d]) expect(buf.includes(byte)).toBe(true);
    expect(buf.includes('  ')).toBe(true);
    expect(buf.includes('\r\n')).toBe(true);
    for (const w of ['café', 'naïve', '東京', '🙂x']) {
      expect(counts.get(Buffer.from(w, 'utf8').toString('latin1')) ?? 0, w).toBeGreaterThan(0);
    }
    expect([...counts.keys()].some((k) => /^[A-Z][a-z]/.test(k))).toBe(true);
    expect(buf.toString('utf8').includes('\ufffd')).toBe(false);
  });

  it('rejects bad sizes', () => {
    expect(() => generateCorpus({ bytes: -1 })).toThrow(RangeError);
    expect(() => generateCorpus({ bytes: 1.5 })).toThrow(RangeError);
    expect(() => generateCorpus({ bytes: 10, vocabulary: 0 })).toThrow(RangeError);
  });
});
