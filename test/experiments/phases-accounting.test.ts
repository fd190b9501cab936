import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TaskSink } from '../../src/backends/backend.js';
import { TASK_PHASES } from '../../src/backends/phases.js';
import { counterDirs } from '../../src/backends/process/cgroup.js';
import type { ProcState } from '../../src/backends/process/process-backend.js';
import { registry } from '../../src/backends/registry.js';
import { executorPath } from '../../src/executor/paths.js';
import { encodeTask } from '../../src/executor/protocol.js';
import { startupOnce } from '../../src/experiments/startup.js';
import { session } from '../../src/session/session.js';
import { generateCorpus } from '../../src/workload/corpus.js';
import { tempDir } from './helpers.js';

const dir = tempDir();
const tiny = join(dir, 'tiny.txt');
writeFileSync(tiny, generateCorpus({ bytes: 64 * 1024, seed: 1 }));
const big = join(dir, 'big.txt');
writeFileSync(big, generateCorpus({ bytes: 8_000_000, seed: 2 }));

afterAll(async () => {
  await session().close();
});

/** Standard phases in order, each no earlier than the one before. */
function expectOrdered(phases: Record<string, number>): void {
  const at = TASK_PHASES.map((p) => [p, phases[p]] as const);
  for (const [p, v] of at) expect(v, `phase ${p}`).toBeTypeOf('number');
  for (let i = 1; i < at.length; i++) expect(at[i]![1]!, `${at[i - 1]![0]} ≤ ${at[i]![0]}`).toBeGreaterThanOrEqual(at[i - 1]![1]!);
}

describe.each(['process', 'docker', 'gvisor'])('phases and accounting through the master: %s', (name) => {
  it('stamps every standard phase in order, reports the result at workDone (before exited), and accounts CPU and peak memory', async () => {
    const backend = await registry.get(name);
    const { status, data } = await startupOnce(backend, {
      taskId: `ph-${name}`, input: { path: tiny, bytes: 64 * 1024, description: 'tiny' }, resources: { cpus: 1, mem: 256 },
      agentResources: { cpus: 2, mem: 4096 }, timeoutMs: 120_000,
    });
    expect(status.state).toBe('finished');
    expectOrdered(data!.phases);
    // the terminal update went out at workDone: its copy of the phases stops there, and it was sent before the instance exited
    const sent = (status.data as { phases: Record<string, number> }).phases;
    expect(sent.workDone).toBe(data!.phases.workDone);
    expect(sent.exited).toBeUndefined();
    expect(sent.cleaned).toBeUndefined();
    expect(status.timestamp).toBeLessThanOrEqual(data!.phases.exited!);
    const u = data!.usage!;
    expect(u.cpuSeconds!).toBeGreaterThan(0.01);
    expect(u.peakMemoryBytes!).toBeGreaterThan(4 * 2 ** 20);
    expect(u.readyMemoryBytes!).toBeGreaterThan(0);
    expect(u.readyMemoryBytes!).toBeLessThanOrEqual(u.peakMemoryBytes!);
    expect(u.readBytes!).toBeGreaterThanOrEqual(64 * 1024);
    expect(u.guest!.cpuSeconds).toBeGreaterThan(0);
    expect(u.timeline.length).toBeGreaterThan(0);
    expect(u.missing).toEqual({});
  }, 120_000);
});

describe('process task accounting, cross-checked (real cgroup)', () => {
  it('matches the task cgroup read directly (cat of its files) and /usr/bin/time -v of the same executor within a factor', async () => {
    const b = await registry.get('process');
    const sink: TaskSink = { line: () => {}, phase: () => {} };
    const task = { taskId: 'acct-1', mode: 'wordcount' as const, input: big, start: 0, end: 8_000_000, size: 8_000_000 };
    const h = await b.start({ taskId: 'acct-1', resources: { cpus: 1, mem: 512 }, executor: task }, sink);
    expect((await b.wait(h)).exitCode).toBe(0);
    const cg = (h.state as ProcState).cgroup;
    expect(cg, 'the process backend needs a cgroup here (root, cgroup v1 or v2)').toBeDefined();
    const d = counterDirs(cg!);
    const cat = (f: string): number => Number(execFileSync('cat', [f]).toString().trim());
    const direct = d.version === 'cgroup-v1'
      ? { cpu: cat(join(d.cpu!, 'cpuacct.usage')) / 1e9, peak: cat(join(d.memory!, 'memory.max_usage_in_bytes')) }
      : { cpu: Number(/usage_usec (\d+)/.exec(readFileSync(join(d.cpu!, 'cpu.stat'), 'utf8'))![1]) / 1e6, peak: cat(join(d.memory!, 'memory.peak')) };
    const u = await b.usage(h);
    await b.destroy(h);
    expect(u.cpuSeconds!).toBeCloseTo(direct.cpu, 3);
    expect(u.peakMemoryBytes).toBe(direct.peak);
    expect(u.lagMs).toBeNull();
    const r = spawnSync('/usr/bin/time', ['-v', process.execPath, executorPath(), encodeTask({ ...task, taskId: 'acct-2' })], { stdio: ['ignore', 'ignore', 'pipe'] });
    expect(r.status).toBe(0);
    const time = r.stderr.toString();
    const userS = Number(/User time \(seconds\): ([\d.]+)/.exec(time)![1]);
    const sysS = Number(/System time \(seconds\): ([\d.]+)/.exec(time)![1]);
    const maxRss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(time)![1]) * 1024;
    // two runs of the same work: CPU within a factor of 2 (the host is shared)
    expect(u.cpuSeconds! / (userS + sysS)).toBeGreaterThan(0.5);
    expect(u.cpuSeconds! / (userS + sysS)).toBeLessThan(2);
    // memory: the cgroup's high-water mark counts the pages charged to the task (its heap, the input it
    // read); max RSS also counts the node binary's pages, already charged to whoever read them first,
    // so the cgroup figure is below max RSS, and above its anonymous part (a fraction of it)
    expect(u.peakMemoryBytes!).toBeLessThan(maxRss * 1.2);
    expect(u.peakMemoryBytes! / maxRss).toBeGreaterThan(0.15);
    // the executor's own view of the same run agrees with its cgroup
    expect(u.guest!.cpuSeconds / u.cpuSeconds!).toBeGreaterThan(0.7);
    expect(u.guest!.cpuSeconds / u.cpuSeconds!).toBeLessThan(1.3);
  }, 120_000);
});
