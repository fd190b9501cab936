import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countFileRange, countRange, splitRanges } from './count.js';
import { canonicalBytes, mergeCounts, tableToCounts, type Counts } from './counts.js';
import { generateCorpus } from './corpus.js';
import type { WordTable } from './word-table.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'isolab-count-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, data: Uint8Array): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, data);
  return p;
}

const canon = (t: WordTable | Counts): string =>
  canonicalBytes(t instanceof Map ? t : tableToCounts(t)).toString('latin1');

describe('countFileRange', () => {
  it('equals countRange for many random ranges, with and without size', async () => {
    const buf = generateCorpus({ bytes: 200_000, seed: 5, vocabulary: 500 });
    const path = await file('corpus.txt', buf);
    let seed = 11;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    for (let k = 0; k < 80; k++) {
      const size = k % 3 === 0 ? buf.length : rnd(buf.length + 1);
      const start = rnd(buf.length + 10);
      const end = k % 5 === 0 ? start + rnd(40) : start + rnd(buf.length + 10 - start);
      const withSize = await countFileRange(path, start, end, size);
      expect(canon(withSize)).toBe(canon(countRange(buf, start, Math.min(end, size), size)));
      if (size === buf.length) expect(canon(await countFileRange(path, start, end))).toBe(canon(withSize));
    }
  });

  it('merges to the whole-file count for several parallelisms', async () => {
    const buf = generateCorpus({ bytes: 500_000, seed: 6 });
    const path = await file('p.txt', buf);
    const want = canon(countRange(buf, 0, buf.length));
    for (const p of [1, 2, 3, 7, 16]) {
      const all: Counts = new Map();
      for (const r of splitRanges(buf.length, p)) mergeCounts(all, tableToCounts(await countFileRange(path, r.start, r.end, buf.length)));
      expect(canon(all)).toBe(want);
    }
  });

  it('reads far past end to finish a long word, but never past size', async () => {
    const buf = Buffer.concat([Buffer.from('ab '), Buffer.alloc(300_000, 0x79), Buffer.from(' tail')]);
    const path = await file('long.txt', buf);
    const t = tableToCounts(await countFileRange(path, 0, 4));
    expect(t.get('ab')).toBe(1);
    expect(t.get('y'.repeat(300_000))).toBe(1);
    const cut = tableToCounts(await countFileRange(path, 2, 4, 100_003));
    expect([...cut.entries()]).toEqual([['y'.repeat(100_000), 1]]);
    expect((await countFileRange(path, 4, 300_004)).total).toBe(0);
    expect((await countFileRange(path, 10, 200_000)).total).toBe(0);
    expect(tableToCounts(await countFileRange(path, 4, 300_005)).get('tail')).toBe(1);
  });

  it('handles empty files, empty ranges and ranges past the end', async () => {
    const empty = await file('empty.txt', new Uint8Array(0));
    expect((await countFileRange(empty, 0, 0)).total).toBe(0);
    expect((await countFileRange(empty, 0, 100)).total).toBe(0);
    const small = await file('small.txt', Buffer.from('x y'));
    expect((await countFileRange(small, 2, 2)).total).toBe(0);
    expect((await countFileRange(small, 5, 9)).total).toBe(0);
    expect((await countFileRange(small, 0, 9)).total).toBe(2);
  });

  it('uses the given size instead of fstat (devices report 0)', async () => {
    const t = tableToCounts(await countFileRange('/dev/zero', 0, 100, 100));
    expect([...t.entries()]).toEqual([['\u0000'.repeat(100), 1]]);
    await expect(countFileRange('/dev/zero', 0, 100)).rejects.toThrow(/not a regular file/);
  });

  it('fails when size claims more bytes than the file has', async () => {
    const small = await file('short.txt', Buffer.from('x y'));
    await expect(countFileRange(small, 0, 10, 10)).rejects.toThrow(/unexpected end of input/);
    await expect(countFileRange(small, -1, 2)).rejects.toThrow(RangeError);
  });
});
