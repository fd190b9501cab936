import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countFileRange } from './count.js';
import { generateCorpus } from './corpus.js';
import { canonicalBytes, mergeCounts, sha256Hex, tableToCounts, type Counts } from './counts.js';
import { splitRanges } from './split.js';
import { countRange } from './word-table.js';

const run = promisify(execFile);
const REFERENCE = resolve(dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/wordcount_reference.py');

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'isolab-ref-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function referenceSha(data: Uint8Array, name: string): Promise<{ sha: string; path: string }> {
  const path = join(dir, name);
  await writeFile(path, data);
  const { stdout } = await run('python3', [REFERENCE, path], { encoding: 'buffer', maxBuffer: 1 << 30 });
  return { sha: sha256Hex(stdout), path };
}

function kernelSha(buf: Uint8Array, p: number): string {
  const all: Counts = new Map();
  for (const r of splitRanges(buf.length, p)) mergeCounts(all, tableToCounts(countRange(buf, r.start, r.end)));
  return sha256Hex(canonicalBytes(all));
}

const PARALLELISM = [1, 2, 3, 7, 16];

describe('kernel vs the Python reference (re.findall + Counter)', () => {
  const corpora = [
    { name: 'default', opts: { bytes: 3_000_000, seed: 1 } },
    { name: 'small-vocab', opts: { bytes: 1_000_003, seed: 77, vocabulary: 300 } },
    { name: 'tiny', opts: { bytes: 997, seed: 5, vocabulary: 50 } },
  ];
  for (const { name, opts } of corpora) {
    it(`agrees on the ${name} corpus for P = ${PARALLELISM.join(', ')}`, async () => {
      const buf = generateCorpus(opts);
      const ref = await referenceSha(buf, `${name}.txt`);
      for (const p of PARALLELISM) expect(kernelSha(buf, p), `P=${p}`).toBe(ref.sha);
      const viaFile: Counts = new Map();
      for (const r of splitRanges(buf.length, 7)) mergeCounts(viaFile, tableToCounts(await countFileRange(ref.path, r.start, r.end, buf.length)));
      expect(sha256Hex(canonicalBytes(viaFile))).toBe(ref.sha);
    });
  }

  it('agrees on edge-case inputs', async () => {
    const cases: Record<string, Uint8Array> = {
      empty: new Uint8Array(0),
      allWhitespace: Buffer.from(' \t\n\v\f\r  \r\n\n'),
      noTrailingNewline: Buffer.from('last word'),
      everySeparator: Buffer.from('a b\tc\nd\ve\ff\rg\r\nh  i\t\tj'),
      binary: Buffer.from([0xff, 0x00, 0x20, 0xff, 0x00, 0x0a, 0x80, 0xc3, 0x28, 0x09, 0x00, 0x85, 0xa0]),
      utf8: Buffer.from('café naïve 東京 🙂x Café CAFÉ café\n', 'utf8'),
      hugeLine: Buffer.from(generateCorpus({ bytes: 1 << 20, seed: 3 }).map((x) => (x === 0x0a || x === 0x0d ? 0x20 : x))),
      hugeWord: Buffer.alloc(1 << 20, 0x41),
      fewWords: Buffer.from(' x  y '),
    };
    for (const [name, buf] of Object.entries(cases)) {
      const ref = await referenceSha(buf, `${name}.bin`);
      for (const p of [...PARALLELISM, Math.min(buf.length + 5, 5000)]) expect(kernelSha(buf, p), `${name} P=${p}`).toBe(ref.sha);
    }
  });
});
