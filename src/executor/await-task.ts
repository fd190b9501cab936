import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { decodeTask, type ExecutorTask } from './protocol.js';

/** Line the waiting executor prints once it is up and reads its task (a snapshot template is saved after it). */
export const WAITING_MARKER = '@isolab-guest waiting';

/** Line the executor prints once a delivered task was read and the guest refreshed, with its clock step. */
export const RESTORED_MARKER = '@isolab-guest restored';

/**
 * What the host writes, as one base64url JSON line, to a waiting executor's standard input (a
 * restored guest's serial console): the task, and what the guest must refresh after a snapshot
 * restore.
 */
export interface TaskDelivery {
  /** The task to run. */
  task: ExecutorTask;
  /** Host clock (ms since the epoch) when the line was written: the guest sets its clock to it. */
  epochMs: number;
  /** Fresh random bytes from the host (base64), mixed into the guest kernel's pool. */
  entropy: string;
  /**
   * Refresh the guest: drop its page cache (the template's view of the input disk is stale), mix
   * `entropy` into /dev/urandom and set the clock. False on a host (tests), where none of it is wanted.
   */
  refresh: boolean;
}

/** Encodes a delivery as the line a waiting executor reads (no newline). */
export function encodeDelivery(d: TaskDelivery): string {
  return Buffer.from(JSON.stringify(d)).toString('base64url');
}

/** Decodes a delivery line; throws on anything else. */
export function decodeDelivery(line: string): TaskDelivery {
  const d = JSON.parse(Buffer.from(line.trim(), 'base64url').toString('utf8')) as TaskDelivery;
  if (!d || typeof d !== 'object' || typeof d.epochMs !== 'number' || typeof d.entropy !== 'string') throw new Error('malformed task delivery');
  return { ...d, task: decodeTask(JSON.stringify(d.task)), refresh: d.refresh === true };
}

/** Reads one line from standard input (raw, no echo, when it is a terminal such as the guest's console). */
export function readLine(stdin: NodeJS.ReadStream = process.stdin): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    if (stdin.isTTY) stdin.setRawMode(true);
    const done = (err?: Error): void => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.off('error', onError);
      if (stdin.isTTY) stdin.setRawMode(false);
      stdin.pause();
      if (err) reject(err);
      else resolve(buf);
    };
    const onData = (b: Buffer): void => {
      buf += b.toString('latin1');
      const i = buf.search(/[\r\n]/);
      if (i >= 0) {
        buf = buf.slice(0, i);
        done();
      } else if (buf.length > 1 << 20) done(new Error('task delivery line longer than 1 MiB'));
    };
    const onEnd = (): void => done(new Error('standard input ended before a task was delivered'));
    const onError = (err: Error): void => done(err);
    stdin.on('data', onData);
    stdin.once('end', onEnd);
    stdin.once('error', onError);
    stdin.resume();
  });
}

/**
 * Refreshes a restored guest: every guest restored from one template starts with the template's
 * page cache, entropy pool and clock. Drops the page cache, mixes the host's bytes into
 * /dev/urandom, and steps the clock to the host's (busybox `date -s`, whole seconds). Returns the
 * clock step (ms, host minus guest before the step).
 */
export function refreshGuest(d: TaskDelivery): number {
  const t0 = Date.now();
  const step = d.epochMs - t0;
  try {
    writeFileSync('/proc/sys/vm/drop_caches', '1\n');
  } catch {
    /* not root: nothing cached that matters */
  }
  try {
    writeFileSync('/dev/urandom', Buffer.from(d.entropy, 'base64'));
  } catch {
    /* no /dev/urandom */
  }
  const secs = Math.round((d.epochMs + (Date.now() - t0)) / 1000);
  spawnSync('date', ['-u', '-s', `@${secs}`], { stdio: 'ignore', timeout: 5000 });
  return Math.round(step);
}
