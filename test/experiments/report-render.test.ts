import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readResults } from '../../src/experiments/results-store.js';
import type { ResultsFile } from '../../src/experiments/types.js';
import { compareMarkdown } from '../../src/report/compare.js';
import { CSV_COLUMNS, csvField, resultsCsv } from '../../src/report/csv.js';
import { renderMarkdown, summaryLines } from '../../src/report/render.js';
import { chartJobs } from '../../src/report/report-charts.js';
import { tableRows, tempDir } from './helpers.js';

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
      'startup-phases.svg', 'startup-process.svg', 'startup-docker.svg', 'startup-gvisor.svg', 'startup-vm.svg', 'density-memory.svg',
      'density-launch-rate.svg', 'throughput.svg', 'throughput-split.svg', 'timeline-process-cpu.svg',
      'timeline-process-memory.svg', 'timeline-docker-cpu.svg', 'timeline-docker-memory.svg', 'timeline-gvisor-cpu.svg',
      'timeline-gvisor-memory.svg', 'timeline-vm-cpu.svg', 'timeline-vm-memory.svg',
    ]);
    for (const f of files) expect(md).toContain(`](${f})`);
  });

  it('computes the summary ratios from the medians', () => {
    const res = fixture();
    const p = res.startup[0]!.summary.offerToReady!.median!;
    const d = res.startup[1]!.summary.offerToReady!.median!;
    const line = summaryLines(res).find((l) => l.startsWith('Start-up (warm), median offer → executor ready'))!;
    expect(line).toContain(`process ${p.toFixed(1)} ms`);
    expect(line).toContain(`container ${d.toFixed(1)} ms = ${(d / p).toFixed(1)}× process`);
    expect(line).toMatch(/gVisor \(ptrace\) [\d.]+ ms = [\d.]+× process/);
    expect(line).toMatch(/VM \(tcg, emulated\) [\d.]+ ms = \d+× process/);
  });

  it('has one summary column per backend along the isolation spectrum, headed by kind, boundary and platform or accelerator', () => {
    const res = fixture();
    res.backends.reverse();
    res.startup.reverse();
    const md = renderMarkdown(res);
    const header = md.split('\n').find((l) => l.startsWith('| figure'))!.split('|').map((c) => c.trim()).filter(Boolean);
    expect(header).toEqual([
      'figure', 'Process (plain process, host kernel)', 'Docker (container, host kernel)', 'gVisor (sandbox, user-space kernel, ptrace)',
      'VM (virtual machine, hypervisor, tcg, emulated)',
    ]);
    expect(tableRows(md, 'startup').map((r) => r[1])).toEqual(['process', 'docker', 'gvisor', 'vm']);
    expect(md).toContain('**gVisor** (sandbox, boundary: user-space kernel)');
    expect(md).toContain('| runsc (runtime of gVisor)');
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
    const vm = res.backends.find((b) => b.name === 'vm')!;
    const reason = 'dockerd does not know the runtime runsc: runsc is not installed';
    Object.assign(vm, { health: 'undetected', description: 'libvirtd not reachable', usable: false, accelerator: 'unknown', attributes: {} });
    vm.descriptor = { ...vm.descriptor!, engine: { ...vm.descriptor!.engine, version: null }, runtime: { ...vm.descriptor!.runtime, version: null }, accelerator: { ...vm.descriptor!.accelerator!, value: null, emulated: null } };
    const gv = res.backends.find((b) => b.name === 'gvisor')!;
    Object.assign(gv, { health: 'undetected', description: reason, usable: false });
    const skip = (why: string) => ({ status: 'skipped' as const, reason: `undetected: ${why}`, limitsEnforced: null, accelerator: 'unknown' });
    for (const [name, why] of [['vm', 'libvirtd not reachable'], ['gvisor', reason]] as const) {
      const i = res.startup.findIndex((r) => r.backend === name);
      res.startup[i] = { ...res.startup[i]!, ...skip(why), samples: [], summary: {}, backendPhases: {} };
      const j = res.density.findIndex((r) => r.backend === name);
      res.density[j] = { ...res.density[j]!, ...skip(why), steps: [], stopReason: 'skipped' };
      for (const t of res.throughput.filter((x) => x.backend === name)) Object.assign(t, skip(why), { runs: [] });
    }
    const md = renderMarkdown(res);
    expect(tableRows(md, 'vm', 'SKIPPED: undetected: libvirtd not reachable')).toHaveLength(1);
    expect(tableRows(md, 'gvisor', `SKIPPED: undetected: ${reason}`)).toHaveLength(1);
    expect(md).toMatch(/\| vm +\| virtual machine, hypervisor +\| SKIPPED +\| undetected/);
    expect(md).toContain(`Skipped, not measured: gVisor (ptrace) (gvisor undetected: ${reason}); VM (vm undetected: libvirtd not reachable)`);
    expect(md).toMatch(/\| QEMU \(runtime of VM\) +\| — \(not measured: vm backend undetected: libvirtd not reachable\)/);
  });

  it('warns when the host was busy with other work, and takes no ratio of a non-positive figure', () => {
    const res = fixture();
    res.environment.loadAverage = [3.5, 2, 1];
    for (const s of res.density[1]!.steps) for (const r of s.rounds) r.availableDropPerInstanceBytes = -1024 * 1024;
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

describe('results.json versions', () => {
  it('reads a version-1 file (no descriptors) as the current version, with this build\'s descriptors resolved from its attributes', () => {
    const v1 = fixture() as unknown as { schema: string; backends: Record<string, unknown>[] };
    v1.schema = 'isolab-results/1';
    for (const b of v1.backends) delete b.descriptor;
    v1.backends.push({ name: 'jail', registered: false, health: 'undetected', description: 'gone', attributes: {}, accelerator: 'none', usable: false });
    const dir = tempDir();
    writeFileSync(join(dir, 'results.json'), JSON.stringify(v1));
    const res = readResults(dir);
    expect(res.schema).toBe('isolab-results/3');
    expect(res.backends.map((b) => b.descriptor?.kind ?? null)).toEqual(['process', 'container', 'sandbox', 'vm', null]);
    expect(res.backends[2]!.descriptor!.runtime).toMatchObject({ name: 'runsc', version: '0.0~20221219.0', detail: 'ptrace' });
    expect(renderMarkdown(res)).toContain('| jail ');
  });
});

describe('results.csv', () => {
  it('has one line per metric with backend, accelerator, limits and environment', () => {
    const lines = resultsCsv(fixture()).trim().split('\n');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    const vmTotal = lines.find((l) => l.startsWith('startup,vm,tcg,,total,ms,5,'))!;
    expect(vmTotal).toMatch(/,done,,1,256,true,true,"vm: 1 vCPU, 256 MiB guest",fixture-host,Example CPU ×2,6.1.0-fixture,v20.0.0,0123456789ab$/);
    expect(lines.some((l) => l.startsWith('density,docker,none,K=4,pssPerInstance,MiB,8,'))).toBe(true);
    expect(lines.some((l) => /^throughput,process,none,P=2 \d+B,speedup,×,1,/.test(l))).toBe(true);
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
