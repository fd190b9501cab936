import { basename, resolve } from 'node:path';
import { readResults } from '../../experiments/results-store.js';
import { compareMarkdown } from '../../report/compare.js';
import { parseFlags, type Command } from '../command.js';
import { UsageError } from '../errors.js';

const HELP = `Usage: isolab compare DIR1 DIR2

Prints two runs side by side as Markdown on stdout: every metric's median in each run and the
ratio DIR2/DIR1, with each run's machine, commit and status.

Options:
  -h, --help   show this help

Exit status: 0 done, 2 bad usage (not two folders with a valid results.json).`;

export const compareCommand: Command = {
  name: 'compare',
  summary: 'show two runs side by side with ratios (Markdown)',
  help: HELP,
  async run(argv) {
    const p = parseFlags(argv, {}, true);
    if (p.positionals.length !== 2) throw new UsageError('give two folders holding a results.json: DIR1 DIR2');
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
    if (la === lb) [la, lb] = ['run 1', 'run 2'];
    process.stdout.write(compareMarkdown(a, b, [la, lb]));
    return 0;
  },
};
