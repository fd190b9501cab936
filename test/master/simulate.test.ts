import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseScenario, ScenarioError } from '../../src/simulate/scenario.js';
import { simulate } from '../../src/simulate/simulator.js';

const BIN = join(import.meta.dirname, '../../bin/isolab');
const ok = () => ({
  agents: [{ resources: 'cpus:9;mem:18432', count: 1 }],
  frameworks: [{ name: 'a', task: 'cpus:1;mem:4096', taskSeconds: [5, 15], tasks: 1000, weight: 1 }],
  seconds: 600, allocationIntervalSeconds: 1, seed: 1,
});

describe('scenario validation', () => {
  it('accepts the issue example and fills defaults', () => {
    const s = parseScenario(ok());
    expect(s.frameworks[0]).toMatchObject({ name: 'a', task: { cpus: 1, mem: 4096 }, taskSeconds: [5, 15], startSeconds: 0 });
    expect(s.refuseSeconds).toBe(5);
    expect(s.offerTimeoutSeconds).toBeUndefined();
  });

  const bad: [string, (o: any) => void, string][] = [
    ['a bad resource', (o) => (o.frameworks[0].task = 'cpu:1'), 'scenario.frameworks[0].task: bad resource "cpu:1": unknown resource "cpu" (known: cpus, mem)'],
    ['garbage resources', (o) => (o.agents[0].resources = 'lots'), 'scenario.agents[0].resources: bad resource "lots"'],
    ['a zero count', (o) => (o.agents[0].count = 0), 'scenario.agents[0].count: expected an integer from 1'],
    ['no frameworks', (o) => (o.frameworks = []), 'scenario.frameworks: must not be empty'],
    ['an inverted range', (o) => (o.frameworks[0].taskSeconds = [15, 5]), 'scenario.frameworks[0].taskSeconds: [min, max] with max < min'],
    ['a string duration', (o) => (o.frameworks[0].taskSeconds = '10'), 'scenario.frameworks[0].taskSeconds: expected seconds or [min, max]'],
    ['a zero weight', (o) => (o.frameworks[0].weight = 0), 'scenario.frameworks[0].weight: expected a number > 0'],
    ['a duplicate name', (o) => o.frameworks.push({ ...o.frameworks[0] }), 'scenario.frameworks[1].name: "a" is used twice'],
    ['a task that fits nowhere', (o) => (o.frameworks[0].task = 'cpus:10;mem:1'), 'scenario.frameworks[0].task: "cpus:10;mem:1" fits on no agent'],
    ['an unknown field', (o) => (o.frameworkz = []), 'scenario.frameworkz: unknown field'],
    ['missing seconds', (o) => delete o.seconds, 'scenario.seconds: expected a number > 0, got nothing'],
    ['fractional tasks', (o) => (o.frameworks[0].tasks = 1.5), 'scenario.frameworks[0].tasks: expected an integer'],
    ['a bad minimum', (o) => (o.minAllocatableResources = 'cpus:1|'), 'scenario.minAllocatableResources: empty alternative'],
    ['a minimum that is no string', (o) => (o.frameworks[0].minAllocatableResources = 3), 'scenario.frameworks[0].minAllocatableResources: expected resources like'],
  ];
  for (const [what, change, message] of bad) {
    it(`rejects ${what}, naming the field`, () => {
      const o = ok();
      change(o);
      expect(() => parseScenario(o)).toThrow(ScenarioError);
      expect(() => parseScenario(o)).toThrow(message);
    });
  }
});

describe('scenario min_allocatable_resources', () => {
  it('defaults to Mesos\' cpus:0.01|mem:32; "task" means the framework\'s task size; per framework overrides the top', () => {
    expect(parseScenario(ok()).frameworks[0]!.minAllocatableResources).toEqual([{ cpus: 0.01, mem: 0 }, { cpus: 0, mem: 32 }]);
    const s = parseScenario({ ...ok(), minAllocatableResources: 'task', frameworks: [...ok().frameworks, { name: 'b', task: 'cpus:2;mem:1024', taskSeconds: 5, tasks: 1, minAllocatableResources: 'cpus:1|mem:64' }] });
    expect(s.frameworks[0]!.minAllocatableResources).toEqual([{ cpus: 1, mem: 4096 }]);
    expect(s.frameworks[1]!.minAllocatableResources).toEqual([{ cpus: 1, mem: 0 }, { cpus: 0, mem: 64 }]);
  });

  it('a reduced mesos-scale run: with each framework\'s task size as its minimum, declines drop and the cluster stays as busy', () => {
    const frameworks = Array.from({ length: 20 }, (_, i) => ({
      name: `fw${i}`, task: i % 2 ? 'cpus:2;mem:4096' : 'cpus:1;mem:2048', taskSeconds: [20, 40], tasks: 100_000,
    }));
    const base = { agents: [{ resources: 'cpus:8;mem:16384', count: 500 }], frameworks, seconds: 60, seed: 3 };
    const before = simulate(parseScenario(base));
    const after = simulate(parseScenario({ ...base, minAllocatableResources: 'task' }));
    const busy = (r: typeof before) => Object.values(r.frameworks).reduce((n, f, i) => n + f.meanRunning * (i % 2 ? 2 : 1), 0);
    expect(after.allocator.declined).toBeLessThan(before.allocator.declined / 2);
    expect(busy(after)).toBeGreaterThan(0.95 * busy(before));
  });
});

