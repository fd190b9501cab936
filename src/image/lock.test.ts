import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireLock } from './lock.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const lockPath = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'isolab-lock-test-'));
  dirs.push(d);
  return join(d, '.lock');
};
const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Another process holding the lock the way acquireLock does (`flock -o`, its pid written in the file),
 * until that process (a sleep) is killed.
 */
function otherHolder(path: string): Promise<{ pid: number; kill: () => void }> {
  const child = spawn('flock', ['-o', '-x', path, 'sh', '-c', `echo $$ > "$1"; echo locked; exec sleep 60`, 'sh', path], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout.once('data', () => {
      const pid = Number(readFileSync(path, 'utf8'));
      resolve({ pid, kill: () => process.kill(pid, 'SIGKILL') });
    });
    child.once('error', reject);
  });
}

describe('image lock (flock)', () => {
  it('is exclusive: concurrent callers in one process get it one after the other', async () => {
    const path = lockPath();
    const events: string[] = [];
    const worker = async (name: string): Promise<void> => {
      const release = await acquireLock(path);
      events.push(`${name} in`);
      await tick(150);
      events.push(`${name} out`);
      release();
    };
    await Promise.all([worker('a'), worker('b'), worker('c')]);
    for (let i = 0; i < events.length; i += 2) {
      expect(events[i]!.replace(' in', '')).toBe(events[i + 1]!.replace(' out', ''));
    }
    expect(events).toHaveLength(6);
  });

  it('waits for another process, names its pid, and gets the lock as soon as that process dies (SIGKILL: no stale lock)', async () => {
    const path = lockPath();
    const other = await otherHolder(path);
    let waitedFor: number | undefined;
    let got = false;
    const pending = acquireLock(path, { onWait: (pid) => (waitedFor = pid) }).then((release) => {
      got = true;
      return release;
    });
    await tick(600);
    expect(got).toBe(false);
    expect(waitedFor).toBe(other.pid);
    other.kill();
    const release = await pending;
    expect(readFileSync(path, 'utf8').trim()).toBe(String(process.pid));
    release();
  });

  it('ignores whatever an older isolab left in the file (an empty file or a dead pid is no lock)', async () => {
    for (const content of ['', '999999999\n', 'garbage']) {
      const path = lockPath();
      writeFileSync(path, content);
      const release = await acquireLock(path, { timeoutMs: 2000 });
      release();
    }
  });

  it('gives up after the timeout with the holder pid in the message', async () => {
    const path = lockPath();
    const other = await otherHolder(path);
    try {
      await expect(acquireLock(path, { timeoutMs: 1000 })).rejects.toThrow(new RegExp(`held by pid ${other.pid} for more than 1 s`));
    } finally {
      other.kill();
    }
  });
});
