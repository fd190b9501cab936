import { reap, reapOwners, type ReapItem } from '../../reaper/reaper.js';
import { checkSessionId } from '../../session/session-id.js';
import { flag, list, parseFlags, str, type Command } from '../command.js';
import { UsageError } from '../errors.js';

const HELP = `Usage: isolab reap [--dry-run] [--json] [--session ID] [--backend NAMES] [--force]

Finds what isolab sessions left behind and removes it. Only what is provably isolab's is taken:
  containers   label isolab.owned=true + name isolab-<session>-… + an isolab image (label isolab.image);
               removed by id
  VM domains   transient + named isolab-<session>-… + isolab's <metadata>; powered off, never undefined
               (a persistent domain is never touched, whatever its name)
  VM processes QEMU started directly (vm:micro, vm:snapshot) whose -pidfile lies in a session-named
               run folder; the command line is checked again just before the kill
  VM templates half-built snapshot templates (images/<id>/snapshots/isolab-<session>-build-…)
  processes    the ISOLAB_OWNER_SESSION marker + the session's record of the process or its task
               cgroup; the start time is checked again just before the kill
  clusters     of "isolab cluster up": network namespaces isolab-<session>-h<i>, links whose ifalias
               is isolab:<session>:… (bridge, veths), the processes inside those namespaces, the
               cluster's folder
  cgroups, VM run files, session temp folders, session records and interrupted image builds under
  the state folder.
Sessions that are running now (each holds a lock in the state folder's sessions/ folder) are
skipped and named; --force removes their resources too. The reaping session itself is left alone.

Options:
  --dry-run          only list what would be removed
  --json             print one JSON object
  --session ID       only what this session left
  --backend NAMES    comma-separated subset of: ${reapOwners().join(', ')}
  --force            also remove resources of sessions that are running now
  -h, --help         show this help

Exit status: 0 (also when a backend could not be asked, or a live session was skipped; both are
reported), 1 when a removal failed.`;

function line(i: ReapItem, dryRun: boolean): string {
  const what = i.error ? `FAILED: ${i.error}` : i.skipped ? `skipped: ${i.skipped}` : dryRun ? 'found' : 'removed';
  const id = i.name ? `${i.name} (${i.id.slice(0, 12)})` : i.id;
  return `${i.backend.padEnd(8)} ${i.kind.padEnd(11)} ${id}  ${i.session ? `session ${i.session}  ` : ''}${what}`;
}

export const reapCommand: Command = {
  name: 'reap',
  summary: 'list or remove containers, domains, processes and files that isolab sessions left behind',
  help: HELP,
  async run(argv) {
    const p = parseFlags(argv, {
      'dry-run': { type: 'boolean' }, json: { type: 'boolean' }, session: { type: 'string' }, backend: { type: 'string' }, force: { type: 'boolean' },
    });
    const known = reapOwners();
    const backends = list(p, 'backend', known);
    for (const b of backends) if (!known.includes(b)) throw new UsageError(`unknown backend "${b}" (known: ${known.join(', ')})`);
    const sessionId = str(p, 'session');
    if (sessionId !== undefined) checkSessionId(sessionId, '--session');
    const dryRun = flag(p, 'dry-run');
    const force = flag(p, 'force');
    const report = await reap({ dryRun, session: sessionId, backends, force });
    if (flag(p, 'json')) {
      process.stdout.write(JSON.stringify(report) + '\n');
    } else {
      const lines = report.items.map((i) => line(i, dryRun));
      for (const s of report.skipped) lines.push(`${s.backend.padEnd(8)} skipped: ${s.reason}`);
      for (const l of report.live) {
        const who = `session ${l.session} is running${l.pid ? ` (pid ${l.pid}${l.since ? `, since ${l.since}` : ''})` : ''}`;
        lines.push(force
          ? `${who}: --force given, its ${l.items} resource(s) ${dryRun ? 'would be' : 'were'} removed anyway`
          : `${who}: its ${l.items} resource(s) left alone (--force removes them)`);
      }
      const failed = report.items.filter((i) => i.error).length;
      const skipped = report.items.filter((i) => i.skipped).length;
      const taken = report.items.length - skipped;
      lines.push(dryRun
        ? `${taken} leftover(s) found${skipped ? `, ${skipped} skipped` : ''} (dry run: nothing removed)`
        : `${taken} leftover(s) found, ${taken - failed} removed${failed ? `, ${failed} failed` : ''}${skipped ? `; ${skipped} skipped` : ''}`);
      process.stdout.write(lines.join('\n') + '\n');
    }
    return report.items.some((i) => i.error) ? 1 : 0;
  },
};
