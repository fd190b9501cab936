import { spawnSync } from 'node:child_process';
import { closeSync, constants, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
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

/** FIFO the guest's PID 1 (init.sh, snapshot template) reads the host's time from, to set the clock. */
export const CLOCK_FIFO = '/run/isolab-clock';

/**
 * Refreshes a restored guest: every guest restored from one template starts with the template's
 * page cache, entropy pool and clock. Drops the page cache, mixes the host's bytes into
 * /dev/urandom, and hands the host's time (whole seconds) to init's clock setter (busybox `date
 * -s`, run by an already started shell so the executor does not fork). Returns the clock step (ms,
 * host minus guest before the step) and what each part took (ms).
 */
export function refreshGuest(d: TaskDelivery, clockFifo = CLOCK_FIFO): { step: number; ms: string } {
  const t0 = Date.now();
  const p0 = performance.now();
  const step = d.epochMs - t0;
  try {
    writeFileSync('/proc/sys/vm/drop_caches', '1\n');
  } catch {
    /* not root: nothing cached that matters */
  }
  const p1 = performance.now();
  try {
    writeFileSync('/dev/urandom', Buffer.from(d.entropy, 'base64'));
  } catch {
    /* no /dev/urandom */
  }
  const p2 = performance.now();
  const secs = Math.round((d.epochMs + (Date.now() - t0)) / 1000);
  try {
    const fd = openSync(clockFifo, constants.O_WRONLY | constants.O_NONBLOCK);
    try {
      writeSync(fd, `${secs}\n`);
    } finally {
      closeSync(fd);
    }
  } catch {
    spawnSync('date', ['-u', '-s', `@${secs}`], { stdio: 'ignore', timeout: 5000 });
  }
  const p3 = performance.now();
  return { step: Math.round(step), ms: `drop ${Math.round(p1 - p0)}, entropy ${Math.round(p2 - p1)}, clock ${Math.round(p3 - p2)}` };
}

/**
 * In a template guest (`isolab.await=1` on its kernel command line) drops the page cache before it
 * is saved: the snapshot then holds less memory to load at every restore. Does nothing elsewhere.
 */
export function shrinkTemplate(): void {
  try {
    if (!/(^| )isolab\.await=1( |$)/.test(readFileSync('/proc/cmdline', 'utf8').trim())) return;
    writeFileSync('/proc/sys/vm/drop_caches', '3\n');
  } catch {
    /* not a guest */
  }
}

/** Runs the code paths of a delivery once, so a template holds them compiled (V8 compiles lazily; slow under emulation). */
export function warmUp(): void {
  decodeDelivery(encodeDelivery({ task: { taskId: 'warm-up', mode: 'idle' }, epochMs: 0, entropy: '', refresh: false }));
}
