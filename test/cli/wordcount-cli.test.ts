import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ProcessBackend } from '../../src/backends/process/process-backend.js';
import { generateCorpus } from '../../src/workload/corpus.js';
import { isolab, referenceCounts, startIsolab, tempDir } from './helpers.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const STAGES = ['start', 'launch', 'read', 'count', 'sort', 'encode', 'transfer', 'decode', 'exit', 'merge', 'hash', 'write', 'other', 'total'];

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
    expect(j).toMatchObject({ backend: 'process', parallelism: p, bytes: 2_000_000, attempts: p, retries: 0 });
    expect(j.words).toBe(expected.toString('latin1').split('\n').filter(Boolean).reduce((n, l) => n + Number(l.split('\t')[1]), 0));
    expect(j.distinct).toBe(expected.toString('latin1').split('\n').filter(Boolean).length);
    expect(typeof j.seconds).toBe('number');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('reports where the time went in stagesMs, stages summing to the total', async () => {
    const r = await isolab(['wordcount', '--input', input, '--json']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout).stagesMs as Record<string, number>;
    expect(Object.keys(s)).toEqual(STAGES);
    for (const k of STAGES) expect(Number.isFinite(s[k]), k).toBe(true);
    for (const k of ['start', 'launch', 'read', 'count', 'sort', 'decode', 'total']) expect(s[k], k).toBeGreaterThan(0);
    const sum = STAGES.filter((k) => k !== 'total').reduce((a, k) => a + s[k]!, 0);
    expect(Math.abs(sum - s.total!)).toBeLessThan(1);
  });

  it('reports the limits the process backend enforced, as its fingerprint says it can', async () => {
    const fp = await new ProcessBackend().fingerprint();
    const r = await isolab(['wordcount', '--input', input, '--json']);
    const limits = JSON.parse(r.stdout).limits;
    const cg = fp.attributes['process.cgroup']!;
    if (cg.startsWith('none')) expect(limits).toMatchObject({ cpus: false, mem: false, how: expect.stringMatching(/^not enforced/) });
    else expect(limits).toEqual({ cpus: true, mem: true, how: cg });
  });

  it('prints a human summary with the top 10 words', async () => {
    const r = await isolab(['wordcount', '--input', input]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/words, \d+ distinct/);
    expect(r.stdout.match(/^\s+\d+\. /gm)).toHaveLength(10);
  });

  it('counts an empty file without starting any executor', async () => {
    const empty = join(dir, 'empty.txt');
    writeFileSync(empty, '');
    const r = await isolab(['wordcount', '--input', empty, '-p', '3', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ words: 0, distinct: 0, bytes: 0, sha256: sha(Buffer.alloc(0)), attempts: 0, parallelism: 1 });
    expect(r.stderr).toBe('isolab: --parallelism 3 capped to 1: the input has 0 bytes (one map task per byte at most)\n');
  });

  it('caps --parallelism beyond the input\'s bytes with a one-line note, and still counts exactly', async () => {
    const six = join(dir, 'six.txt');
    writeFileSync(six, 'a b a\n');
    const r = await isolab(['wordcount', '--input', six, '-p', '100000', '--json'], {}, 60_000);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('isolab: --parallelism 100000 capped to 6: the input has 6 bytes (one map task per byte at most)\n');
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ parallelism: 6, words: 3, distinct: 2, attempts: 6 });
  });
});

