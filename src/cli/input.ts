import { accessSync, constants, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { getBackend, isBackendName, backendNames, safeFingerprint } from '../backends/registry.js';
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
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : 'cannot read'}`);
  }
  return { path: abs, size };
}

/** Resolves a backend name to a usable backend; unknown or unusable backends are UsageErrors (exit 2). */
export async function usableBackend(name: string): Promise<Backend> {
  if (!isBackendName(name)) throw new UsageError(`unknown backend "${name}" (known: ${backendNames().join(', ')})`);
  const fp = await safeFingerprint(name);
  if (fp.health !== 'healthy') throw new UsageError(`backend ${name} is not usable: ${fp.description}`);
  return getBackend(name);
}
