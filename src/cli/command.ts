import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.js';

/** One `isolab <name>` sub-command. */
export interface Command {
  /** Name typed after `isolab`. */
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Full `--help` text. */
  help: string;
  /** Runs the command; resolves to the process exit code. */
  run(argv: string[]): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parsed flags and positionals of one command line. */
export interface Parsed {
  /** Flag values by long name. */
  values: Record<string, string | boolean | string[] | undefined>;
  /** Arguments that are not flags. */
  positionals: string[];
}

/** Parses argv strictly; any unknown flag or missing value becomes a UsageError. */
export function parseFlags(argv: string[], options: Options, allowPositionals = false): Parsed {
  try {
    const r = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true });
    return { values: r.values as Parsed['values'], positionals: r.positionals };
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new UsageError(msg.replace(/\. To specify a positional.*$/, '').replace(/'/g, ''));
  }
}

/** Reads a string flag, or the default. */
export function str(p: Parsed, name: string, dflt?: string): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : dflt;
}

/** Reads a positive integer flag, or the default; anything else is a UsageError. */
export function int(p: Parsed, name: string, dflt: number, min = 1): number {
  const v = p.values[name];
  if (v === undefined) return dflt;
  const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got "${String(v)}"`);
  return n;
}

/** Reads a positive number flag (seconds, MB), or the default. */
export function num(p: Parsed, name: string, dflt: number, min = 0): number {
  const v = p.values[name];
  if (v === undefined) return dflt;
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n) || n < min) throw new UsageError(`--${name} must be a number >= ${min}, got "${String(v)}"`);
  return n;
}

/** Reads a comma-separated list flag, or the default. */
export function list(p: Parsed, name: string, dflt: string[]): string[] {
  const v = str(p, name);
  if (v === undefined) return dflt;
  const items = v.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new UsageError(`--${name} must not be empty`);
  return items;
}

/** True when the flag was given. */
export function flag(p: Parsed, name: string): boolean {
  return p.values[name] === true;
}
