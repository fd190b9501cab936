import { accessSync, closeSync, constants, fstatSync, lstatSync, openSync, statSync, writeSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Backend } from '../backends/backend.js';
import { UsageError } from './errors.js';

/** Checks that an input file exists and is readable; returns its absolute path and size. */
export function checkInputFile(path: string | undefined, flagName = '--input'): { path: string; size: number } {
  if (!path) throw new UsageError(`${flagName} FILE is required`);
  const abs = resolve(path);
  let size: number;
  try {
    const st = statSync(abs);
    if (!st.isFile()) throw new UsageError(`${path}: not a regular file`);
    size = st.size;
    accessSync(abs, constants.R_OK);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`${path}: ${describeCode(err)}`);
  }
  return { path: abs, size };
}

function describeCode(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'no such file' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'ELOOP' ? 'too many symbolic links' : code ?? 'cannot read';
}

/** An input file opened once for a whole job. */
export interface OpenInput {
  /** The path as given, resolved to an absolute path. */
  path: string;
  /** Its size when opened: exactly this many bytes are counted. */
  size: number;
  /** The open descriptor. */
  fd: number;
  /**
   * The path executors are given: `/proc/<pid>/fd/<fd>`. Opening it opens the very file this
   * process holds open, even if `path` (or a symlink on the way) is replaced while the job runs;
   * a backend that copies the input copies from it, one that bind-mounts it mounts the file it names.
   */
  taskPath: string;
  /** Closes the descriptor (idempotent). */
  close(): void;
}

/**
 * Resolves and opens the input once: it must exist, be readable and be a regular file (fstat on
 * the open descriptor, so what is checked is what is read). Bad input is a UsageError (exit 2).
 */
export function openInputFile(path: string | undefined, flagName = '--input'): OpenInput {
  if (!path) throw new UsageError(`${flagName} FILE is required`);
  const abs = resolve(path);
  let fd: number;
  try {
    fd = openSync(abs, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    throw new UsageError(`${path}: ${describeCode(err)}`);
  }
  const st = fstatSync(fd);
  if (!st.isFile()) {
    closeSync(fd);
    throw new UsageError(`${path}: not a regular file`);
  }
  let open = true;
  return {
    path: abs, size: st.size, fd, taskPath: `/proc/${process.pid}/fd/${fd}`,
    close: () => {
      if (open) closeSync(fd);
      open = false;
    },
  };
}

/** An output file prepared before a job runs: its temp file exists (created exclusively), so writing it later cannot fail for lack of a folder or permission. */
export interface PreparedOutput {
  /** Absolute path of the output. */
  path: string;
  /** The temp file beside it. */
  tmp: string;
  /** Writes `data` to the temp file and renames it over the output. */
  commit(data: Uint8Array): void;
  /** Removes the temp file if it is still there (idempotent). */
  discard(): void;
}

/**
 * Checks `--output` before any work: its folder must exist; an existing output must be a regular
 * file, not a symbolic link (refused rather than followed). Creates the temp file beside it with
 * O_CREAT|O_EXCL|O_NOFOLLOW under a random name, so a planted file or link is never written
 * through; the final rename replaces the output's directory entry and never follows a link either.
 */
export function prepareOutput(path: string, flagName = '--output'): PreparedOutput {
  const abs = resolve(path);
  try {
    const st = lstatSync(abs);
    if (st.isSymbolicLink()) throw new UsageError(`${flagName} ${path}: is a symbolic link; refusing to write through it`);
    if (!st.isFile()) throw new UsageError(`${flagName} ${path}: exists and is not a regular file`);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new UsageError(`${flagName} ${path}: ${describeCode(err)}`);
  }
  const dir = dirname(abs);
  let fd: number | undefined;
  let tmp = '';
  for (let attempt = 0; fd === undefined; attempt++) {
    tmp = join(dir, `.${basename(abs)}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && attempt < 5) continue;
      throw new UsageError(`${flagName} ${path}: cannot write there (${code === 'ENOENT' ? 'no such folder' : code === 'ENOTDIR' ? 'not a folder' : describeCode(err)})`);
    }
  }
  let live = true;
  const discard = (): void => {
    if (!live) return;
    live = false;
    try {
      closeSync(fd!);
    } catch {
      /* closed */
    }
    rmSync(tmp, { force: true });
  };
  return {
    path: abs, tmp, discard,
    commit: (data) => {
      let done = 0;
      while (done < data.length) done += writeSync(fd!, data, done, data.length - done);
      closeSync(fd!);
      renameSync(tmp, abs);
      live = false;
    },
  };
}

/** Resolves a backend name to a usable backend; unknown or unusable backends are UsageErrors (exit 2). */
export async function usableBackend(name: string): Promise<Backend> {
  const { backendNames, getBackend, isBackendName, safeFingerprint } = await import('../backends/registry.js');
  if (!isBackendName(name)) throw new UsageError(`unknown backend "${name}" (known: ${backendNames().join(', ')})`);
  const fp = await safeFingerprint(name);
  if (fp.health !== 'healthy') throw new UsageError(`backend ${name} is not usable: ${fp.description}`);
  return getBackend(name);
}
