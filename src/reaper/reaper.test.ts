import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { session } from '../session/session.js';
import { leftoverFiles, reap } from './reaper.js';
import { killChild, sessionHolder } from '../../test/reaper/helpers.js';

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

describe('reaper session records', () => {
  it('lists the record folder of a session that is not running and removes it; a running session\'s record and temp folder stay', async () => {
    const state = mkdtempSync(join(tmpdir(), 'isolab-reap-rec-'));
    process.env.ISOLAB_STATE_DIR = state;
    const holder = await sessionHolder('recliveone');
    try {
      mkdirSync(join(state, 'sessions', 'recdeadone', 'processes'), { recursive: true });
      writeFileSync(join(state, 'sessions', 'recdeadone', 'lock'), '{}');
      mkdirSync(join(state, 'tmp', 'isolab-recliveone-tmp'), { recursive: true });
      expect(leftoverFiles()).toEqual([
        { backend: 'files', kind: 'tmpdir', id: join(state, 'tmp', 'isolab-recliveone-tmp'), session: 'recliveone' },
        { backend: 'files', kind: 'session', id: join(state, 'sessions', 'recdeadone'), session: 'recdeadone' },
      ]);
      const r = await reap({ backends: ['files'] });
      expect(r.live).toEqual([expect.objectContaining({ session: 'recliveone', pid: holder.pid, items: 1 })]);
      expect(r.items.map((i) => [i.kind, i.session, i.removed, i.skipped !== undefined])).toEqual([
        ['tmpdir', 'recliveone', false, true],
        ['session', 'recdeadone', true, false],
      ]);
      expect(existsSync(join(state, 'sessions', 'recdeadone'))).toBe(false);
      expect(existsSync(join(state, 'sessions', 'recliveone', 'lock'))).toBe(true);
      expect(existsSync(join(state, 'tmp', 'isolab-recliveone-tmp'))).toBe(true);
    } finally {
      await killChild(holder);
    }
  });
});
