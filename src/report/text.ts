import { BOUNDARY_LABELS, KIND_LABELS } from '../backends/descriptor.js';
import { PHASE_DEFINITIONS } from '../backends/phases.js';
import { STARTUP_METRICS } from '../experiments/intervals.js';
import type { ResultsFile } from '../experiments/types.js';
import { nounOf, orderedBackends } from './backends.js';
import { bulletList, missing } from './markdown.js';

/** What each backend of the run is and shares with the host, in the lab's own words (from their descriptors). */
export function backgroundText(res: ResultsFile): string {
  const bs = orderedBackends(res).filter((b) => b.descriptor);
  if (bs.length === 0) return missing('no backend of this run has a descriptor');
  return [
    `The lab runs the same executor (a Node program that counts words in a byte range of a file) ${bs.length === 1 ? 'one way' : `${bs.length} ways`}, ` +
      'along the isolation spectrum:',
    '',
    bulletList(bs.map((b) => `**${b.descriptor!.displayName}** (${KIND_LABELS[b.descriptor!.kind]}, boundary: ${BOUNDARY_LABELS[b.descriptor!.boundary]}): ${b.descriptor!.summary}`)),
    '',
    `What each shares with the host: ${bs.map((b) => `${nounOf(res, b.name)}: ${b.descriptor!.shares}`).join('; ')}. ` +
      'Each step along the spectrum buys stronger isolation with start-up time, memory or speed.',
  ].join('\n');
}

/** Which host processes each backend's instance memory is counted over, from the descriptors. */
function hostProcesses(res: ResultsFile): string {
  const bs = orderedBackends(res).filter((b) => b.descriptor);
  return bs.length > 0 ? bs.map((b) => `${nounOf(res, b.name)}: ${b.descriptor!.hostProcesses}`).join('; ') : 'the instance\'s processes';
}

/** Where each clock starts and stops, repetitions and warm-up, as this run was configured. */
export function methodText(res: ResultsFile): string {
  const s = res.settings;
  return [
    bulletList([
      `**Start-up** goes through the lab's embedded Mesos-style master: for each run a fresh master and local agent, ` +
        `and a one-task framework that accepts the first offer and launches one executor counting a tiny input ` +
        `(${s.startupInputBytes} bytes) so that "first result" means real work. Every backend's task goes through the same ` +
        `phases, defined once (src/backends/phases.ts), each stamped with the same clock (ms since the epoch from ` +
        `\`performance\`): ${PHASE_DEFINITIONS.map((d) => `*${d.phase}* (${d.meaning})`).join('; ')}. The agent reports a ` +
        `task's result at *workDone*; *exited* and *cleaned* come after, so job times exclude teardown. Intervals between ` +
        `agent-stamped phases (${STARTUP_METRICS.filter((m) => m.comparable).map((m) => m.label).join('; ')}) compare across ` +
        `backends; the others (${STARTUP_METRICS.filter((m) => !m.comparable).map((m) => m.label).join('; ')}) end at ` +
        `backend-defined points and show where each backend spends its time. Backends may add their own phases (shown as ` +
        `offsets from the offer). The first run of each backend (cold: page cache dropped before it with --drop-caches; ` +
        `otherwise the first run, the nearest thing to a cold start) is kept apart from the ${s.repeat} warm runs.`,
      `**Statistics**: median, min, max, coefficient of variation (stddev/mean); from 6 values on, p95 (linear ` +
        `interpolation, as numpy) and a distribution-free confidence interval of the median by order statistics, ` +
        `[x(k), x(n+1−k)] with the largest k whose exact binomial coverage is still ≥ 95% (e.g. 97.9% at n = 10); below ` +
        `6 values no interval and no p95. Outliers are flagged by MAD (modified z-score > 3.5, Iglewicz & Hoaglin) and kept in the data.`,
      `**Density** launches K idle executors directly on the backend (no master), K rising through the steps ` +
        `${s.densitySteps.join(', ')}${Object.entries(s.densityStepsByBackend).map(([b, st]) => ` (${b}: ${st.join(', ')})`).join('')} ` +
        `until the memory budget (${Math.round(s.memBudgetBytes / 2 ** 20)} MiB per step), a backend's time budget, the last step, or a failed launch. ` +
        `Each step launches the K instances all at once, ${s.densityRounds ?? 3} times, measures memory after a 1 s settle ` +
        `each time, then stops and destroys them all. The launch ` +
        `clock runs from the first start call to the last executor ready; the rate is K / that time. Memory per instance ` +
        `is the PSS (proportional set size, /proc/<pid>/smaps_rollup) summed over every host process of the instance ` +
        `(${hostProcesses(res)}); shared engine daemons (dockerd, containerd, libvirtd) are not counted. PSS divides each shared page among the processes that map it, so ` +
        `instances that map the same files (the node binary, the image's libraries) share their cost: per-instance PSS ` +
        `falls as K rises, and a host process shares the node binary with the lab itself. Second measure: the drop of host available memory (MemAvailable, ` +
        `median of 3 reads) from before the launch to all instances up, divided by K; it catches what PSS misses (page ` +
        `tables, kernel and hypervisor memory, page cache) but also every other change of host memory in the same window, ` +
        `so on a busy host it is noisy and can even be negative.`,
      `**Throughput** runs the wordcount job (one map task per byte range, scheduled by the master, reduced as results ` +
        `arrive) at P = 1 on two input sizes per backend (for the fit time = a + b·bytes) and at P = ${s.parallelism.join(', ')} ` +
        `on the larger one, ${s.throughputRepeat} job(s) each (fewer on an emulated VM). Each map task asks for an equal share of the agent's cores (at most 1 core) and ` +
        `${s.throughputMemMiB} MiB. The job clock runs from framework registration to the last map result merged (results ` +
        `are reported at each task's *workDone*: teardown is not in it). Each map task's CPU-seconds and peak memory come ` +
        `from the isolation layer itself (its cgroup, the container's cgroup, or the QEMU process). ` +
        `*Start-up* is from the first offer to the first executor ready (no word counted before it); *steady state* is the ` +
        `rest of the job. MB/s = input MB (10^6 bytes) / job time; speed-up = median job time at P=1 / median job time at P. ` +
        `Host CPU % and memory in use (total − available) are sampled with systeminformation at ${s.samplerHz} Hz during ` +
        `each job; the sampler's own cost is measured first, with no job running.`,
      `Every result row carries its backend, accelerator, the limits requested and those the backend enforced, and the ` +
        `environment. results.json holds every raw sample and is rewritten after each configuration; this report is ` +
        `rendered from it alone (\`isolab report DIR\`).`,
    ]),
  ].join('\n');
}
