import { BOUNDARY_LABELS, isEmulated, KIND_LABELS, type Component } from '../../backends/descriptor.js';
import type { ResultsFile, RowContext } from '../../experiments/types.js';
import { emulationLabel, nounOf, orderedBackends } from '../backends.js';
import { GIB } from '../format.js';
import { blocks, fmt, heading, missing, MISSING, table, type Cell } from '../markdown.js';

/** One engine or runtime per row, as the backends' descriptors name them, with the version found or why it is missing. */
function componentRows(res: ResultsFile): Cell[][] {
  const rows = new Map<string, Cell[]>();
  for (const b of orderedBackends(res)) {
    const d = b.descriptor;
    if (!d) continue;
    for (const [role, c] of [['engine', d.engine], ['runtime', d.runtime]] as [string, Component][]) {
      const have = rows.get(c.name);
      if (have && have[1] !== MISSING && !String(have[1]).startsWith('—')) continue;
      const why = !b.usable ? `${b.name} backend ${b.health}: ${b.description}` : `not reported by the ${b.name} backend`;
      rows.set(c.name, [`${c.name} (${role} of ${d.displayName})`, c.version ? `${c.version}${c.detail ? ` (${c.detail})` : ''}` : missing(why)]);
    }
  }
  return [...rows.values()];
}

function limitsTable(res: ResultsFile): string {
  const rows: Cell[][] = [];
  const seen = new Set<string>();
  const add = (exp: string, r: RowContext, config = ''): void => {
    const key = `${exp}/${r.backend}/${r.status === 'skipped' ? '' : config}`;
    if (seen.has(key)) return;
    seen.add(key);
    const enf = r.limitsEnforced
      ? `cpu ${r.limitsEnforced.cpus ? 'yes' : 'no'}, mem ${r.limitsEnforced.mem ? 'yes' : 'no'} (${r.limitsEnforced.how})`
      : r.status === 'skipped' ? missing('skipped') : missing('no instance started');
    rows.push([exp, r.backend, r.status === 'skipped' ? '' : config, `cpus ${r.limitsRequested.cpus}, mem ${r.limitsRequested.mem} MiB`, enf]);
  };
  for (const r of res.startup) add('startup', r);
  for (const r of res.density) add('density', r);
  for (const r of res.throughput) add('throughput', r, `P=${r.parallelism}`);
  return rows.length > 0 ? blocks('Limits requested and enforced:', table(['experiment', 'backend', 'config', 'requested', 'enforced (how)'], rows, ['l', 'l', 'l', 'l', 'l'])) : '';
}

/** The machine, the software, every backend as fingerprinted, and the limits. */
export function environmentSection(res: ResultsFile): string {
  const e = res.environment;
  const accels = orderedBackends(res).filter((b) => b.descriptor?.accelerator || b.accelerator !== 'none');
  const accel = accels.length === 0 ? missing('no backend with an accelerator in this run')
    : accels.map((b) => (b.usable ? nounOf(res, b.name) : `${b.name}: ${missing(`${b.health}: ${b.description}`)}`)).join('; ');
  const rows: Cell[][] = [
    ['CPU', e.cpuModel],
    ['cores (logical / physical)', `${e.cores} / ${e.physicalCores ?? MISSING}`],
    ['memory', `${fmt(e.memoryBytes / GIB, 1)} GiB`],
    ['kernel', e.kernel],
    ['OS', e.os],
    ['host is a VM (nested virtualisation)', e.virtual === null ? MISSING : e.virtual ? 'yes' : 'no'],
    ['load average at start (1/5/15 min)', e.loadAverage ? e.loadAverage.map((x) => fmt(x, 2)).join(' / ') : MISSING],
    ['accelerator', accel],
    ...componentRows(res),
    ['node', e.node],
    ['git commit', e.gitCommit ? `${e.gitCommit}${e.gitDirty ? ' (with uncommitted changes)' : ''}` : missing('not a git checkout')],
    ['date', e.date],
    ['host name', e.hostname],
  ];
  const backendRows: Cell[][] = orderedBackends(res).map((b) => [
    b.name,
    b.descriptor ? `${KIND_LABELS[b.descriptor.kind]}, ${BOUNDARY_LABELS[b.descriptor.boundary]}` : MISSING,
    b.usable ? 'used' : 'SKIPPED',
    b.health,
    isEmulated(b.descriptor, b.accelerator) ? `${b.accelerator} (${emulationLabel(b.accelerator)})` : b.accelerator,
    b.description,
    Object.entries(b.attributes).map(([k, v]) => `${k}=${v}`).join('; ') || MISSING,
  ]);
  return blocks(
    heading('Environment'),
    table(['item', 'value'], rows, ['l', 'l']),
    'Backends as fingerprinted at the start of the run, along the isolation spectrum (a backend that is not usable is skipped, with the reason):',
    table(['backend', 'kind, boundary', 'used', 'health', 'accelerator', 'description', 'attributes'], backendRows, ['l', 'l', 'l', 'l', 'l', 'l', 'l']),
    limitsTable(res),
  );
}
