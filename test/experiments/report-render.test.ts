import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ResultsFile } from '../../src/experiments/types.js';
import { compareMarkdown } from '../../src/report/compare.js';
import { CSV_COLUMNS, csvField, resultsCsv } from '../../src/report/csv.js';
import { renderMarkdown, summaryLines } from '../../src/report/render.js';
import { chartJobs } from '../../src/report/report-charts.js';
import { tableRows } from './helpers.js';

/** A fixed, synthetic results.json (fixture-host, fixed dates and commit): nothing from the live machine. */
function fixture(): ResultsFile {
  return JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'results.json'), 'utf8')) as ResultsFile;
}

describe('report rendering', () => {
  it('matches the snapshot for a fixed results.json', async () => {
    const md = renderMarkdown(fixture());
    await expect(md).toMatchFileSnapshot('__snapshots__/report.md');
  });

  it('is deterministic and links exactly the charts it plans', () => {
    const res = fixture();
    const md = renderMarkdown(res);
    expect(renderMarkdown(fixture())).toBe(md);
    const files = chartJobs(res).map((c) => c.file);
    expect(files).toEqual([
      'startup-phases.svg', 'startup-process.svg', 'startup-docker.svg', 'startup-vm.svg', 'density-memory.svg',
      'density-launch-rate.svg', 'throughput.svg', 'throughput-split.svg', 'timeline-process-cpu.svg',
      'timeline-process-memory.svg', 'timeline-docker-cpu.svg', 'timeline-docker-memory.svg', 'timeline-vm-cpu.svg',
      'timeline-vm-memory.svg',
    ]);
    for (const f of files) expect(md).toContain(`](${f})`);
  });

  it('computes the summary ratios from the medians', () => {
    const res = fixture();
    const p = res.startup[0]!.summary.offerToReady!.median!;
    const d = res.startup[1]!.summary.offerToReady!.median!;
    const line = summaryLines(res).find((l) => l.startsWith('Start-up, median offer → executor ready'))!;
    expect(line).toContain(`process ${p.toFixed(1)} ms`);
    expect(line).toContain(`container ${d.toFixed(1)} ms = ${(d / p).toFixed(1)}× process`);
    expect(line).toMatch(/VM \(tcg\) [\d.]+ ms = \d+× process/);
  });

  it('shows the start-up medians of the summaries in the table', () => {
    const res = fixture();
    const md = renderMarkdown(res);
    for (const r of res.startup) {
      const row = tableRows(md, r.backend, 'total: offer → cleaned up')[0]!;
      expect(row[3]).toBe(r.summary.total!.median!.toFixed(1));
    }
  });

  it('shows an unusable backend as SKIPPED with its reason, never drops it', () => {
    const res = fixture();
    const vm = res.backends[2]!;
    Object.assign(vm, { registered: false, health: 'undetected', description: 'backend not registered in this build', usable: false, accelerator: 'unknown', attributes: {} });
    const skip = { status: 'skipped' as const, reason: 'undetected: backend not registered in this build', limitsEnforced: null, accelerator: 'unknown' };
    res.startup[2] = { ...res.startup[2]!, ...skip, samples: [], summary: {}, backendPhases: {} };
    res.density[2] = { ...res.density[2]!, ...skip, steps: [], stopReason: 'skipped' };
    for (const t of res.throughput.filter((x) => x.backend === 'vm')) Object.assign(t, skip, { runs: [] });
    const md = renderMarkdown(res);
    expect(tableRows(md, 'vm', 'SKIPPED: undetected: backend not registered in this build')).toHaveLength(1);
    expect(md).toMatch(/\| vm +\| SKIPPED +\| undetected/);
    expect(md).toContain('Skipped, not measured: VM (vm undetected: backend not registered in this build)');
    expect(md).toContain('QEMU                               | — (not measured: vm backend undetected: backend not registered in this build)');
  });

  it('warns when the host was busy with other work, and takes no ratio of a non-positive figure', () => {
    const res = fixture();
    res.environment.loadAverage = [3.5, 2, 1];
    for (const s of res.density[1]!.steps) s.serial.availableDropPerInstanceBytes = -1024 * 1024;
    // the VM reached K=2 only: memory is compared at K=2
    const lines = summaryLines(res);
    expect(lines[0]).toBe('Caveat: the host was busy with other work during this run (load average 3.50 on 2 cores at the start; 3.4% CPU busy with no job of the lab running): times and memory changes include that contention.');
    const drop = lines.find((l) => l.includes('available-memory drop'))!;
    expect(drop).toContain('container -1.0 MiB (not above the noise of other host activity);');
  });

  it('marks an interrupted run and its unfinished configuration', () => {
    const res = fixture();
    res.status = 'interrupted';
    res.statusReason = 'interrupted by SIGINT';
    const md = renderMarkdown(res);
    expect(md).toContain('**Status: interrupted** (interrupted by SIGINT)');
  });
});

describe('results.csv', () => {
  it('has one line per metric with backend, accelerator, limits and environment', () => {
    const lines = resultsCsv(fixture()).trim().split('\n');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    const vmTotal = lines.find((l) => l.startsWith('startup,vm,tcg,,total,ms,5,'))!;
    expect(vmTotal).toMatch(/,done,,1,256,true,true,"vm: 1 vCPU, 256 MiB guest",fixture-host,Example CPU ×2,6.1.0-fixture,v20.0.0,0123456789ab$/);
    expect(lines.some((l) => l.startsWith('density,docker,none,K=4,pssPerInstance,MiB,4,'))).toBe(true);
    expect(lines.some((l) => l.startsWith('throughput,process,none,P=2,speedup,×,1,'))).toBe(true);
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
  it('puts two runs side by side with ratios', () => {
    const a = fixture();
    const b = fixture();
    b.startup[1]!.summary.total!.median = a.startup[1]!.summary.total!.median! * 2;
    const md = compareMarkdown(a, b, ['old', 'new']);
    const row = tableRows(md, 'startup', 'docker', '', 'total: offer → cleaned up')[0]!;
    expect(row[7]).toBe('2.00×');
    expect(tableRows(md, 'startup', 'process', '', 'total: offer → cleaned up')[0]![7]).toBe('1.00×');
    expect(md).toContain('- old: 2027-01-15T10:00:00.000Z on fixture-host');
  });
});
