import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeRunDir, vmRunRoot, vmStateDir } from './paths.js';

describe('vm paths', () => {
  let state: string;
  const saved = process.env.ISOLAB_STATE_DIR;
  beforeEach(() => {
    state = mkdtempSync(join(tmpdir(), 'isolab-vmpaths-'));
    process.env.ISOLAB_STATE_DIR = state;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.ISOLAB_STATE_DIR;
    else process.env.ISOLAB_STATE_DIR = saved;
    rmSync(state, { recursive: true, force: true });
  });

  it('on a fresh host whose vm folder a private recursive mkdir made 0700, a run folder makes it traversable (QEMU opens input copies by name) but not listable', () => {
    mkdirSync(join(vmStateDir(), 'digests'), { recursive: true, mode: 0o700 });
    expect(statSync(vmStateDir()).mode & 0o777).toBe(0o700);
    const dir = makeRunDir(join(vmRunRoot(), 'isolab-abcd-task'));
    expect(statSync(vmStateDir()).mode & 0o777).toBe(0o711);
    expect(statSync(vmRunRoot()).mode & 0o777).toBe(0o711);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('keeps a wider mode a user gave the vm folder', () => {
    mkdirSync(vmStateDir(), { recursive: true });
    chmodSync(vmStateDir(), 0o755);
    makeRunDir(join(vmRunRoot(), 'isolab-abcd-task'));
    expect(statSync(vmStateDir()).mode & 0o777).toBe(0o755);
  });
});
