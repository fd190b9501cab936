import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readResults } from '../../src/experiments/results-store.js';
import { RESULTS_SCHEMA, type ResultsFile, type StartupMetric } from '../../src/experiments/types.js';
import { compareMarkdown } from '../../src/report/compare.js';
import { caveats } from '../../src/report/caveats.js';
import { CSV_COLUMNS, csvField, resultsCsv } from '../../src/report/csv.js';
import { renderMarkdown } from '../../src/report/render.js';
import { chartJobs } from '../../src/report/report-charts.js';
import { headlines, summaryLines } from '../../src/report/summary.js';
import { summarize } from '../../src/stats/summary.js';
import { intervalsOf, STARTUP_METRICS } from '../../src/experiments/intervals.js';
import { buildFixture, writeFixture } from './fixtures/build-fixture.js';
import { tableRows, tempDir } from './helpers.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'results.json');

if (process.env.UPDATE_FIXTURE === '1') writeFixture(FIXTURE);

/** The committed fixture: synthetic (fixture-host, fixed dates and commit), built by build-fixture.ts. */
function fixture(): ResultsFile {
  return JSON.parse(readFileSync(FIXTURE, 'utf8')) as ResultsFile;
}

/** Scales one backend's warm start-up samples by k and recomputes its summaries from them (a synthetic change). */
function scaleStartup(res: ResultsFile, backend: string, k: number): void {
  const r = res.startup.find((x) => x.backend === backend)!;
  for (const s of r.samples) {
    const t0 = s.phases.offered!;
    for (const p of Object.keys(s.phases)) s.phases[p] = t0 + (s.phases[p]! - t0) * k;
    s.durations = intervalsOf(s.phases);
  }
  const warm = r.samples.filter((s) => !s.warmup);
  for (const m of STARTUP_METRICS) r.summary[m.metric as StartupMetric] = summarize(warm.map((s) => s.durations[m.metric]!).filter((v) => v !== undefined));
}

describe('the fixture', () => {
  it('is exactly what build-fixture.ts computes from its seeded raw samples (regenerate with UPDATE_FIXTURE=1, never edit by hand)', () => {
    expect(fixture()).toEqual(JSON.parse(JSON.stringify(buildFixture())));
    expect(fixture().schema).toBe(RESULTS_SCHEMA);
  });
});