describe('isolab wordcount --output', () => {
  it('refuses an output that is a planted symbolic link, before the job, and writes nothing through it', async () => {
    const dir = tempDir();
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'precious\n');
    const out = join(dir, 'out.tsv');
    symlinkSync(victim, out);
    const r = await isolab(['wordcount', '--input', '/etc/hostname', '--output', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`isolab: --output ${out}: is a symbolic link; refusing to write through it\n`);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(readdirSync(dir).sort()).toEqual(['out.tsv', 'victim']);
  });

  it('exits 2 before the job starts when the output folder does not exist', async () => {
    const r = await isolab(['wordcount', '--input', '/etc/hostname', '--output', '/nonexistent/dir/out.tsv', '--json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('isolab: --output /nonexistent/dir/out.tsv: cannot write there (no such folder)\n');
    expect(r.stdout).toBe('');
  });

  it('replaces an existing output file and leaves no temp file, also when the job fails', async () => {
    const dir = tempDir();
    const out = join(dir, 'out.tsv');
    writeFileSync(out, 'old\n');
    const ok = await isolab(['wordcount', '--input', '/etc/hostname', '--output', out]);
    expect(ok.code).toBe(0);
    expect(readFileSync(out, 'utf8')).not.toBe('old\n');
    const failed = await isolab(['wordcount', '--input', '/etc/hostname', '--output', out, '--timeout', '0.001', '--max-retries', '0']);
    expect(failed.code).toBe(1);
    expect(readdirSync(dir)).toEqual(['out.tsv']);
  });
});

describe('isolab usage errors', () => {
  const cases: [string, string[], RegExp][] = [
    ['missing input', ['wordcount', '--input', '/nonexistent/file'], /^isolab: .*no such file\n$/],
    ['no input flag', ['wordcount'], /^isolab: --input FILE is required\n$/],
    ['input not a regular file', ['wordcount', '--input', '/dev/zero'], /^isolab: \/dev\/zero: not a regular file\n$/],
    ['bad parallelism', ['wordcount', '--input', '/etc/hostname', '-p', 'x'], /^isolab: --parallelism must be an integer/],
    ['zero parallelism', ['wordcount', '--input', '/etc/hostname', '-p', '0'], /^isolab: --parallelism/],
    ['unknown backend', ['wordcount', '--input', '/etc/hostname', '--backend', 'jail'], /^isolab: unknown backend "jail"/],
    ['unknown flag', ['wordcount', '--frobnicate'], /^isolab: Unknown option --frobnicate/],
    ['bad resources', ['wordcount', '--input', '/etc/hostname', '--task-resources', 'cpu:1'], /^isolab: --task-resources: unknown resource "cpu"/],
    ['task larger than the agent', ['wordcount', '--input', '/etc/hostname', '--resources', 'cpus:1;mem:256', '--task-resources', 'cpus:2;mem:128'], /^isolab: --task-resources cpus:2;mem:128 do not fit the agent's cpus:1;mem:256/],
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

  it('refuses an unreadable input (as root: run without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH, so root is refused too)', async () => {
    const d = tempDir();
    mkdirSync(join(d, 'in'));
    const f = join(d, 'in', 'secret');
    writeFileSync(f, 'x');
    chmodSync(f, 0);
    const wrap = process.getuid?.() === 0 ? ['setpriv', '--bounding-set=-dac_override,-dac_read_search', '--'] : [];
    const r = await startIsolab(['wordcount', '--input', f], {}, 60_000, wrap).done;
    expect(r.stderr).toBe(`isolab: ${f}: permission denied\n`);
    expect(r.code).toBe(2);
  });

  it('refuses a map range larger than one task can count, saying which parallelism fits', async () => {
    const big = join(tempDir(), 'sparse.bin');
    writeFileSync(big, '');
    truncateSync(big, 4_000_000_000);
    const r = await isolab(['wordcount', '--input', big]);
    expect(r.code).toBe(2);
    rmSync(big);
    expect(r.stderr).toBe(`isolab: ${big}: 4000000000 bytes in 1 map task; one task counts at most 1800000000 bytes: use --parallelism 3 or more\n`);
  });

  it('prints the stack of an error only with ISOLAB_DEBUG', async () => {
    const plain = await isolab(['wordcount', '--input', '/nonexistent/file']);
    expect(plain.stderr.trim().split('\n')).toHaveLength(1);
    const debug = await isolab(['wordcount', '--input', '/nonexistent/file'], { ISOLAB_DEBUG: '1' });
    expect(debug.code).toBe(2);
    expect(debug.stderr.split('\n')[0]).toBe(plain.stderr.trim());
    expect(debug.stderr).toMatch(/\n\s+at .*\.js:\d+/);
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
});

describe('isolab doctor', () => {
  it('lists the process backend as usable', async () => {
    const r = await isolab(['doctor', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).process.health).toBe('healthy');
  });
});

describe('isolab corpus', () => {
  it('writes the generator\'s exact bytes, deterministic for a seed, with the vocabulary asked for', async () => {
    const d = tempDir();
    const a = join(d, 'a.txt');
    const r = await isolab(['corpus', '--out', a, '--size', '0.05', '--seed', '3', '--vocabulary', '500']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`wrote 50000 bytes to ${a}\n`);
    expect(readFileSync(a).equals(generateCorpus({ bytes: 50_000, seed: 3, vocabulary: 500 }))).toBe(true);
    const b = join(d, 'b.txt');
    await isolab(['corpus', '--out', b, '--size', '0.05', '--seed', '4', '--vocabulary', '500']);
    expect(readFileSync(b).equals(readFileSync(a))).toBe(false);
  });

  it('rejects bad flags with exit 2 and an unwritable --out with exit 1', async () => {
    expect((await isolab(['corpus'])).code).toBe(2);
    expect((await isolab(['corpus', '--out', '/tmp/x', '--size', 'big'])).code).toBe(2);
    const r = await isolab(['corpus', '--out', '/nonexistent/dir/c.txt', '--size', '0.001']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^isolab: cannot write \/nonexistent\/dir\/c.txt/);
    expect(existsSync('/nonexistent/dir/c.txt')).toBe(false);
  });
});
