import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { datedSibling, stamp } from '../../src/cli/commands/lab.js';
import { registry } from '../../src/backends/registry.js';
import { resolveDescriptor } from '../../src/backends/descriptor.js';
import { planLines, planRun } from '../../src/experiments/plan.js';
import { LAB_DEFAULTS, makeSettings } from '../../src/experiments/settings.js';
import { EXPERIMENTS } from '../../src/experiments/types.js';
import { tempDir } from './helpers.js';

describe('isolab lab', () => {
  it('names the dated copy YYYY-MM-DD-HHMM beside the output folder, never reusing one', () => {
    const d = new Date(2027, 0, 5, 9, 7);
    expect(stamp(d)).toBe('2027-01-05-0907');
    const root = tempDir();
    const out = join(root, 'latest');
    expect(datedSibling(out, d)).toBe(join(root, '2027-01-05-0907'));
    mkdirSync(join(root, '2027-01-05-0907'));
    expect(datedSibling(out, d)).toBe(join(root, '2027-01-05-0907-2'));
  });

  it('keeps the VM budget small: the vm descriptor has its own few density steps', () => {
    const vm = registry.describe('vm')!.densitySteps!;
    expect(Math.max(...vm)).toBeLessThanOrEqual(4);
    expect(Math.max(...LAB_DEFAULTS.densitySteps)).toBe(64);
  });

  it('plans the four backends under TCG (state injected: accelerator tcg) within the statistics\' minimums, and says what it cut', () => {
    const names = ['process', 'docker', 'gvisor', 'vm'];
    const usable = names.map((n) => ({
      name: n, descriptor: resolveDescriptor(registry.describe(n)!, { 'vm.accelerator': 'tcg' }), accelerator: n === 'vm' ? 'tcg' : 'none',
    }));
    const s = makeSettings({
      experiments: [...EXPERIMENTS], backends: names, memBudgetBytes: 8 * 2 ** 30, repeat: LAB_DEFAULTS.repeat, warmup: LAB_DEFAULTS.warmup,
      throughputRepeat: LAB_DEFAULTS.throughputRepeat, densitySteps: [...LAB_DEFAULTS.densitySteps], timeBudgetSeconds: LAB_DEFAULTS.timeBudgetSeconds,
      densityStepsByBackend: { vm: [...registry.describe('vm')!.densitySteps!] },
    });
    const plan = planRun(s, usable, { cores: 2, given: {} });
    expect(s.repeatByBackend).toEqual({ process: 20, docker: 20, gvisor: 20, vm: 8 });
    expect(s.throughputRepeatByBackend!.vm).toBeGreaterThanOrEqual(5);
    for (const n of ['process', 'docker', 'gvisor']) expect(s.throughputRepeatByBackend![n]).toBeGreaterThanOrEqual(6);
    expect(s.seriesByBackend!.vm).toBeLessThan(s.seriesByBackend!.process!);
    for (const n of names) expect(s.throughputSizesByBackend![n]!.length).toBe(2);
    expect(s.densityRounds).toBe(3);
    expect(plan.budgetSeconds).toBe(1100);
    expect(plan.items.map((i) => `${i.experiment}:${i.backend}`)).toEqual(expect.arrayContaining(['startup:vm', 'density:gvisor', 'throughput:process', 'cross-checks:vm']));
    const lines = planLines(plan);
    expect(lines[0]).toMatch(/^isolab: plan: ~\d+:\d\d estimated for a budget of 18:20$/);
    expect(plan.notes.length).toBeGreaterThan(0);
  });
});
