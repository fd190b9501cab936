import { cpSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { EXPERIMENTS } from '../../experiments/types.js';
import { LAB_DEFAULTS } from '../../experiments/settings.js';
import { flag, parseFlags, type Command } from '../command.js';
import { executeRun, prepareRun, RUN_FLAGS, runOptionsHelp } from './experiment.js';

const HELP = `Usage: isolab lab [--out DIR] [options]

The whole lab: "isolab experiment all" with defaults chosen to finish within 20 minutes on a
2-core machine whose VMs run under TCG. Writes DIR (default reports/latest/) and a dated copy
beside it (reports/<YYYY-MM-DD-HHMM>/). "make lab" runs setup, the build, then this.

Options:
${runOptionsHelp(LAB_DEFAULTS, 'reports/latest')}
  --no-dated-copy         do not copy DIR to a dated folder beside it

Progress (what runs, n of N, ETA) goes to stderr. SIGINT stops the run cleanly: results.json
keeps what finished, the report is rendered from it, and no instance is left behind.`;

/** YYYY-MM-DD-HHMM in local time. */
export function stamp(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}`;
}

/** A folder beside `dir` named by the date, not already taken. */
export function datedSibling(dir: string, d: Date): string {
  const base = join(dirname(dir), stamp(d));
  let path = base;
  for (let i = 2; existsSync(path); i++) path = `${base}-${i}`;
  return path;
}

export const labCommand: Command = {
  name: 'lab',
  summary: 'run every experiment with defaults that fit 20 minutes; write reports/latest and a dated copy',
  help: HELP,
  async run(argv) {
    const p = parseFlags(argv, { ...RUN_FLAGS, 'no-dated-copy': { type: 'boolean' } });
    const run = await prepareRun(p, [...EXPERIMENTS], LAB_DEFAULTS, 'reports/latest');
    const started = new Date();
    let copied = false;
    return executeRun(run, (dir) => {
      if (flag(p, 'no-dated-copy') || copied) return;
      copied = true;
      const to = datedSibling(dir, started);
      cpSync(dir, to, { recursive: true, filter: (src) => !src.endsWith('.tmp') });
      process.stderr.write(`isolab: dated copy in ${to}\n`);
    });
  },
};