describe('simulate', () => {
  it('is deterministic for a seed', () => {
    const s = parseScenario({ ...ok(), frameworks: [...ok().frameworks, { name: 'b', task: 'cpus:3;mem:1024', taskSeconds: [5, 15], tasks: 1000 }] });
    const { wallSeconds: _a, allocator: a1, ...r1 } = simulate(s);
    const { wallSeconds: _b, allocator: a2, ...r2 } = simulate(s);
    expect(r1).toEqual(r2);
    expect({ ...a1, allocationMs: 0 }).toEqual({ ...a2, allocationMs: 0 });
  });

  it('runs a reduced Mesos-scale scenario (1,000 agents, 20 frameworks) and keeps the cluster busy', () => {
    const frameworks = Array.from({ length: 20 }, (_, i) => ({
      name: `fw${i}`, task: i % 2 ? 'cpus:2;mem:4096' : 'cpus:1;mem:2048', taskSeconds: [20, 40], tasks: 100_000,
    }));
    const r = simulate(parseScenario({ agents: [{ resources: 'cpus:8;mem:16384', count: 1000 }], frameworks, seconds: 100, seed: 3 }));
    const running = Object.values(r.frameworks);
    // 8,000 CPUs; 1-CPU and 2-CPU tasks share them by DRF: every framework near 8000/20 = 400 CPUs.
    const cpus = running.map((f, i) => f.meanRunning * (i % 2 ? 2 : 1));
    expect(cpus.reduce((a, b) => a + b, 0)).toBeGreaterThan(0.9 * 8_000);
    for (const c of cpus) expect(c).toBeGreaterThan(300);
    expect(r.allocator.runs).toBe(100);
    expect(r.allocator.allocationMs.median).toBeGreaterThan(0);
  });
});

describe('isolab simulate (CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'isolab-sim-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const run = (...args: string[]) => spawnSync(process.execPath, [BIN, 'simulate', ...args], { encoding: 'utf8' });

  it('prints one JSON object with --json', () => {
    const file = join(dir, 'ok.json');
    writeFileSync(file, JSON.stringify(ok()));
    const r = run(file, '--json');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0]!);
    expect(Object.keys(out.frameworks.a)).toEqual(expect.arrayContaining(['launched', 'finished', 'running', 'meanRunning', 'dominantShare']));
    expect(Object.keys(out.allocator)).toEqual(expect.arrayContaining(['runs', 'allocationMs', 'offers', 'declined', 'rescinded']));
    expect(Object.keys(out.allocator.allocationMs)).toEqual(['median', 'p99', 'max']);
    expect(typeof out.wallSeconds).toBe('number');
  });

  it('prints a table without --json', () => {
    const file = join(dir, 'ok.json');
    writeFileSync(file, JSON.stringify(ok()));
    const r = run(file);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/framework\s+weight\s+launched\s+finished\s+running\s+meanRunning\s+dominantShare/);
    expect(r.stdout).toMatch(/allocator: 600 runs/);
  });

  it('exits 2 with one line naming the bad field', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ ...ok(), frameworks: [{ ...ok().frameworks[0], task: 'cpu:1' }] }));
    const r = run(file);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('isolab: scenario.frameworks[0].task: bad resource "cpu:1": unknown resource "cpu" (known: cpus, mem)\n');
    expect(r.stdout).toBe('');
  });

  it('exits 2 for a missing file, bad JSON or no argument', () => {
    const missing = run(join(dir, 'nope.json'));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/^isolab: .*nope\.json: no such file\n$/);
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{"agents": [');
    const broken = run(file);
    expect(broken.status).toBe(2);
    expect(broken.stderr).toMatch(/^isolab: scenario: not valid JSON/);
    expect(run().status).toBe(2);
  });
});
