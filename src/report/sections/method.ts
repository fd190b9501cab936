import { STARTUP_METRICS } from '../../experiments/intervals.js';
import { PHASE_DEFINITIONS, type ResultsFile } from '../../experiments/types.js';
import { nounOf, orderedBackends } from '../backends.js';
import { blocks, bulletList, fmt, heading, table, type Cell } from '../markdown.js';

/** Which host processes each backend's memory and CPU are counted over, from the descriptors. */
function hostProcesses(res: ResultsFile): string {
  const bs = orderedBackends(res).filter((b) => b.descriptor);
  return bs.length > 0 ? bs.map((b) => `${nounOf(res, b.name)}: ${b.descriptor!.hostProcesses}`).join('; ') : 'the instance\'s processes';
}

/** How each backend's per-task figures were read, from the sources the runs recorded. */
function usageSources(res: ResultsFile): string {
  const by = new Map<string, Set<string>>();
  const add = (backend: string, sources: Record<string, string> | undefined): void => {
    if (!sources) return;
    const set = by.get(backend) ?? new Set<string>();
    for (const [k, v] of Object.entries(sources)) set.add(`${k}: ${v}`);
    by.set(backend, set);
  };
  for (const r of res.startup) for (const s of r.samples) add(r.backend, s.task?.usage?.sources);
  for (const r of res.throughput) for (const j of r.runs) for (const t of j.tasks ?? []) add(r.backend, t.usage?.sources);
  if (by.size === 0) return '';
  return `Sources recorded by this run: ${[...by].map(([b, s]) => `${nounOf(res, b)} (${[...s].join('; ')})`).join('; ')}.`;
}

/** The method: where each clock starts and stops, what is comparable, the statistics, as this run was configured. */
export function methodSection(res: ResultsFile): string {
  const s = res.settings;
  const phases: Cell[][] = PHASE_DEFINITIONS.map((d) => [`\`${d.phase}\``, d.by, d.meaning]);
  const intervals: Cell[][] = STARTUP_METRICS.map((m) => [m.label, `${m.from} → ${m.to}`, m.comparable ? 'yes' : 'no', m.note]);
  const warm = Object.entries(s.repeatByBackend ?? {}).map(([b, n]) => `${b}: ${n}`).join(', ');
  return blocks(
    heading('Method'),
    heading('Phases: one set of boundaries for every backend', 3),
    'Every task, in every experiment, is stamped at the same points with one clock (ms since the epoch, ' +
      '`performance.timeOrigin + performance.now()`). The master stamps the offer, the agent the launch request, ready, ' +
      'first result, work done and cleaned; each backend stamps created, running and exited at the points below. The ' +
      'agent reports a task\'s result at *work done*, so job times never include teardown; teardown is accounted apart.',
    table(['phase', 'stamped by', 'meaning (and where each backend takes it)'], phases, ['l', 'l', 'l']),
    'Intervals, and which compare across backends (both ends the same kind of event everywhere):',
    table(['interval', 'from → to', 'comparable', 'why'], intervals, ['l', 'l', 'l', 'l']),
    heading('Experiments', 3),
    bulletList([
      `**Start-up**: a fresh master, local agent and one-task framework per run; the task counts a tiny input (${s.startupInputBytes} bytes) so "first result" is real work. ` +
        `${s.repeat} warm runs per backend${warm ? ` (${warm})` : ''}. Before them, ${s.dropCaches ? `${s.coldRepeat ?? 1} cold run(s) with the page cache dropped before each (\`echo 3 > /proc/sys/vm/drop_caches\`)` : 'one *first* run (page cache not dropped): the nearest thing to a cold start, labelled as such'}; ` +
        'cold and warm are summarized apart, and every run stays in results.json. Launch series: N instances one after another (each waited for until ready), then N at once, with per-instance distributions.',
      `**Per-task accounting**, for every task of every experiment, from the isolation layer itself: CPU-seconds (user + system) and peak memory of the instance, ` +
        'memory when its executor said ready (the idle baseline; memory above it is what the work added), and bytes read. The instance is counted over: ' +
        `${hostProcesses(res)}. The executor also reports its own view from inside (its kernel's count: host, Sentry or guest). ${usageSources(res)}`,
      `**Density**: K idle executors per backend, launched all at once, ${s.densityRounds ?? 3} rounds per K, K rising through ${s.densitySteps.join(', ')}` +
        `${Object.entries(s.densityStepsByBackend).map(([b, st]) => ` (${b}: ${st.join(', ')})`).join('')} until the memory budget ` +
        `(${Math.round(s.memBudgetBytes / 2 ** 20)} MiB per step), a time budget, a failed launch or the last step; the report says which. ` +
        'Memory per instance = PSS (`/proc/<pid>/smaps_rollup`) summed over the instance\'s host processes; shared engine daemons ' +
        '(dockerd, containerd, libvirtd) are not counted. PSS splits shared pages among the processes mapping them, so it falls as K rises: ' +
        'backends are compared at the same K. Second measure: the drop of host available memory per instance, one value per round; it ' +
        'catches what PSS misses (page tables, kernel memory) and also any other change of host memory, so it is noisy and can be negative.',
      `**Throughput**: the wordcount job (one map task per byte range, scheduled by the master, reduced as results arrive) at P = ${s.parallelism.join(', ')} ` +
        `on one common input per backend, ${s.throughputRepeat} jobs each, and at P = 1 on several sizes per backend for the fit time = a + b·bytes. ` +
        `Each map task asks for cores / P (at most 1) and ${s.throughputMemMiB} MiB. The job clock runs from framework registration to the last map ` +
        'result merged. Speed-up = median job time at P=1 / at P, stated only when the two intervals do not overlap. The host-wide sampler ' +
        `(systeminformation, ${s.samplerHz} Hz) gives the host's view beside each task's own.`,
      '**Cross-checks**: isolab\'s figures against independent tools (a `docker run` timed from outside, a plain `qemu-system-x86_64` boot with the same ' +
        'kernel, disk and accelerator, PSS read by another program), each with its ratio, where the run made them.',
    ]),
    heading('Statistics', 3),
    bulletList([
      'Median, min, max, coefficient of variation (sd / mean). The 95% confidence interval of the median is distribution-free, by order ' +
        'statistics: [x(k), x(n+1−k)] with the largest k whose exact binomial coverage is still ≥ 95% (the coverage is recorded). It exists ' +
        'from n = 6; below that no interval and no p95 are reported. A percentile bootstrap is available, labelled as such, and is not the default.',
      'Comparisons between backends and against P = 1 use these intervals: a ratio is stated only when both intervals exist and do not ' +
        'overlap, otherwise the difference is reported as not measurable. A figure from fewer than 6 values shows its min–max range, ' +
        'marked "no CI", and is never compared.',
      'Outliers are flagged by MAD (modified z-score > 3.5, Iglewicz & Hoaglin) and kept in the data and the statistics.',
      `Every result row carries its backend, accelerator, the limits requested and those the backend enforced, and the environment. results.json holds ` +
        `every raw sample and is rewritten after each configuration; this report is rendered from it alone (\`isolab report DIR\`).${res.plan ? ` Time budget planned: ${fmt(res.plan.estimateSeconds / 60, 1)} min.` : ''}`,
    ]),
  );
}
