import { join, resolve } from 'node:path';
import { readResults } from '../../experiments/results-store.js';
import { writeReport } from '../../report/write-report.js';
import { parseFlags, type Command } from '../command.js';
import { RuntimeError, UsageError } from '../errors.js';

const HELP = `Usage: isolab report DIR

Re-renders DIR/report.md, DIR/results.csv and the SVG charts from DIR/results.json alone
(e.g. after the report format changed, or from a run that was interrupted).

Options:
  -h, --help   show this help

Exit status: 0 done, 1 a file could not be written, 2 bad usage (no DIR, no valid results.json).`;

export const reportCommand: Command = {
  name: 'report',
  summary: 're-render report.md, results.csv and charts from a results.json',
  help: HELP,
  async run(argv) {
    const p = parseFlags(argv, {}, true);
    if (p.positionals.length !== 1) throw new UsageError('give one DIR holding a results.json');
    const dir = resolve(p.positionals[0]!);
    let res;
    try {
      res = readResults(dir);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    let w;
    try {
      w = await writeReport(dir, res);
    } catch (err) {
      throw new RuntimeError(`cannot write the report: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    for (const e of w.chartErrors) process.stderr.write(`isolab: chart not rendered: ${e}\n`);
    process.stdout.write(`report: ${join(dir, 'report.md')} (${w.files.length} files)\n`);
    return 0;
  },
};
