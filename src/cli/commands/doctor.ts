import { backendNames, safeFingerprint } from '../../backends/registry.js';
import { flag, parseFlags, type Command } from '../command.js';

const HELP = `Usage: isolab doctor [--json] [--probe]

Fingerprints every backend and says which are usable, and why not. Read-only: it boots nothing and
writes nothing. The VM accelerator (KVM or TCG) is shown from the answer cached by the last probe,
with its age (and why it may be stale); without one it says the accelerator is not probed yet.
Exit status 0 when at least the process backend is usable, else 1.

Options:
  --json       print one JSON object keyed by backend
  --probe      probe the VM accelerator now: boots a tiny KVM and a tiny TCG guest (about
               10-30 s), and caches the answer in the state folder
  -h, --help   show this help`;

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'fingerprint every backend: usable or not, and why (read-only; --probe probes the VM accelerator)',
  help: HELP,
  async run(argv) {
    const p = parseFlags(argv, { json: { type: 'boolean' }, probe: { type: 'boolean' } });
    const { setProbePolicy } = await import('../../backends/vm/accel-probe.js');
    setProbePolicy(flag(p, 'probe') ? 'fresh' : 'cache-only');
    const names = backendNames();
    const fps = await Promise.all(names.map((n) => safeFingerprint(n)));
    if (flag(p, 'json')) {
      process.stdout.write(JSON.stringify(Object.fromEntries(names.map((n, i) => [n, fps[i]]))) + '\n');
    } else {
      const lines: string[] = [];
      names.forEach((n, i) => {
        const fp = fps[i]!;
        const mark = fp.health === 'healthy' ? 'usable' : 'NOT usable';
        lines.push(`${n.padEnd(8)} ${mark.padEnd(11)} ${fp.health.padEnd(10)} ${fp.description}`);
        for (const [k, v] of Object.entries(fp.attributes)) lines.push(`${''.padEnd(8)}   ${k} = ${v}`);
      });
      process.stdout.write(lines.join('\n') + '\n');
    }
    return fps[names.indexOf('process')]?.health === 'healthy' ? 0 : 1;
  },
};
