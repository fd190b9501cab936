import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { datedSibling, stamp } from '../../src/cli/commands/lab.js';
import { registry } from '../../src/backends/registry.js';
import { LAB_DEFAULTS } from '../../src/experiments/settings.js';
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

  it('keeps the VM budget small: the vm descriptor has fewer density steps than the others', () => {
    const vm = registry.describe('vm')!.densitySteps!;
    expect(vm.length).toBeLessThan(LAB_DEFAULTS.densitySteps.length);
    expect(Math.max(...vm)).toBeLessThanOrEqual(4);
  });
});
