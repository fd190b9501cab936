import { spawnSync } from 'node:child_process';

/** Result of a {@link flockFd} attempt. */
export type FlockResult = 'locked' | 'busy' | 'unavailable';

let missing = false;

/**
 * Puts a `flock(2)` lock on an open file descriptor of this process, without waiting (`-n`) or
 * waiting up to `waitS` seconds. Node has no flock call, so util-linux's `flock` is run on the
 * descriptor: the lock belongs to the open file description, which this process keeps, so it
 * stays held after the helper exits and is released by the kernel when this process closes the
 * descriptor or dies (also by SIGKILL). `unavailable` when the `flock` tool is missing.
 */
export function flockFd(fd: number, mode: 'exclusive' | 'shared', waitS = 0): FlockResult {
  if (missing) return 'unavailable';
  const args = [mode === 'exclusive' ? '-x' : '-s', ...(waitS > 0 ? ['-w', String(waitS)] : ['-n']), '3'];
  const r = spawnSync('flock', args, { stdio: ['ignore', 'ignore', 'ignore', fd] });
  if (r.error) {
    if ((r.error as NodeJS.ErrnoException).code === 'ENOENT') missing = true;
    return 'unavailable';
  }
  return r.status === 0 ? 'locked' : 'busy';
}
