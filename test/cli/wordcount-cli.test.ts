import { createHash } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateCorpus } from '../../src/workload/corpus.js';
import { isolab, referenceCounts, tempDir } from './helpers.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('isolab wordcount (process backend)', () => {
  let dir: string;
  let input: string;
  let expected: Buffer;

  beforeAll(() => {
    dir = tempDir();
    input = join(dir, 'corpus.txt');
    writeFileSync(input, generateCorpus({ bytes: 2_000_000, seed: 7 }));
    expected = referenceCounts(input);
  });

  it.each([1, 2, 3, 7, 16])('gives the oracle\'s sha256 at P=%i', async (p) => {
    const out = join(dir, `counts-${p}.tsv`);
    const r = await isolab(['wordcount', '--input', input, '--parallelism', String(p), '--output', out, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const j = JSON.parse(lines[0]!);
    expect(j.sha256).toBe(sha(expected));
    expect(readFileSync(out).equals(expected)).toBe(true);
    expect(j).toMatchObject({ backend: 'process', parallelism: p, bytes: 2_000_000 });
    expect(j.words).toBe(expected.toString('latin1').split('\n').filter(Boolean).reduce((n, l) => n + Number(l.split('\t')[1]), 0));
    expect(j.distinct).toBe(expected.toString('latin1').split('\n').filter(Boolean).length);
    expect(typeof j.seconds).toBe('number');
  });

  it('prints a human summary with the top 10 words', async () => {
    const r = await isolab(['wordcount', '--input', input]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/words, \d+ distinct/);
    expect(r.stdout.match(/^\s+\d+\. /gm)).toHaveLength(10);
  });

  it('counts an empty file', async () => {
    const empty = join(dir, 'empty.txt');
    writeFileSync(empty, '');
    const r = await isolab(['wordcount', '--input', empty, '-p', '3', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ words: 0, distinct: 0, bytes: 0, sha256: sha(Buffer.alloc(0)) });
  });
});

describe('isolab usage errors', () => {
  const cases: [string, string[], RegExp][] = [
    ['missing input', ['wordcount', '--input', '/nonexistent/file'], /^isolab: .*no such file\n$/],
    ['no input flag', ['wordcount'], /^isolab: --input FILE is required\n$/],
    ['bad parallelism', ['wordcount', '--input', '/etc/hostname', '-p', 'x'], /^isolab: --parallelism must be an integer/],
    ['zero parallelism', ['wordcount', '--input', '/etc/hostname', '-p', '0'], /^isolab: --parallelism/],
    ['unknown backend', ['wordcount', '--input', '/etc/hostname', '--backend', 'jail'], /^isolab: unknown backend "jail"/],
    ['unknown flag', ['wordcount', '--frobnicate'], /^isolab: Unknown option --frobnicate/],
    ['bad resources', ['wordcount', '--input', '/etc/hostname', '--task-resources', 'cpu:1'], /^isolab: --task-resources: unknown resource "cpu"/],
    ['unknown command', ['frobnicate'], /^isolab: unknown command "frobnicate"/],
  ];
  it.each(cases)('%s: one line on stderr, exit 2, no stack', async (_name, args, re) => {
    const r = await isolab(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(re);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
    expect(r.stdout).toBe('');
  });

  it('refuses an unreadable input', async () => {
    if (process.getuid?.() === 0) return; // root reads anything
    const f = join(tempDir(), 'secret');
    writeFileSync(f, 'x');
    chmodSync(f, 0);
    const r = await isolab(['wordcount', '--input', f]);
    expect(r.code).toBe(2);
  });

  it('has --help on every command', async () => {
    const top = await isolab(['--help']);
    expect(top.code).toBe(0);
    const names = [...top.stdout.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1]!);
    expect(names).toContain('wordcount');
    for (const n of names) {
      const r = await isolab([n, '--help']);
      expect(r.code, n).toBe(0);
      expect(r.stdout, n).toMatch(/^Usage: isolab /);
    }
  });

  it('fails at run time with exit 1 when the output cannot be written', async () => {
    const r = await isolab(['wordcount', '--input', '/etc/hostname', '--output', '/nonexistent/dir/out.tsv']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^isolab: cannot write/);
  });
});

describe('isolab doctor', () => {
  it('lists the process backend as usable', async () => {
    const r = await isolab(['doctor', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).process.health).toBe('healthy');
  });
});
