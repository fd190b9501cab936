import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Repository root, for spawning bin/isolab. */
export const ROOT = join(import.meta.dirname, '..', '..');

/** The CLI under test (needs `make build`). */
export const ISOLAB = join(ROOT, 'bin', 'isolab');

/** Result of a finished CLI run. */
export interface CliResult {
  /** Exit code. */
  code: number | null;
  /** Everything written to stdout. */
  stdout: string;
  /** Everything written to stderr. */
  stderr: string;
}

/** Runs `bin/isolab ...args` to completion. */
export function isolab(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(ISOLAB, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A fresh temp folder. */
export function tempDir(prefix = 'isolab-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Canonical counts of a file by the independent Python oracle. */
export function referenceCounts(path: string): Buffer {
  const r = spawnSync('python3', [join(ROOT, 'test', 'fixtures', 'wordcount_reference.py'), path], { maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`reference failed: ${r.stderr.toString()}`);
  return r.stdout;
}
