import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dropCachesFromEnv, firstSinceImageBuild } from '../../src/experiments/cold.js';
import { startupPlanFor } from '../../src/experiments/startup.js';
import { makeSettings } from '../../src/experiments/settings.js';
import { tempDir } from './helpers.js';

const saved = process.env.ISOLAB_STATE_DIR;
afterEach(() => {
  if (saved === undefined) delete process.env.ISOLAB_STATE_DIR;
  else process.env.ISOLAB_STATE_DIR = saved;
});

describe('cold starts', () => {
  it('drop the page cache only when asked (--drop-caches or ISOLAB_DROP_CACHES=1)', () => {
    expect(dropCachesFromEnv({})).toBe(false);
    expect(dropCachesFromEnv({ ISOLAB_DROP_CACHES: '1' })).toBe(true);
    expect(dropCachesFromEnv({ ISOLAB_DROP_CACHES: '0' })).toBe(false);
    const s = makeSettings({ experiments: ['startup'], backends: ['process'], memBudgetBytes: 1, repeat: 20, warmup: 1 });
    expect(startupPlanFor(s, 'process')).toEqual({ warm: 20, before: 1, cold: false, series: 0 });
    expect(startupPlanFor({ ...s, dropCaches: true, coldRepeat: 5 }, 'process')).toMatchObject({ before: 5, cold: true });
  });
  it('label the first start after an image build once per backend (a marker in the state folder; state injected: a fresh state folder)', async () => {
    process.env.ISOLAB_STATE_DIR = tempDir();
    expect(await firstSinceImageBuild('process')).toBe(true);
    expect(await firstSinceImageBuild('process')).toBe(false);
    expect(await firstSinceImageBuild('docker')).toBe(true);
    const dir = join(process.env.ISOLAB_STATE_DIR, 'measure', 'first-start');
    expect(existsSync(dir)).toBe(true);
    expect(readdirSync(dir)).toHaveLength(2);
  });
});
