import type { ResultsFile, RowContext } from '../experiments/types.js';
import { accelOf, descriptorOf, emulatedIn, nounOf, orderedBackends } from './backends.js';
import { fmt } from './markdown.js';
import { statusReason } from './format.js';

/** A job shorter than this is dominated by its fixed costs. */
export const SHORT_JOB_SECONDS = 2;

/** One caveat: a short tag for tests and a sentence for readers. */
export interface Caveat {
  /** What it is about: accelerator, nested, load, cores, short-jobs, skipped, status, cold, small-n. */
  kind: 'accelerator' | 'nested' | 'load' | 'cores' | 'short-jobs' | 'skipped' | 'status' | 'cold' | 'small-n';
  /** The sentence. */
  text: string;
}

function accelReason(res: ResultsFile, backend: string): string | null {
  const d = descriptorOf(res, backend);
  const b = res.backends.find((x) => x.name === backend);
  if (!d?.accelerator || !b) return null;
  return b.attributes[`${d.accelerator.attribute}.reason`] ?? null;
}

/** Every configuration that did not finish, once per backend and experiment. */
function unfinished(res: ResultsFile): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  const add = (exp: string, r: RowContext, config = ''): void => {
    if (r.status === 'done') return;
    const key = `${exp}/${r.backend}/${r.status}/${r.reason ?? ''}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push(`${exp} on ${nounOf(res, r.backend)}${config}: ${statusReason(r)}`);
  };
  for (const r of res.startup) add('start-up', r);
  for (const r of res.density) add('density', r);
  for (const r of res.throughput) add('throughput', r, r.status === 'skipped' ? '' : ` at P=${r.parallelism}`);
  return out;
}

/** The caveats a reader must know before any figure, computed from the run's data alone. */
export function caveats(res: ResultsFile): Caveat[] {
  const out: Caveat[] = [];
  const e = res.environment;
  if (res.status !== 'complete') {
    out.push({ kind: 'status', text: `The run did not complete (status ${res.status}${res.statusReason ? `: ${res.statusReason}` : ''}): the tables show what finished before that.` });
  }
  for (const b of orderedBackends(res)) {
    const d = b.descriptor;
    if (!d?.accelerator || !b.usable) continue;
    const accel = accelOf(res, b.name);
    if (emulatedIn(res, b.name)) {
      const why = accelReason(res, b.name);
      out.push({
        kind: 'accelerator',
        text: `**${nounOf(res, b.name)}**: every ${d.noun} figure in this report is QEMU's software emulation of the CPU ` +
          `(${accel.toUpperCase()}), not hardware virtualisation. Emulation is typically one to two orders of magnitude slower ` +
          `than KVM for CPU-bound work and boots; a ${d.noun} with KVM would sit far closer to the other backends. Do not read ` +
          `the ${d.noun}'s ratios as the cost of virtualisation.${why ? ` Why ${accel.toUpperCase()}: ${why}.` : ''}`,
      });
    } else if (accel && accel !== 'none' && accel !== 'unknown') {
      out.push({ kind: 'accelerator', text: `${nounOf(res, b.name)} ran with ${accel.toUpperCase()} (hardware-assisted virtualisation).` });
    }
  }
  if (e.virtual) {
    const vms = orderedBackends(res).filter((b) => b.usable && b.descriptor?.kind === 'vm');
    out.push({
      kind: 'nested',
      text: 'The host is itself a virtual machine, so everything here runs nested, inside a guest' +
        (vms.length > 0 ? `; ${vms.map((b) => nounOf(res, b.name)).join(' and ')} runs as a guest inside that guest (KVM inside a VM needs nested virtualisation; without it, TCG)` : '') +
        '. Every figure includes the outer hypervisor\'s overhead, which bare metal would not have.',
    });
  } else if (e.virtual === null) {
    out.push({ kind: 'nested', text: 'Whether the host is itself a virtual machine is not known: nested virtualisation cannot be ruled out.' });
  }
  const load = e.loadAverage?.[0];
  const bg = res.sampler?.hostCpuPctNoJob;
  const busy = (load !== undefined && load > e.cores / 2) || (bg != null && bg > 25);
  out.push({
    kind: busy ? 'load' : 'cores',
    text: `${e.cores} logical cores${e.physicalCores ? ` (${e.physicalCores} physical)` : ''}; load average ${load === undefined ? '—' : fmt(load, 2)} ` +
      `at the start${bg != null ? `, ${fmt(bg, 1)}% CPU busy with no job of the lab running` : ''}.` +
      (busy ? ' **The host was busy with other work**: times and memory changes include that contention, and spreads are wider than on an idle host.' : '') +
      ` With ${e.cores} cores, parallelism above ${e.cores} cannot speed a job up, and P=${e.cores} competes with the lab itself and the engines' daemons.`,
  });
  const short = res.throughput.filter((r) => r.summary.jobSeconds.median !== null && r.summary.jobSeconds.median < SHORT_JOB_SECONDS);
  if (short.length > 0) {
    const list = short.map((r) => `${nounOf(res, r.backend)} at P=${r.parallelism} on ${fmt(r.bytes / 1e6, 0)} MB: ${fmt(r.summary.jobSeconds.median, 2)} s`);
    out.push({
      kind: 'short-jobs',
      text: `Short jobs (median under ${SHORT_JOB_SECONDS} s): ${list.join('; ')}. In a job this short the fixed costs (scheduling, ` +
        'executor start, reduce) weigh as much as the counting; the fixed-cost fit (time = a + b·bytes) separates the two.',
    });
  }
  const cold = res.startup.filter((r) => r.cold && r.cold.kind !== 'dropped-caches');
  if (cold.length > 0) {
    out.push({
      kind: 'cold',
      text: `Cold starts: the page cache was not dropped (${res.settings.dropCaches ? 'dropping failed' : 'run without --drop-caches'}), so the ` +
        `"cold" figure is the first start of each backend in this run${cold.some((r) => r.cold!.kind === 'first-after-image-build') ? ' (for some, the first since the image was built)' : ''}: ` +
        'the nearest thing to a cold start, one run, no interval.',
    });
  }
  const skipped = res.backends.filter((b) => !b.usable);
  const rows = unfinished(res).filter((t) => !skipped.some((b) => t.includes(`${nounOf(res, b.name)}:`) && t.includes('SKIPPED')));
  if (skipped.length > 0 || rows.length > 0) {
    const parts = [
      ...skipped.map((b) => `${nounOf(res, b.name, b.accelerator)} was not measured at all (${b.health}: ${b.description})`),
      ...rows,
    ];
    out.push({ kind: 'skipped', text: `Skipped or incomplete: ${parts.join('; ')}.` });
  }
  const notIn = ['startup', 'density', 'throughput'].filter((x) => !res.settings.experiments.includes(x as never));
  if (notIn.length > 0) out.push({ kind: 'skipped', text: `Not part of this run: ${notIn.join(', ')}.` });
  out.push({
    kind: 'small-n',
    text: 'Intervals are 95% confidence intervals of the median by order statistics; they exist from n = 6 up. A figure from ' +
      'fewer values shows its range ("no CI") and is never compared. A ratio between backends, or a speed-up, is printed only ' +
      'where both intervals exist and do not overlap; otherwise the summary says the difference is not measurable.',
  });
  return out;
}
