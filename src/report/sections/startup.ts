import { STARTUP_METRICS } from '../../experiments/intervals.js';
import type { ResultsFile, StartupResult } from '../../experiments/types.js';
import { nounOf } from '../backends.js';
import { MIB, ms, scaleSummary, STAT_ALIGN, STAT_HEADERS, statCells, statusReason, withInterval } from '../format.js';
import { blocks, bulletList, fmt, heading, missing, MISSING, table, type Cell } from '../markdown.js';
import type { ChartJob } from '../report-charts.js';
import { chartBlock } from './charts-block.js';

function runsLine(res: ResultsFile, r: StartupResult): string {
  const by = (k: string): number => r.samples.filter((s) => s.start === k).length;
  const failed = r.samples.filter((s) => !s.ok).length;
  const cold = r.cold ? ` The cold figure: ${r.cold.kind === 'dropped-caches' ? 'page cache dropped before each cold run' : r.cold.kind === 'first-after-image-build' ? 'the first run since the guest image was built (page cache not dropped)' : 'the first run of this run (page cache not dropped, image used before)'}.` : '';
  return `${nounOf(res, r.backend)}: ${by('cold')} cold + ${by('first')} first + ${by('warm')} warm runs${failed ? `, ${failed} failed` : ''}` +
    `${r.status !== 'done' ? ` — ${statusReason(r)}` : ''}.${cold}`;
}

function usageRows(res: ResultsFile): Cell[][] {
  return res.startup.filter((r) => r.usage).map((r) => {
    const u = r.usage!;
    const m = (s: typeof u.peakMemoryBytes): string => withInterval(scaleSummary(s, 1 / MIB), (x) => fmt(x, 1));
    return [
      nounOf(res, r.backend), withInterval(u.cpuSeconds, (x) => fmt(x, 3)), m(u.readyMemoryBytes), m(u.peakMemoryBytes),
      withInterval(u.guestCpuSeconds, (x) => fmt(x, 3)), m(u.guestPeakMemoryBytes),
    ];
  });
}

function seriesRows(res: ResultsFile): Cell[][] {
  return res.startup.flatMap((r) => (r.series ?? []).map((s): Cell[] => [
    nounOf(res, r.backend), s.mode, `${s.ready} / ${s.n}`, withInterval(s.summary.requestedToReady, (x) => fmt(x, 1)),
    s.seconds === null ? missing(s.error ?? 'not all became ready') : fmt(s.seconds, 2), s.rate === null ? MISSING : fmt(s.rate, 2), s.error ?? '',
  ]));
}

/** Section 1: start-up, warm and cold, per phase interval, per-task accounting, launch series. */
export function startupSection(res: ResultsFile, charts: readonly ChartJob[]): string {
  if (!res.settings.experiments.includes('startup')) return blocks(heading('1. Start-up', 3), missing('start-up was not part of this run'));
  const rows: Cell[][] = [];
  for (const r of res.startup) {
    if (r.status === 'skipped' || (r.summary.total?.n ?? 0) === 0) {
      rows.push([nounOf(res, r.backend), statusReason(r), '', ...statCells(undefined, ms)]);
      continue;
    }
    for (const m of STARTUP_METRICS) rows.push([nounOf(res, r.backend), m.label, m.comparable ? 'yes' : 'no', ...statCells(r.summary[m.metric], ms)]);
  }
  const coldRows: Cell[][] = res.startup.filter((r) => r.cold).map((r) => [
    nounOf(res, r.backend), r.cold!.kind, withInterval(r.cold!.summary.requestedToReady, (x) => fmt(x, 1)),
    withInterval(r.summary.requestedToReady, (x) => fmt(x, 1)), withInterval(r.cold!.summary.total, (x) => fmt(x, 1)),
  ]);
  const phaseRows: Cell[][] = res.startup.flatMap((r) => Object.entries(r.backendPhases).map(([name, s]) => [nounOf(res, r.backend), `offer → ${name}`, '', ...statCells(s, ms)]));
  const series = seriesRows(res);
  const usage = usageRows(res);
  return blocks(
    heading('1. Start-up', 3),
    'One executor started through the master, counting a tiny input, per phase interval (ms). *Comparable* says whether ' +
      'both ends of the interval are the same kind of event on every backend (see Method); only those are compared across ' +
      'backends in the summary. Warm runs; the cold or first run is below, apart.',
    table(['backend', 'interval', 'comparable', ...STAT_HEADERS], rows, ['l', 'l', 'l', ...STAT_ALIGN]),
    bulletList(res.startup.filter((r) => r.samples.length > 0 || r.status !== 'done').map((r) => runsLine(res, r))),
    chartBlock(charts, 'startup-distribution.svg', 'no backend produced a warm start-up'),
    chartBlock(charts, 'startup-phases.svg', 'no backend produced a start-up'),
    coldRows.length > 0
      ? blocks('Cold (or first) against warm, requested → executor ready and offer → cleaned up (ms, median [95% CI]; one run has no interval):',
        table(['backend', 'cold kind', 'cold: requested → ready', 'warm: requested → ready', 'cold: offer → cleaned up'], coldRows, ['l', 'l', 'r', 'r', 'r']))
      : '',
    usage.length > 0
      ? blocks('What one start-up task used, as the isolation layer counts it (cgroup for process, container and sandbox; the QEMU process for a VM), ' +
        'and as the executor saw itself from inside (median [95% CI]):',
        table(['backend', 'CPU-seconds', 'memory at ready (MiB)', 'peak memory (MiB)', 'executor\'s own CPU-s', 'executor\'s own peak RSS (MiB)'], usage, ['l', 'r', 'r', 'r', 'r', 'r']))
      : '',
    series.length > 0
      ? blocks('Launch series (as the Firecracker paper does): N instances one after another, each waited for until ready, then N at once; ' +
        'per-instance requested → ready (ms, median [95% CI]) and the whole series\' rate:',
        table(['backend', 'mode', 'ready / asked', 'requested → ready per instance (ms)', 'first start → last ready (s)', 'rate (/s)', 'error'], series, ['l', 'l', 'r', 'r', 'r', 'r', 'l']),
        chartBlock(charts, 'startup-series.svg', 'no launch series'))
      : '',
    phaseRows.length > 0 ? blocks('Backend-specific marks, as offsets from the offer (ms, warm runs):', table(['backend', 'mark', '', ...STAT_HEADERS], phaseRows, ['l', 'l', 'l', ...STAT_ALIGN])) : '',
  );
}
