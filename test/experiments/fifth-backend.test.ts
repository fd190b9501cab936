import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { taskTimeoutMs } from '../../src/backends/descriptor.js';
import { BackendRegistry, BUILTIN_ENTRIES } from '../../src/backends/registry.js';
import { defaultBackends } from '../../src/experiments/backends.js';
import { runExperiments } from '../../src/experiments/runner.js';
import { makeSettings } from '../../src/experiments/settings.js';
import { renderMarkdown, summaryLines } from '../../src/report/render.js';
import { chartJobs } from '../../src/report/report-charts.js';
import { generateCorpus } from '../../src/workload/corpus.js';
import { KATA_DESCRIPTOR } from './fifth-backend/descriptor.js';
import { KATA_ENTRY } from './fifth-backend/entry.js';
import type { KataBackend } from './fifth-backend/kata-backend.js';
import { tableRows, tempDir } from './helpers.js';

describe('a fifth backend, added as its own folder plus one registry entry', () => {
  const reg = new BackendRegistry([...BUILTIN_ENTRIES, KATA_ENTRY]);

  it('takes its place on the isolation spectrum among the defaults', () => {
    expect(defaultBackends(reg)).toEqual(['process', 'docker', 'gvisor', 'kata', 'vm']);
  });

  it('runs in every experiment with its own timeouts, priors and density steps, and the report shows it from its descriptor', async () => {
    const dir = tempDir();
    const input = join(dir, 'in.txt');
    writeFileSync(input, generateCorpus({ bytes: 200_000, seed: 3 }));
    const lines: string[] = [];
    const settings = makeSettings({
      experiments: ['startup', 'density', 'throughput'], backends: ['kata', 'process'], memBudgetBytes: 2 ** 30, repeat: 2, warmup: 0,
      throughputRepeat: 1, parallelism: [1, 2], densitySteps: [1, 2], inputBytes: 200_000, seriesDefault: 2, densityRounds: 1,
    });
    const res = await runExperiments({
      outDir: dir, settings, signal: new AbortController().signal, log: (l) => lines.push(l), source: reg,
      agentResources: { cpus: 2, mem: 4096 }, samplerCostSeconds: 0.1,
      inputFile: { path: input, bytes: 200_000, description: 'generated corpus, 200 kB, seed 3' },
    });
    expect(res.status).toBe('complete');
    expect(res.backends.map((b) => b.name)).toEqual(['process', 'kata']);
    expect(res.backends[1]!.descriptor!.runtime).toMatchObject({ name: 'kata-runtime', version: '3.2.0', detail: 'firecracker' });
    expect(res.settings.densityStepsByBackend.kata).toEqual([1, 3]);
    expect(res.density.find((r) => r.backend === 'kata')!.steps.map((s) => s.k)).toEqual([1, 3]);
    expect(res.startup.find((r) => r.backend === 'kata')).toMatchObject({ status: 'done', limitsEnforced: { how: 'guest size' } });
    expect(Object.keys(res.startup.find((r) => r.backend === 'kata')!.backendPhases)).toContain('microvmBooted');
    const kata = (await reg.get('kata')) as KataBackend;
    expect(kata.specs.find((s) => s.taskId.startsWith('startup'))!.timeoutMs).toBe(taskTimeoutMs(KATA_DESCRIPTOR, 64 * 1024));
    const shas = new Set(res.throughput.flatMap((r) => r.runs.map((x) => x.sha256)));
    expect(res.throughput.map((r) => [r.backend, r.parallelism, r.status])).toEqual([
      ['process', 1, 'done'], ['process', 2, 'done'], ['kata', 1, 'done'], ['kata', 2, 'done'],
    ]);
    expect(shas.size).toBe(1);
    expect(lines.filter((l) => l.startsWith('isolab: [') && l.includes('startup · kata · warm'))).toHaveLength(2);
    expect(res.startup.find((r) => r.backend === 'kata')!.series!.map((x) => [x.mode, x.n, x.ready])).toEqual([['serial', 2, 2], ['parallel', 2, 2]]);

    const md = renderMarkdown(res);
    const header = md.split('\n').find((l) => l.startsWith('| figure'))!;
    expect(header.indexOf('Process (plain process, host kernel)')).toBeLessThan(header.indexOf('Kata (sandbox, hypervisor, firecracker)'));
    expect(summaryLines(res).find((l) => l.startsWith('Start-up')))
      .toMatch(/process [\d.]+ ms [^;]*; Kata microVM \(firecracker\) [\d.]+ ms .*\.$/);
    expect(tableRows(md, 'Kata microVM (firecracker)', 'offer → executor ready')).toHaveLength(1);
    expect(tableRows(md, 'Kata microVM (firecracker)', '3')).toHaveLength(1);
    expect(tableRows(md, 'Kata microVM (firecracker)', '2', '0.2 MB')).toHaveLength(1);
    expect(md).toContain('**Kata** (sandbox, boundary: hypervisor): a container inside its own lightweight VM');
    expect(md).toMatch(/\| kata-runtime \(runtime of Kata\) +\| 3\.2\.0 \(firecracker\)/);
    expect(chartJobs(res).map((c) => c.file)).toEqual(expect.arrayContaining(['startup-distribution.svg', 'startup-phases.svg', 'density-memory.svg', 'throughput-parallelism.svg']));
  }, 60_000);
});
