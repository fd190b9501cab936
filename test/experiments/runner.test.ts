import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MockBackend } from '../support/mock-backend.js';
import type { BackendSource } from '../../src/experiments/backends.js';
import { runExperiments } from '../../src/experiments/runner.js';
import { makeSettings } from '../../src/experiments/settings.js';
import { TASK_PHASES, type ResultsFile } from '../../src/experiments/types.js';
import { encodeMessage } from '../../src/executor/protocol.js';
import { encodeCounts } from '../../src/workload/counts.js';
import { session } from '../../src/session/session.js';
import { tempDir } from './helpers.js';

const mock = new MockBackend({
  runMs: 5,
  output: (spec) => [
    encodeMessage({ type: 'ready', taskId: spec.taskId, pid: 1, node: 'mock', uptimeMs: 1 }),
    encodeMessage({ type: 'result', taskId: spec.taskId, words: 0, distinct: 0, bytes: 0, countMs: 0, counts: encodeCounts(new Map()) }),
    encodeMessage({ type: 'done', taskId: spec.taskId }),
  ],
});

const src: BackendSource = {
  names: () => ['mock'],
  describe: (n) => (n === 'mock' ? mock.descriptor : undefined),
  get: async () => mock,
  fingerprint: async () => mock.fingerprint(),
};

afterAll(async () => {
  await session().close();
});

describe('runExperiments', () => {
  it('runs start-up through the master on a usable backend and records an unregistered one as skipped', async () => {
    const out = tempDir();
    const lines: string[] = [];
    const settings = makeSettings({ experiments: ['startup'], backends: ['mock', 'vm'], memBudgetBytes: 2 ** 30, repeat: 4, warmup: 1, seriesDefault: 0 });
    const res = await runExperiments({
      outDir: out, settings, signal: new AbortController().signal, log: (l) => lines.push(l), source: src,
      agentResources: { cpus: 2, mem: 4096 },
    });
    expect(res.status).toBe('complete');
    const onDisk = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ResultsFile;
    expect(onDisk).toEqual(JSON.parse(JSON.stringify(res)));
    const [m, vm] = onDisk.startup;
    expect(m!.status).toBe('done');
    expect(m!.samples).toHaveLength(5);
    expect(m!.summary.total!.n).toBe(4);
    expect(m!.limitsEnforced).toEqual({ cpus: false, mem: false, how: 'mock' });
    for (const s of m!.samples) expect(Object.keys(s.phases)).toEqual(expect.arrayContaining([...TASK_PHASES]));
    expect(m!.samples.map((s) => s.start)).toEqual(['first', 'warm', 'warm', 'warm', 'warm']);
    expect(m!.cold!.summary.total!.n).toBe(1);
    for (const s of m!.samples) {
      expect(s.phases.workDone).toBeLessThanOrEqual(s.phases.exited!);
      expect(s.phases.exited).toBeLessThanOrEqual(s.phases.cleaned!);
      expect(s.task!.usage!.missing.cpuSeconds).toMatch(/mock/);
    }
    expect(onDisk.plan!.items.some((i) => i.backend === 'mock' && i.experiment === 'startup')).toBe(true);
    expect(vm).toMatchObject({ backend: 'vm', status: 'skipped', reason: 'undetected: backend not registered in this build', samples: [] });
    expect(lines).toContain('isolab: backend vm SKIPPED: undetected: backend not registered in this build');
    expect(lines.filter((l) => l.startsWith('isolab: [') && l.includes('startup · mock'))).toHaveLength(5);
    expect(existsSync(join(out, `results.json.${process.pid}.tmp`))).toBe(false);
  });

  it('stops on abort, marks the run interrupted and keeps the finished runs', async () => {
    const out = tempDir();
    const abort = new AbortController();
    const settings = makeSettings({ experiments: ['startup'], backends: ['mock'], memBudgetBytes: 2 ** 30, repeat: 1000, warmup: 0, seriesDefault: 0 });
    let n = 0;
    const log = (l: string): void => {
      if (l.startsWith('isolab: [') && l.includes('startup · mock') && ++n === 4) abort.abort(new Error('interrupted by test'));
    };
    await expect(runExperiments({ outDir: out, settings, signal: abort.signal, log, source: src, agentResources: { cpus: 2, mem: 4096 } }))
      .rejects.toThrow(/interrupted by test/);
    const onDisk = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ResultsFile;
    expect(onDisk.status).toBe('interrupted');
    expect(onDisk.statusReason).toBe('interrupted by test');
    expect(onDisk.startup[0]!.status).toBe('partial');
    expect(onDisk.startup[0]!.samples.length).toBe(3);
    expect(onDisk.startup[0]!.reason).toBe('interrupted by test');
  });
});
