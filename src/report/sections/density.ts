import type { DensityResult, ResultsFile } from '../../experiments/types.js';
import { nounOf } from '../backends.js';
import { statusReason, withInterval } from '../format.js';
import { blocks, bulletList, fmt, heading, missing, table, type Cell } from '../markdown.js';
import type { ChartJob } from '../report-charts.js';
import { chartBlock } from './charts-block.js';

function rows(res: ResultsFile, r: DensityResult): Cell[][] {
  const name = nounOf(res, r.backend);
  if (r.steps.length === 0) return [[name, '', statusReason(r), '', '', '', '', '']];
  return r.steps.map((s) => {
    const errors = [...new Set(s.rounds.map((x) => x.error).filter(Boolean))].join('; ');
    const negative = s.rounds.filter((x) => x.availableDropPerInstanceBytes !== null && x.availableDropPerInstanceBytes < 0).length;
    return [
      name, s.k, `${s.rounds.length} (${s.rounds.filter((x) => x.ready === x.k).length} all ready)`,
      withInterval(s.summary.pssPerInstanceMiB, (x) => fmt(x, 1)),
      `${withInterval(s.summary.availableDropPerInstanceMiB, (x) => fmt(x, 1))}${negative ? ` (${negative} round(s) below 0: host memory moved more than the instances took)` : ''}`,
      withInterval(s.summary.launchMs, (x) => fmt(x, 0)),
      withInterval(s.summary.rate, (x) => fmt(x, 2)),
      errors,
    ];
  });
}

/** Section 2: density, per instance with its spread, how far K climbed and why it stopped. */
export function densitySection(res: ResultsFile, charts: readonly ChartJob[]): string {
  if (!res.settings.experiments.includes('density')) return blocks(heading('2. Density', 3), missing('density was not part of this run'));
  const stops = res.density.map((r) => `${nounOf(res, r.backend)}: ${r.status === 'skipped' ? statusReason(r) : `reached K=${r.kReached} of ${Math.max(0, ...r.stepsPlanned)} planned; stopped: ${r.stopReason}`}.`);
  return blocks(
    heading('2. Density', 3),
    'K idle executors per backend, launched all at once, several times per K (rounds); per-instance figures pool every ' +
      'instance of every round. Memory per instance is PSS summed over the instance\'s host processes; the host\'s ' +
      'available-memory drop per instance is one value per round and can be negative when other host activity freed ' +
      'memory meanwhile (such rounds are kept and counted, never dropped). Median [95% CI], or the range below n = 6.',
    table(['backend', 'K', 'rounds', 'PSS per instance (MiB)', 'available drop per instance (MiB)', 'launch → ready per instance (ms)', 'launch rate (/s)', 'errors'],
      res.density.flatMap((r) => rows(res, r)), ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'l']),
    bulletList(stops),
    chartBlock(charts, 'density-memory.svg', 'no PSS was measured'),
    chartBlock(charts, 'density-available.svg', 'no available-memory drop was measured'),
    chartBlock(charts, 'density-launch.svg', 'no launch finished'),
  );
}
