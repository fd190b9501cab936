import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/workload/counts.js';
import { generateCorpus } from '../../src/workload/corpus.js';
import { isolab, referenceCounts, tempDir } from './helpers.js';

describe('isolab wordcount --backend docker (real dockerd) against the Python oracle', () => {
  let dir: string;
  let input: string;
  let expected: Buffer;
  beforeAll(() => {
    dir = tempDir();
    input = join(dir, 'corpus.txt');
    writeFileSync(input, generateCorpus({ bytes: 2_000_000, seed: 7 }));
    expected = referenceCounts(input);
  });

  it.each([1, 2, 3, 7, 16])('P=%i', async (p) => {
    const out = join(dir, `counts-${p}.tsv`);
    const r = await isolab(['wordcount', '--backend', 'docker', '--input', input, '-p', String(p), '--output', out, '--json'], {}, 180_000);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ sha256: sha256Hex(expected), backend: 'docker', parallelism: p, attempts: p });
    expect(readFileSync(out).equals(expected)).toBe(true);
  }, 180_000);
});