describe('report rendering', () => {
  it('matches the snapshot for a fixed results.json', async () => {
    await expect(renderMarkdown(fixture())).toMatchFileSnapshot('__snapshots__/report.md');
  });

  it('stands alone, in order: title, status, what was compared, caveats, summary, background, method, environment, results, references, raw data', () => {
    const md = renderMarkdown(fixture());
    const order = ['# isolab: what isolation costs', 'Status: complete.', 'What does isolation cost?', '## Caveats', '## Summary', '## Background',
      '### A qualitative comparison', '### The brief\'s experiment: Mesos + Spark, mapped onto isolab', '## Method', '## Environment', '## Results',
      '### 1. Start-up', '### 2. Density', '### 3. Throughput: wordcount', '#### The brief\'s experiment: wordcount at two parallelisms',
      '## Published references (not measured here)', '## Raw data'];
    const at = order.map((h) => md.indexOf(h));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
  });

  it('is deterministic and links exactly the charts it plans, each titled with its unit and n', () => {
    const res = fixture();
    const md = renderMarkdown(res);
    expect(renderMarkdown(fixture())).toBe(md);
    const charts = chartJobs(res);
    expect(charts.map((c) => c.file)).toEqual([
      'startup-distribution.svg', 'startup-phases.svg', 'startup-series.svg', 'density-memory.svg', 'density-available.svg', 'density-launch.svg',
      'throughput-parallelism.svg', 'throughput-fit.svg', 'timeline-process-tasks.svg', 'timeline-process-host.svg', 'timeline-docker-tasks.svg',
      'timeline-docker-host.svg', 'timeline-gvisor-tasks.svg', 'timeline-gvisor-host.svg', 'timeline-vm-tasks.svg', 'timeline-vm-host.svg',
    ]);
    for (const c of charts) {
      expect(md).toContain(`](${c.file})`);
      expect(c.title).toMatch(/\((ms|s|MiB|MB|instances\/s|%)[ ,;)]/);
      expect(c.title).toMatch(/\bn = \d/);
    }
  });

  it('labels a TCG VM "emulated, not virtualised" in every summary line, the summary header and the caveats', () => {
    const res = fixture();
    const lines = summaryLines(res);
    expect(lines.length).toBeGreaterThan(5);
    for (const l of lines) expect(l).toContain('VM (TCG: emulated, not virtualised)');
    const md = renderMarkdown(res);
    const header = md.split('\n').find((l) => l.startsWith('| figure'))!;
    expect(header).toContain('VM (virtual machine, hypervisor, TCG: emulated, not virtualised)');
    const accel = caveats(res).find((c) => c.kind === 'accelerator')!;
    expect(accel.text).toMatch(/^\*\*VM \(TCG: emulated, not virtualised\)\*\*: every VM figure in this report is QEMU's software emulation/);
    expect(accel.text).toContain('/dev/kvm absent (injected for this fixture)');
    expect(md).not.toMatch(/VM \(tcg\)/);
  });

  it('says the host is a VM (nested), the cores and their load, and the first-run cold starts, among the caveats', () => {
    const kinds = caveats(fixture()).map((c) => c.kind);
    expect(kinds).toEqual(expect.arrayContaining(['accelerator', 'nested', 'cores', 'cold', 'small-n']));
    const busy = fixture();
    busy.environment.loadAverage = [3.5, 2, 1];
    expect(caveats(busy).find((c) => c.kind === 'load')!.text).toContain('**The host was busy with other work**');
  });

  it('prints no ratio for a difference inside overlapping intervals, and a ratio where the intervals are apart', () => {
    const res = fixture();
    const p = res.startup.find((r) => r.backend === 'process')!;
    const d = res.startup.find((r) => r.backend === 'docker')!;
    // docker's warm runs become process's own, 2 % slower: the intervals overlap
    d.samples = p.samples.map((s) => ({ ...s, phases: { ...s.phases } }));
    scaleStartup(res, 'docker', 1.02);
    const line = summaryLines(res).find((l) => l.startsWith('Start-up, warm'))!;
    const docker = line.split('; ').find((c) => c.startsWith('container '))!;
    expect(docker).toContain('not measurably different from process (intervals overlap)');
    expect(docker).not.toMatch(/= [\d.]+× process/);
    expect(line).toMatch(/gVisor \(ptrace\) [\d.]+ ms \[[\d.]+, [\d.]+\] = [\d.]+× process/);
    const cell = headlines(res).find((h) => h.title.startsWith('Start-up, warm'))!.cells.find((c) => c.backend === 'docker')!;
    expect(cell.ratio).toBeNull();
  });

  it('gives the ratio the medians make when the intervals are apart', () => {
    const res = fixture();
    const h = headlines(res).find((x) => x.title.startsWith('Start-up, warm'))!;
    const p = res.startup.find((r) => r.backend === 'process')!.summary.requestedToReady!.median!;
    const g = res.startup.find((r) => r.backend === 'gvisor')!.summary.requestedToReady!.median!;
    expect(h.cells.find((c) => c.backend === 'gvisor')!.ratio).toBeCloseTo(g / p, 10);
  });

  it('states a speed-up only when P=1 and P=2 intervals do not overlap', () => {
    const res = fixture();
    const line = summaryLines(res).find((l) => l.startsWith('Speed-up of P=2'))!;
    for (const r of res.throughput.filter((x) => x.parallelism === 2)) {
      const cell = line.split('; ').find((c) => c.includes(r.backend === 'vm' ? 'VM (' : r.backend === 'process' ? 'process ' : r.backend === 'docker' ? 'container ' : 'gVisor'))!;
      if (r.speedup!.measurable) expect(cell).not.toContain('no measurable speed-up');
      else expect(cell).toContain('no measurable speed-up');
    }
  });

  it('shows the brief\'s experiment: P = 1 and P = 2 side by side for every backend with time, CPU-seconds, memory above baseline and MB/s', () => {
    const md = renderMarkdown(fixture());
    const section = md.slice(md.indexOf('#### The brief\'s experiment'), md.indexOf('#### Every configuration'));
    for (const b of ['process', 'container', 'gVisor (ptrace)', 'VM (TCG: emulated, not virtualised)']) {
      expect(tableRows(section, b, 'P=1')).toHaveLength(1);
      expect(tableRows(section, b, 'P=2')).toHaveLength(1);
    }
    expect(section).toContain('CPU-seconds, all map tasks');
    expect(section).toContain('peak memory above idle, largest task (MiB)');
    expect(section).toContain('](timeline-process-tasks.svg)');
  });

  it('keeps a negative available-memory drop and says so', () => {
    const md = renderMarkdown(fixture());
    expect(md).toMatch(/1 round\(s\) below 0: host memory moved more than the instances took/);
    expect(chartJobs(fixture()).find((c) => c.file === 'density-available.svg')!.title).toContain('1 below 0, drawn');
  });

  it('says why a backend was skipped, wherever it would have figures', () => {
    const res = fixture();
    const reason = 'dockerd does not know the runtime runsc: runsc is not installed';
    const gv = res.backends.find((b) => b.name === 'gvisor')!;
    Object.assign(gv, { health: 'undetected', description: reason, usable: false });
    const skip = { status: 'skipped' as const, reason: `undetected: ${reason}`, limitsEnforced: null };
    const i = res.startup.findIndex((r) => r.backend === 'gvisor');
    res.startup[i] = { ...res.startup[i]!, ...skip, samples: [], summary: {}, cold: null, usage: undefined, series: [], backendPhases: {} };
    const j = res.density.findIndex((r) => r.backend === 'gvisor');
    res.density[j] = { ...res.density[j]!, ...skip, steps: [], kReached: 0, stopKind: 'skipped', stopReason: 'skipped' };
    res.throughput = res.throughput.map((t) => (t.backend === 'gvisor' ? { ...t, ...skip, runs: [], summary: { ...t.summary, jobSeconds: summarize([]) } } : t));
    res.fits = res.fits!.filter((f) => f.backend !== 'gvisor');
    const md = renderMarkdown(res);
    expect(caveats(res).find((c) => c.kind === 'skipped')!.text).toContain(`gVisor (ptrace) was not measured at all (undetected: ${reason})`);
    expect(md).toContain(`— (not measured: skipped: undetected: ${reason})`);
    expect(tableRows(md, 'gVisor (ptrace)', `SKIPPED: undetected: ${reason}`).length).toBeGreaterThanOrEqual(1);
    expect(md).toMatch(/\| gvisor +\| sandbox, user-space kernel +\| SKIPPED +\| undetected/);
    expect(md).toContain('(skipped: gvisor, dockerd does not know the runtime runsc');
  });

  it('marks an interrupted run', () => {
    const res = fixture();
    res.status = 'interrupted';
    res.statusReason = 'interrupted by SIGINT';
    const md = renderMarkdown(res);
    expect(md).toContain('**Status: interrupted** (interrupted by SIGINT)');
    expect(caveats(res)[0]!.kind).toBe('status');
  });

  it('keeps the published references apart, each with a URL and where exactly it comes from', () => {
    const md = renderMarkdown(fixture());
    const refs = md.slice(md.indexOf('## Published references'));
    expect(refs).toContain('RC25482, Table I');
    expect(refs).toContain('<https://www.usenix.org/conference/nsdi20/presentation/agache>');
    expect(refs).not.toContain('161 ms');
    expect(refs).not.toMatch(/MAD|p90|N ≥ 20/);
    expect(md.slice(0, md.indexOf('## Published references'))).not.toContain('290.8');
  });
});

describe('results.json versions', () => {
  it('reads a version-1 file (no descriptors) as the current version, with this build\'s descriptors resolved from its attributes', () => {
    const v1 = fixture() as unknown as { schema: string; backends: Record<string, unknown>[] };
    v1.schema = 'isolab-results/1';
    for (const b of v1.backends) delete b.descriptor;
    v1.backends.push({ name: 'jail', registered: false, health: 'undetected', description: 'gone', attributes: {}, accelerator: 'none', usable: false });
    const dir = tempDir();
    writeFileSync(join(dir, 'results.json'), JSON.stringify(v1));
    const res = readResults(dir);
    expect(res.schema).toBe(RESULTS_SCHEMA);
    expect(res.backends.map((b) => b.descriptor?.kind ?? null)).toEqual(['process', 'container', 'sandbox', 'vm', null]);
    expect(res.backends[2]!.descriptor!.runtime).toMatchObject({ name: 'runsc', version: '0.0~20221219.0', detail: 'ptrace' });
    const md = renderMarkdown(res);
    expect(md).toContain('| jail ');
    expect(md).toContain('jail was not measured at all (undetected: gone)');
  });
});

describe('results.csv', () => {
  it('has one line per metric with backend, accelerator, limits and environment', () => {
    const lines = resultsCsv(fixture()).trim().split('\n');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    expect(lines.find((l) => l.startsWith('startup,vm,tcg,warm,total,ms,8,'))).toMatch(/,done,,1,256,true,true,"vm: 1 vCPU, 256 MiB guest",fixture-host,Example CPU ×2,6.1.0-fixture,v20.0.0,0123456789ab$/);
    expect(lines.some((l) => l.startsWith('density,docker,none,K=4,pssPerInstance,MiB,12,'))).toBe(true);
    expect(lines.some((l) => l.startsWith('throughput,process,none,P=2 200MB,speedup,×,1,'))).toBe(true);
    expect(lines.some((l) => l.startsWith('throughput,vm,tcg,fit P=1,fitMBps,MB/s,18,'))).toBe(true);
  });
  it('quotes fields as RFC 4180 says', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField(null)).toBe('');
    expect(csvField(Number.NaN)).toBe('');
    expect(csvField(1.5)).toBe('1.5');
  });
});

describe('compare', () => {
  it('puts two runs side by side with ratios and a verdict', () => {
    const a = fixture();
    const b = fixture();
    scaleStartup(b, 'docker', 2);
    const md = compareMarkdown(a, b, ['old', 'new']);
    const row = tableRows(md, 'startup', 'docker', 'warm', 'total: offer → cleaned up')[0]!;
    expect(row[7]).toBe('2.00×');
    expect(row[8]).toBe('regression');
    expect(tableRows(md, 'startup', 'process', 'warm', 'total: offer → cleaned up')[0]![8]).toBe('unchanged');
    expect(md).toContain('- old: 2027-01-15T10:00:00.000Z on fixture-host');
    expect(md).toContain('**Gate: FAIL.**');
  });
});
