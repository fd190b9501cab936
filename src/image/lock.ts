import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

/** Options of {@link acquireLock}. */
export interface LockOptions {
  /** Give up after this long (default 10 minutes). */
  timeoutMs?: number;
  /** Called once when the lock is held by someone else, with the pid written in the lock file (NaN when unknown). */
  onWait?: (holder: number) => void;
}

/**
 * Takes an exclusive lock on `path` with flock(2), held by a `flock -o` helper process for as long
 * as this process wants it: the kernel grants it atomically, and frees it when the holder releases
 * it or dies (even by SIGKILL), so there is no stale lock to take over. The holder's pid is written
 * into the file, for messages only. Resolves with the release function. The file itself is never removed.
 */
export function acquireLock(path: string, opts: LockOptions = {}): Promise<() => void> {
  const seconds = Math.max(1, Math.ceil((opts.timeoutMs ?? 10 * 60_000) / 1000));
  return new Promise((resolve, reject) => {
    const child = spawn('flock', ['-o', '-x', '-w', String(seconds), '-E', '75', path, 'sh', '-c', 'echo locked; exec cat >/dev/null'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let settled = false;
    let err = '';
    const waitTimer = setTimeout(() => {
      if (settled) return;
      let holder = NaN;
      try {
        holder = Number(readFileSync(path, 'utf8').trim() || NaN);
      } catch {
        /* not written yet */
      }
      opts.onWait?.(holder);
    }, 200);
    const release = (): void => {
      child.stdin!.end();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    };
    child.stderr!.on('data', (b: Buffer) => {
      err = (err + b.toString()).slice(-2000);
    });
    child.stdout!.on('data', (b: Buffer) => {
      if (settled || !b.toString().includes('locked')) return;
      settled = true;
      clearTimeout(waitTimer);
      try {
        writeFileSync(path, `${process.pid}\n`);
      } catch {
        /* informational only */
      }
      // The lock must not keep the event loop alive; it lasts until release() or this process ends.
      child.unref();
      for (const s of [child.stdin, child.stdout, child.stderr] as unknown as { unref?: () => void }[]) s.unref?.();
      resolve(release);
    });
    child.once('error', (e) => {
      if (settled) return;
      settled = true;
      clearTimeout(waitTimer);
      reject(new Error(`cannot take the lock ${path}: flock (util-linux) did not run: ${e.message}`));
    });
    child.once('exit', (code) => {
      if (settled) return;
      settled = true;
      clearTimeout(waitTimer);
      let holder = '';
      try {
        holder = readFileSync(path, 'utf8').trim();
      } catch {
        /* unknown */
      }
      reject(new Error(code === 75
        ? `${path} held${holder ? ` by pid ${holder}` : ''} for more than ${seconds} s`
        : `cannot take the lock ${path}: ${err.trim() || `flock exited with ${code}`}`));
    });
  });
}
