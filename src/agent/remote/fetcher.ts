import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { mkdirSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutorTask } from '../../executor/protocol.js';
import type { LaunchedTask } from '../../master/types.js';
import { isWhitespace } from '../../workload/split.js';
import type { PreparedTask } from '../agent.js';

/** Bytes asked for at a time past a range's end, looking for the end of its last word (doubling). */
const TAIL_CHUNK = 4096;

/** How long one Range request may take (ms). */
const FETCH_TIMEOUT_MS = 30_000;

/** A fetch that did not give the bytes asked for: the task fails with this message. */
export class FetchError extends Error {}

/** The URL as messages show it: the server's host and port (its path is the input's secret). */
export function redactUrl(url: string): string {
  try {
    return `the input server at ${new URL(url).host}`;
  } catch {
    return 'the input server';
  }
}

/** GETs bytes [from, to] (inclusive) of `url`; checks the 206 answer's Content-Range and length, and the total size. */
export function fetchRange(url: string, from: number, to: number, size: number, signal?: AbortSignal): Promise<Buffer> {
  const shown = redactUrl(url);
  return new Promise((resolve, reject) => {
    const fail = (why: string): void => reject(new FetchError(`input fetch failed: bytes ${from}-${to} from ${shown}: ${why}`));
    const req = request(url, { method: 'GET', headers: { Range: `bytes=${from}-${to}` }, signal, agent: false }, (res) => {
      if (res.statusCode !== 206) {
        res.resume();
        return fail(`answered ${res.statusCode} instead of 206 Partial Content`);
      }
      const cr = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(String(res.headers['content-range'] ?? ''));
      if (!cr || Number(cr[1]) !== from || Number(cr[2]) !== to) {
        res.resume();
        return fail(`Content-Range "${String(res.headers['content-range'] ?? '').slice(0, 60)}" is not the range asked for`);
      }
      if (Number(cr[3]) !== size) {
        res.resume();
        return fail(`the input has ${cr[3]} bytes now, not the ${size} the job counts`);
      }
      const parts: Buffer[] = [];
      let got = 0;
      const want = to - from + 1;
      res.on('data', (b: Buffer) => {
        got += b.length;
        if (got <= want) parts.push(b);
      });
      res.on('error', (err) => fail(`connection lost after ${got} of ${want} bytes (${(err as NodeJS.ErrnoException).code ?? err.message})`));
      res.on('aborted', () => fail(`connection lost after ${got} of ${want} bytes`));
      res.on('end', () => {
        if (got !== want) return fail(`got ${got} bytes, expected ${want}`);
        resolve(Buffer.concat(parts));
      });
    });
    req.setTimeout(FETCH_TIMEOUT_MS, () => req.destroy(new Error(`no answer in ${FETCH_TIMEOUT_MS / 1000} s`)));
    req.on('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.message));
    req.end();
  });
}

/**
 * Fetches what a map task reads of an input served over HTTP (Mesos' fetcher step): the byte
 * before its range (whether it starts mid-word), the range, and past its end until its last word
 * ends. They are written at their own offsets into a sparse file of the input's full size in the
 * task's sandbox, so the executor reads the same offsets as from the original. Returns the file's path.
 */
export async function fetchTaskInput(url: string, start: number, end: number, size: number, dir: string, signal?: AbortSignal): Promise<string> {
  const path = join(dir, 'input');
  const fh = await open(path, 'wx', 0o644);
  try {
    await fh.truncate(size);
    const from = Math.max(0, start - 1);
    if (end > from) {
      const body = await fetchRange(url, from, end - 1, size, signal);
      await fh.write(body, 0, body.length, from);
    }
    let at = end;
    let chunk = TAIL_CHUNK;
    while (at < size) {
      const to = Math.min(size, at + chunk) - 1;
      const body = await fetchRange(url, at, to, size, signal);
      await fh.write(body, 0, body.length, at);
      if (body.some((b) => isWhitespace(b))) break;
      at = to + 1;
      chunk *= 2;
    }
  } finally {
    await fh.close();
  }
  return path;
}

/**
 * The agent's TaskPreparer: every task gets a sandbox folder under `sandboxes` (where a backend that
 * can recover tasks keeps their output); a task whose input is an http:// URL has its range fetched
 * into it, and the backend is handed the local file. The sandbox is removed when the task has ended.
 */
export function sandboxPreparer(sandboxes: string): (task: LaunchedTask, signal?: AbortSignal) => Promise<PreparedTask | undefined> {
  return async (task, signal) => {
    const dir = join(sandboxes, `${task.taskId.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64)}-${randomBytes(4).toString('hex')}`);
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
    const p = task.payload as ExecutorTask | undefined;
    if (!p || p.mode !== 'wordcount' || typeof p.input !== 'string' || !/^http:\/\//i.test(p.input)) return { task, cleanup, outputDir: dir };
    const { start, end, size } = p;
    try {
      if (start === undefined || end === undefined || size === undefined) throw new FetchError('input fetch failed: a task with an input URL needs start, end and size');
      const input = await fetchTaskInput(p.input, start, end, size, dir, signal);
      return { task: { ...task, payload: { ...p, input } }, cleanup, outputDir: dir };
    } catch (err) {
      cleanup();
      throw err instanceof FetchError ? err : new FetchError(`input fetch failed: ${(err as Error).message}`);
    }
  };
}

/** A TaskPreparer that only acts for tasks whose input is an http:// URL (for agents that keep no sandboxes otherwise). */
export function urlInputPreparer(sandboxes: string): (task: LaunchedTask, signal?: AbortSignal) => Promise<PreparedTask | undefined> {
  const prepare = sandboxPreparer(sandboxes);
  return async (task, signal) => {
    const p = task.payload as ExecutorTask | undefined;
    return p?.mode === 'wordcount' && typeof p.input === 'string' && /^http:\/\//i.test(p.input) ? prepare(task, signal) : undefined;
  };
}
