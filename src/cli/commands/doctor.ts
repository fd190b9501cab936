import type { Fingerprint } from '../../backends/backend.js';
import { BOUNDARY_LABELS, KIND_LABELS, resolveDescriptor, type BackendDescriptor } from '../../backends/descriptor.js';
import { registry } from '../../backends/registry.js';
import { flag, parseFlags, type Command } from '../command.js';

const HELP = `Usage: isolab doctor [--json] [--probe]

Fingerprints every backend, along the isolation spectrum, and says which are usable, and why not:
what each is (kind, boundary, engine and runtime with versions), then its attributes. Variants the
host seems to offer (docker:RUNTIME for another OCI runtime, e.g. docker:crun) are listed after.
Read-only: it boots nothing and writes nothing. The VM accelerator (KVM or TCG) is shown from the
answer cached by the last probe, with its age (and why it may be stale); without one it says the
accelerator is not probed yet. Exit status 0 when at least the process backend is usable, else 1.

Options:
  --json       print one JSON object keyed by backend: health, description, attributes, descriptor
  --probe      probe the VM accelerator now: boots a tiny KVM and a tiny TCG guest (about
               10-30 s), and caches the answer in the state folder
  -h, --help   show this help`;

/** One doctor entry: a backend or variant, its fingerprint, and its descriptor resolved from it. */
interface Entry {
  name: string;
  fp: Fingerprint;
  descriptor: BackendDescriptor | null;
}

/** "sandbox · user-space kernel · engine Docker Engine 20.10.24 · runtime runsc 0.0~20221219.0 (ptrace)". */
function whatItIs(d: BackendDescriptor): string {
  const comp = (c: BackendDescriptor['engine']): string => `${c.name}${c.version ? ` ${c.version}` : ''}${c.detail ? ` (${c.detail})` : ''}`;
  const accel = d.accelerator?.value ? ` · accelerator ${d.accelerator.value}${d.accelerator.emulated ? ' (emulation)' : ''}` : '';
  return `${KIND_LABELS[d.kind]} · boundary ${BOUNDARY_LABELS[d.boundary]} · engine ${comp(d.engine)} · runtime ${comp(d.runtime)}${accel}`;
}

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'fingerprint every backend: what it is, usable or not, and why (read-only; --probe probes the VM accelerator)',
  help: HELP,
  async run(argv) {
    const p = parseFlags(argv, { json: { type: 'boolean' }, probe: { type: 'boolean' } });
    const { setProbePolicy } = await import('../../backends/vm/accel-probe.js');
    setProbePolicy(flag(p, 'probe') ? 'fresh' : 'cache-only');
    const names = [...registry.names(), ...(await registry.variants())];
    const entries: Entry[] = await Promise.all(names.map(async (name) => {
      const fp = await registry.fingerprint(name);
      const d = registry.describe(name);
      return { name, fp, descriptor: d ? resolveDescriptor(d, fp.attributes) : null };
    }));
    if (flag(p, 'json')) {
      process.stdout.write(JSON.stringify(Object.fromEntries(entries.map((e) => [e.name, { ...e.fp, descriptor: e.descriptor }]))) + '\n');
    } else {
      const w = Math.max(8, ...names.map((n) => n.length));
      const lines: string[] = [];
      for (const { name, fp, descriptor } of entries) {
        const mark = fp.health === 'healthy' ? 'usable' : 'NOT usable';
        lines.push(`${name.padEnd(w)} ${mark.padEnd(11)} ${fp.health.padEnd(10)} ${fp.description}`);
        if (descriptor) lines.push(`${''.padEnd(w)}   ${whatItIs(descriptor)}`);
        for (const [k, v] of Object.entries(fp.attributes)) lines.push(`${''.padEnd(w)}   ${k} = ${v}`);
      }
      process.stdout.write(lines.join('\n') + '\n');
    }
    return entries.find((e) => e.name === 'process')?.fp.health === 'healthy' ? 0 : 1;
  },
};
