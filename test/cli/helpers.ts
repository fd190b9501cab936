import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
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

/**
 * The environment a CLI under test gets: PATH, HOME and the locale, nothing else of the
 * developer's (no ISOLAB_*, no DOCKER_HOST, no ISOLAB_DEBUG), plus what the test sets itself.
 */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', LANG: 'C.UTF-8', NO_COLOR: '1' };
  if (process.env.HOME) env.HOME = process.env.HOME;
  return { ...env, ...extra };
}

/** A CLI started in the background, with its output collected. */
export interface RunningCli {
  /** The child process. */
  child: ChildProcess;
  /** stdout so far. */
  stdout(): string;
  /** stderr so far. */
  stderr(): string;
  /** Resolves with the result once it exits. */
  done: Promise<CliResult>;
}

/** Starts `bin/isolab ...args` with a clean environment plus `env`; killed after `timeoutMs`. */
export function startIsolab(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000, wrap: string[] = []): RunningCli {
  const [cmd, ...pre] = wrap.length > 0 ? [...wrap, ISOLAB] : [ISOLAB];
  const child = spawn(cmd!, [...pre, ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
  return { child, stdout: () => stdout, stderr: () => stderr, done };
}

/** Runs `bin/isolab ...args` to completion, with a clean environment plus `env`. */
export function isolab(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000): Promise<CliResult> {
  return startIsolab(args, env, timeoutMs).done;
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

/** Polls `cond` every few ms until it holds or `ms` pass; returns whether it held. */
export async function until(cond: () => boolean, ms: number, everyMs = 5): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return true;
}
