import { backendNames } from '../../backends/registry.js';
import { FILES_OWNER, reap } from '../../reaper/reaper.js';
import { flag, list, parseFlags, str, type Command } from '../command.js';
import { UsageError } from '../errors.js';

const HELP = `Usage: isolab reap [--dry-run] [--json] [--session ID] [--backend NAMES]

Finds everything isolab sessions left behind and removes it: containers labelled isolab.owned
(any session), VM domains and their per-task files, process-backend executors and cgroups, and
leftover session temp folders and interrupted image builds under the state folder.
The reaping session itself is left alone. Run it when no other isolab command is running:
it also removes what a running session still uses.

Options:
  --dry-run          only list what would be removed
  --json             print one JSON object
  --session ID       only what this session left
  --backend NAMES    comma-separated subset of: ${[...backendNames(), FILES_OWNER].join(', ')}
  -h, --help         show this help

Exit status: 0 (also when a backend could not be asked; it is reported as skipped), 1 when a removal failed.`;

export const reapCommand: Command = {
  name: 'reap',
  summary: 'list or remove containers, domains, processes and files left by any isolab session',
  help: HELP,
  async run(argv) {
    const p = parseFlags(argv, { 'dry-run': { type: 'boolean' }, json: { type: 'boolean' }, session: { type: 'string' }, backend: { type: 'string' } });
    const known = [...backendNames(), FILES_OWNER];
    const backends = list(p, 'backend', known);
    for (const b of backends) if (!known.includes(b)) throw new UsageError(`unknown backend "${b}" (known: ${known.join(', ')})`);
    const dryRun = flag(p, 'dry-run');
    const report = await reap({ dryRun, session: str(p, 'session'), backends });
    if (flag(p, 'json')) {
      process.stdout.write(JSON.stringify(report) + '\n');
    } else {
      const lines = report.items.map((i) => {
        const what = i.error ? `FAILED: ${i.error}` : dryRun ? 'found' : 'removed';
        return `${i.backend.padEnd(8)} ${i.kind.padEnd(11)} ${i.id}  ${i.session ? `session ${i.session}  ` : ''}${what}`;
      });
      for (const s of report.skipped) lines.push(`${s.backend.padEnd(8)} skipped: ${s.reason}`);
      const failed = report.items.filter((i) => i.error).length;
      lines.push(dryRun
        ? `${report.items.length} leftover(s) found (dry run: nothing removed)`
        : `${report.items.length} leftover(s) found, ${report.items.length - failed} removed${failed ? `, ${failed} failed` : ''}`);
      process.stdout.write(lines.join('\n') + '\n');
    }
    return report.items.some((i) => i.error) ? 1 : 0;
  },
};
