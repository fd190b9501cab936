import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnv } from '../cli/helpers.js';

/** Repository root. */
export const ROOT = join(import.meta.dirname, '..', '..');

/** The built CLI (run `npx tsc -p tsconfig.json` first). */
export const ISOLAB = join(ROOT, 'bin', 'isolab');

/** A fresh temp folder. */
export function tempDir(prefix = 'isolab-exp-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A running CLI with its output collected. */
export interface Running {
  /** The child process. */
  child: ChildProcess;
  /** stdout so far. */
  stdout(): string;
  /** stderr so far. */
  stderr(): string;
  /** Resolves with the exit code. */
  exit: Promise<number | null>;
}

/** Spawns `bin/isolab ...args` with a clean environment (none of the developer's) plus `env`, killed after `timeoutMs`. */
export function spawnIsolab(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000): Running {
  const child = spawn(ISOLAB, args, { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exit = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(t);
      resolve(code);
    });
  });
  return { child, stdout: () => out, stderr: () => err, exit };
}

/** The cells of the Markdown table rows whose first cells equal `first`. */
export function tableRows(markdown: string, ...first: string[]): string[][] {
  return markdown
    .split('\n')
    .filter((l) => l.startsWith('|') && !/^\|\s*:?-/.test(l))
    .map((l) => l.slice(1, -1).split(' | ').map((c) => c.trim()))
    .filter((cells) => first.every((f, i) => cells[i] === f));
}
