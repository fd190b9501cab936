import { basename, resolve } from 'node:path';
import { readResults } from '../../experiments/results-store.js';
import { compareMarkdown, compareRuns, DEFAULT_MAX_REGRESSION, parseThreshold } from '../../report/compare.js';
import { parseFlags, str, type Command } from '../command.js';
import { UsageError } from '../errors.js';

const HELP = `Usage: isolab compare BASE NEW [--max-regression 10%]

Compares two runs (folders holding a results.json) as a regression gate, like Kata Containers'
checkmetrics: prints Markdown on stdout with every metric's median and interval in BASE and in NEW,
the ratio NEW/BASE and a verdict, and fails when a metric got worse.

A metric is a regression when its median got worse by more than the threshold (slower, more
memory; for rates such as MB/s, lower) AND the two intervals do not overlap (the 95% CI of the
median, by order statistics, which exists from 6 values). Worse inside overlapping intervals is
reported as noise and does not fail the gate; a metric with fewer than 6 values is not judged.

Options:
  --max-regression PCT   threshold, in percent ("10%" or "10"); default 10%
  -h, --help             show this help

Exit status: 0 no regression, 1 at least one regression, 2 bad usage (not two folders with a valid
results.json, bad threshold).`;

export const compareCommand: Command = {
  name: 'compare',
  summary: 'compare two runs as a regression gate (Markdown; exit 1 on a regression)',
  help: HELP,
  async run(argv) {
    const p = parseFlags(argv, { 'max-regression': { type: 'string' } }, true);
    if (p.positionals.length !== 2) throw new UsageError('give two folders holding a results.json: BASE NEW');
    const given = str(p, 'max-regression');
    const maxRegression = given === undefined ? DEFAULT_MAX_REGRESSION : parseThreshold(given);
    if (maxRegression === null) throw new UsageError(`--max-regression takes a percentage such as 10% or 2.5, got "${given}"`);
    const [d1, d2] = p.positionals.map((d) => resolve(d)) as [string, string];
    const read = (d: string): ReturnType<typeof readResults> => {
      try {
        return readResults(d);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
    };
    const a = read(d1);
    const b = read(d2);
    let la = basename(d1);
    let lb = basename(d2);
    if (la === lb) [la, lb] = ['base', 'new'];
    const opts = { maxRegression };
    process.stdout.write(compareMarkdown(a, b, [la, lb], opts));
    return compareRuns(a, b, opts).some((r) => r.verdict === 'regression') ? 1 : 0;
  },
};
