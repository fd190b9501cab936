import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { STARTUP_METRICS } from '../../src/experiments/startup.js';
import type { ResultsFile } from '../../src/experiments/types.js';
import { ms } from '../../src/report/render.js';
import { median } from '../../src/stats/descriptive.js';
import { spawnIsolab, tableRows, tempDir } from './helpers.js';

describe('isolab experiment startup --backends process --repeat 5 (end to end)', () => {
  it('writes results.json, results.csv, charts and a report whose medians are the medians of the raw samples', async () => {
    const out = tempDir();
    const run = spawnIsolab(['experiment', 'startup', '--backends', 'process', '--repeat', '5', '--warmup', '1', '--series', '2', '--out', out]);
    const code = await run.exit;
    expect(run.stderr()).toMatch(/isolab: plan:   startup · process · 1 first \+ 5 warm start-ups/);
    expect(run.stderr()).toMatch(/\[1\/\d+\] startup · process · first 1\/1 · .* ETA/);
    expect(run.stderr()).toMatch(/\[6\/\d+\] startup · process · warm 5\/5/);
    expect(run.stderr()).toMatch(/startup · process · 2 launched at once/);
    expect(code).toBe(0);
    const res = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ResultsFile;
    expect(res.status).toBe('complete');
    const r = res.startup.find((x) => x.backend === 'process')!;
    expect(r.status).toBe('done');
    expect(r.accelerator).toBe('none');
    expect(r.limitsRequested).toEqual(res.settings.startupResources);
    expect(r.limitsEnforced).not.toBeNull();
    expect(r.environment.hostname).toBe(res.environment.hostname);
    expect(r.samples.filter((s) => s.warmup)).toHaveLength(1);
    expect(r.samples[0]!.start).toBe('first');
    expect(r.series!.map((x) => [x.mode, x.n, x.ready])).toEqual([['serial', 2, 2], ['parallel', 2, 2]]);
    for (const s of r.samples) expect(s.task!.usage!.cpuSeconds).toBeGreaterThan(0);
    const measured = r.samples.filter((s) => !s.warmup && s.ok);
    expect(measured).toHaveLength(5);

    const report = readFileSync(join(out, 'report.md'), 'utf8');
    for (const m of STARTUP_METRICS) {
      const raw = measured.map((s) => s.durations[m.metric]!);
      const rawMedian = median(raw);
      expect(r.summary[m.metric]!.median).toBe(rawMedian);
      expect(median(measured.map((s) => s.phases[m.to]! - s.phases[m.from]!))).toBeCloseTo(rawMedian, 2);
      const row = tableRows(report, 'process', m.label);
      expect(row, m.label).toHaveLength(1);
      // columns: backend | interval | comparable | n | median | ...
      expect(row[0]![3]).toBe('5');
      expect(row[0]![4], m.label).toBe(ms(rawMedian));
    }
    const csv = readFileSync(join(out, 'results.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toMatch(/^experiment,backend,accelerator,config,metric,unit,n,median/);
    const total = csv.find((l) => l.startsWith('startup,process,none,warm,total,ms,5,'));
    expect(total).toBeDefined();
    for (const f of ['startup-distribution.svg', 'startup-phases.svg']) {
      expect(readFileSync(join(out, f), 'utf8')).toMatch(/^<svg/);
    }
    expect(existsSync(join(out, 'results.json.tmp'))).toBe(false);
  });
});
