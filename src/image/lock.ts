import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { pidAlive as alive } from '../session/pid-alive.js';

/**
 * Takes an exclusive lock file holding this process's pid; waits while another live process holds it,
 * takes over a lock whose process is gone. Resolves with the release function.
 */
export async function acquireLock(path: string, opts: { timeoutMs?: number; onWait?: (holder: number) => void } = {}): Promise<() => void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10 * 60_000);
  let told = false;
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(path, 'utf8') === String(process.pid)) rmSync(path, { force: true });
        } catch {
          /* already gone */
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder = NaN;
    try {
      holder = Number(readFileSync(path, 'utf8'));
    } catch {
      continue;
    }
    if (!Number.isInteger(holder) || holder <= 0 || !alive(holder)) {
      rmSync(path, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`${path} held by pid ${holder} for too long`);
    if (!told) {
      opts.onWait?.(holder);
      told = true;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
