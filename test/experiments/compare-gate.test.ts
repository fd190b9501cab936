import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ResultsFile } from '../../src/experiments/types.js';
import type { Summary } from '../../src/stats/summary.js';
import { spawnIsolab, tempDir } from './helpers.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'results.json');

/** A summary with every value multiplied by k (a synthetic change of the same spread, relative). */
function scaled(s: Summary, k: number): Summary {
  const m = (x: number | null): number | null => (x === null ? null : x * k);
  return { ...s, median: m(s.median), p95: m(s.p95), min: m(s.min), max: m(s.max), mean: m(s.mean), stddev: m(s.stddev), ciLow: m(s.ciLow), ciHigh: m(s.ciHigh) };
}

/** Writes the fixture, changed by `edit`, into a fresh folder; returns the folder. */
function run(edit: (r: ResultsFile) => void = () => {}): string {
  const dir = tempDir('isolab-compare-');
  const res = JSON.parse(readFileSync(FIXTURE, 'utf8')) as ResultsFile;
  edit(res);
  writeFileSync(join(dir, 'results.json'), JSON.stringify(res));
  return dir;
}

async function compare(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const r = spawnIsolab(['compare', ...args], {}, 60_000);
  const code = await r.exit;
  return { code, stdout: r.stdout(), stderr: r.stderr() };
}

describe('isolab compare as a regression gate', () => {
  it('exits 1 on a synthetic regression: docker start-up 1.6× slower, intervals apart', async () => {
    const base = run();
    const next = run((r) => {
      const d = r.startup.find((x) => x.backend === 'docker')!;
      for (const [k, s] of Object.entries(d.summary)) (d.summary as Record<string, Summary>)[k] = scaled(s!, 1.6);
    });
    const r = await compare(base, next);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^# isolab: two runs compared/);
    expect(r.stdout).toContain('**Gate: FAIL.**');
    expect(r.stdout).toMatch(/\| startup +\| docker +\| warm +\| requested → executor ready \(start-up\) .*\| regression +\|/);
    expect(r.stderr).toBe('');
  });

  it('exits 0 on noise: every median 5 % worse, under the 10 % threshold; and on the same run twice', async () => {
    const base = run();
    const next = run((r) => {
      for (const x of r.startup) for (const [k, s] of Object.entries(x.summary)) (x.summary as Record<string, Summary>)[k] = scaled(s!, 1.05);
    });
    const r = await compare(base, next);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('**Gate: pass.**');
    const same = run();
    cpSync(join(base, 'results.json'), join(same, 'results.json'));
    expect((await compare(base, same)).code).toBe(0);
  });

  it('the threshold decides: process 30 % slower passes at 50 %, fails at 10 %; a bad threshold is a usage error', async () => {
    const base = run();
    const next = run((r) => {
      const d = r.startup.find((x) => x.backend === 'process')!;
      for (const [k, s] of Object.entries(d.summary)) (d.summary as Record<string, Summary>)[k] = scaled(s!, 1.3);
    });
    expect((await compare(base, next, '--max-regression', '50%')).code).toBe(0);
    expect((await compare(base, next, '--max-regression', '10')).code).toBe(1);
    const bad = await compare(base, next, '--max-regression', 'lots');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^isolab: --max-regression takes a percentage/);
  });
});
