import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { summarize } from '../stats/index.js';

/** Wall time (ms) of one run of a command, from spawn to exit, with its output. */
export function timeRun(cmd: string, args: string[], opts: SpawnSyncOptions = {}): { ms: number; status: number | null; stdout: string; stderr: string } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26, ...opts });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { ms, status: r.status, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

/** One line about the machine and its load, for the top of a benchmark's output. */
export function machineLine(): string {
  return `machine: ${cpus()[0]?.model ?? 'unknown CPU'} x${cpus().length}, node ${process.version}, load average ${loadLine()}`;
}

/**
 * The environment the benchmarked commands get: this process's own (what a user's shell gives
 * them), or with `clean` only PATH, HOME and LANG.
 */
export function benchEnv(clean: boolean): NodeJS.ProcessEnv {
  return clean ? { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/', LANG: 'C.UTF-8' } : { ...process.env };
}

/** A line saying which variables that slow every node start are set (NODE_EXTRA_CA_CERTS: ~80 ms here). */
export function envLine(env: NodeJS.ProcessEnv): string {
  const slow = ['NODE_EXTRA_CA_CERTS', 'NODE_OPTIONS'].filter((k) => env[k]);
  return slow.length === 0 ? 'environment: no NODE_EXTRA_CA_CERTS or NODE_OPTIONS' : `environment: ${slow.join(', ')} set (every node start pays for it; --clean-env drops it)`;
}

/** The 1, 5 and 15 minute load averages. */
export function loadLine(): string {
  return loadavg().map((x) => x.toFixed(2)).join(' ');
}

/** "median [ciLow, ciHigh] (min–max)" of a sample, in the given unit and decimals. */
export function describe(xs: number[], digits = 0, unit = 'ms'): string {
  const s = summarize(xs);
  const f = (x: number | null): string => (x === null ? '–' : x.toFixed(digits));
  return `${f(s.median)} ${unit} [95% CI ${f(s.ciLow)}–${f(s.ciHigh)}] (min ${f(s.min)}, max ${f(s.max)})`;
}

/** The median of a sample. */
export function medianOf(xs: number[]): number {
  return summarize(xs).median ?? NaN;
}

/** Parses `--name value` flags into numbers and strings; unknown flags throw. */
export function flags(argv: string[], known: Record<string, 'number' | 'string' | 'boolean'>): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const name = a.replace(/^--/, '');
    const kind = known[name];
    if (!a.startsWith('--') || !kind) throw new Error(`unknown argument ${a}`);
    if (kind === 'boolean') out[name] = true;
    else {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      if (kind === 'number') {
        const n = Number(v);
        if (!Number.isFinite(n) || n <= 0) throw new Error(`${a} needs a positive number`);
        out[name] = n;
      } else out[name] = v;
    }
  }
  return out;
}
