import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { session } from '../session/session.js';
import { leftoverFiles, reap } from './reaper.js';

describe('reaper files', () => {
  it('finds temp folders of other sessions and image builds of dead processes, and removes them', async () => {
    const state = mkdtempSync(join(tmpdir(), 'isolab-reap-test-'));
    process.env.ISOLAB_STATE_DIR = state;
    mkdirSync(join(state, 'tmp', 'isolab-dead1234-tmp'), { recursive: true });
    mkdirSync(join(state, 'tmp', `isolab-${session().id}-tmp`), { recursive: true });
    mkdirSync(join(state, 'tmp', 'unrelated'), { recursive: true });
    mkdirSync(join(state, 'images', '.build-0123456789ab-999999999'), { recursive: true });
    mkdirSync(join(state, 'images', `.build-0123456789ab-${process.pid}`), { recursive: true });
    expect(leftoverFiles()).toEqual([
      { backend: 'files', kind: 'tmpdir', id: join(state, 'tmp', 'isolab-dead1234-tmp'), session: 'dead1234' },
      { backend: 'files', kind: 'image-build', id: join(state, 'images', '.build-0123456789ab-999999999') },
    ]);
    const dry = await reap({ dryRun: true, backends: ['files'] });
    expect(dry.items.map((i) => i.removed)).toEqual([false, false]);
    const real = await reap({ backends: ['files'] });
    expect(real.items.map((i) => i.removed)).toEqual([true, true]);
    expect(leftoverFiles()).toEqual([]);
  });
});
