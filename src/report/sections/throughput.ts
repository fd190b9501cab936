import type { ResultsFile, ThroughputResult } from '../../experiments/types.js';
import { nounOf, orderedBackends } from '../backends.js';
import { MIB, scaleSummary, statusReason, withInterval } from '../format.js';
import { blocks, bulletList, fmt, heading, missing, MISSING, table, type Cell } from '../markdown.js';
import type { ChartJob } from '../report-charts.js';
import { parallelRow } from '../summary.js';
import { chartBlock, chartsMatching } from './charts-block.js';

const mb = (bytes: number): string => `${fmt(bytes / 1e6, bytes >= 1e7 ? 0 : 1)} MB`;
const s2 = (x: number): string => fmt(x, 2);
const s3 = (x: number): string => fmt(x, 3);
const m1 = (x: number): string => fmt(x, 1);

function speedupText(r: ThroughputResult | undefined): string {
  const sp = r?.speedup;
  if (!sp || sp.ratio === null) return MISSING;
  const iv = sp.interval ? ` [${s2(sp.interval.low)}, ${s2(sp.interval.high)}]` : '';
  return sp.measurable ? `${s2(sp.ratio)}×${iv}` : `no measurable speed-up (${s2(sp.ratio)}×${iv}; ${sp.why ?? 'intervals overlap'})`;
}

/** The brief's experiment: P = 1 and P = 2 side by side per backend. */
function briefTable(res: ResultsFile): string {
  const rows: Cell[][] = [];
  for (const b of orderedBackends(res)) {
    for (const p of [1, 2]) {
      const r = parallelRow(res, b.name, p);
      if (!r) continue;
      if (r.summary.jobSeconds.n === 0) {
        rows.push([nounOf(res, b.name), `P=${p}`, mb(r.bytes), 0, statusReason(r), '', '', '', '', '']);
        continue;
      }
      const u = r.summary;
      const mem = (s: typeof u.peakMemoryBytes): string => (s ? withInterval(scaleSummary(s, 1 / MIB), m1) : missing('not recorded'));
      rows.push([
        nounOf(res, b.name), `P=${p}`, mb(r.bytes), u.jobSeconds.n, withInterval(u.jobSeconds, s2),
        u.cpuSeconds ? withInterval(u.cpuSeconds, s2) : missing('not recorded'), mem(u.memoryAboveBaselineBytes), mem(u.hostMemAboveBaselineBytes),
        withInterval(u.mbPerSecond, s2), p === 1 ? '' : speedupText(r),
      ]);
    }
  }
  if (rows.length === 0) return missing('no backend ran wordcount at P = 1 and 2');
  return table(
    ['backend', 'P', 'input', 'jobs', 'job time (s)', 'CPU-seconds, all map tasks', 'peak memory above idle, largest task (MiB)', 'host memory above baseline (MiB)', 'MB/s', 'speed-up over P=1'],
    rows, ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
  );
}

function allRows(res: ResultsFile): Cell[][] {
  const shas = new Set(res.throughput.flatMap((r) => r.runs.filter((x) => x.ok && x.sha256).map((x) => x.sha256!)));
  const skipped = new Set<string>();
  return res.throughput.flatMap((r): Cell[][] => {
    if (r.status === 'skipped') {
      if (skipped.has(r.backend)) return [];
      skipped.add(r.backend);
      return [[nounOf(res, r.backend), '', '', 0, statusReason(r), '', '', '', '', '']];
    }
    const s = r.summary;
    if (s.jobSeconds.n === 0) return [[nounOf(res, r.backend), r.parallelism, mb(r.bytes), 0, statusReason(r), '', '', '', '', '']];
    const mine = new Set(r.runs.filter((x) => x.ok).map((x) => x.sha256));
    const agree = shas.size === 1 ? 'yes' : mine.size === 1 ? `no (${String([...mine][0]).slice(0, 8)})` : 'no (runs differ)';
    return [[
      nounOf(res, r.backend), r.parallelism, mb(r.bytes), s.jobSeconds.n, withInterval(s.jobSeconds, s2), withInterval(s.startupSeconds, s2),
      withInterval(s.steadySeconds, s2), s.cpuSecondsPerMB ? withInterval(s.cpuSecondsPerMB, s3) : MISSING,
      s.teardownSeconds ? withInterval(s.teardownSeconds, s2) : MISSING, agree,
    ]];
  });
}

function fitRows(res: ResultsFile): Cell[][] {
  return (res.fits ?? []).map((f) => {
    const iv = (i: { low: number; high: number } | null, d: (x: number) => string): string => (i ? ` [${d(i.low)}, ${d(i.high)}]` : '');
    return [
      nounOf(res, f.backend), f.sizes.map(mb).join(', '), f.points.length,
      f.fixedSeconds === null ? missing(f.note ?? 'no fit') : `${s2(f.fixedSeconds)}${iv(f.fixedInterval, s2)}`,
      f.mbPerSecond === null ? missing(f.note ?? 'no fit') : `${s2(f.mbPerSecond)}${iv(f.mbPerSecondInterval, s2)}`,
      f.bootstrap ? `a ${iv(f.bootstrap.fixedSeconds, s2)}; 1/b ${iv(f.bootstrap.mbPerSecond, s2) || MISSING}` : MISSING,
      f.note ?? '',
    ];
  });
}

/** Section 3: throughput, the brief's two parallelisms first, then every configuration, the fit, the timelines. */
export function throughputSection(res: ResultsFile, charts: readonly ChartJob[]): string {
  if (!res.settings.experiments.includes('throughput')) return blocks(heading('3. Throughput: wordcount', 3), missing('throughput was not part of this run'));
  const c = res.sampler;
  const sampler = c
    ? `The host-wide sampler (systeminformation, ${c.hz} Hz; ${fmt(c.achievedHz, 1)} Hz achieved) costs about ${fmt(c.costPctOfOneCore, 2)}% of one core; ` +
      `with no job running the host's CPU was ${c.hostCpuPctNoJob == null ? MISSING : `${fmt(c.hostCpuPctNoJob, 1)}%`} busy.`
    : '';
  const fits = fitRows(res);
  return blocks(
    heading('3. Throughput: wordcount', 3),
    heading('The brief\'s experiment: wordcount at two parallelisms', 4),
    'For each backend, P = 1 and P = 2 on the same input, side by side: job time (registration → last result merged; ' +
      'teardown is not in it), CPU-seconds of all map instances as the isolation layer counts them, the largest map ' +
      'task\'s peak memory above its own idle baseline (memory at its ready line), the host-wide memory rise, MB/s, and ' +
      'the speed-up, stated only when the two job-time intervals do not overlap. Median [95% CI].',
    briefTable(res),
    chartBlock(charts, 'throughput-parallelism.svg', 'no job finished'),
    'Per-task resource timelines (each map task\'s own CPU time and memory, read from its cgroup or QEMU process while it ran; one job per P):',
    chartsMatching(charts, /^timeline-.*-tasks\.svg$/) || missing('no per-task readings were recorded'),
    heading('Every configuration', 4),
    `Times in seconds, median [95% CI] (the range below n = 6). *Start-up* is first offer → first executor ready; ` +
      '*steady* is the rest of the job; teardown after the job is shown apart. "counts agree": every job of every ' +
      'backend produced the same counts (sha256 of the canonical counts).',
    table(['backend', 'P', 'input', 'jobs', 'job time', 'start-up', 'steady', 'CPU-s per MB', 'teardown after the job', 'counts agree'], allRows(res),
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l']),
    fits.length > 0
      ? blocks('Fixed cost and steady rate: time = a + b·bytes fitted over each backend\'s P = 1 jobs at several input sizes ' +
        '(least squares; t intervals; pairs bootstrap as a second opinion). a is what a job costs before and after counting ' +
        '(scheduling, executor start, reduce); 1/b is the counting rate once running.',
        table(['backend', 'sizes', 'jobs', 'a: fixed cost (s) [95% CI]', '1/b: MB/s [95% CI]', 'bootstrap intervals', 'note'], fits, ['l', 'l', 'r', 'r', 'r', 'l', 'l']),
        chartBlock(charts, 'throughput-fit.svg', 'no fit'))
      : '',
    sampler,
    chartsMatching(charts, /^timeline-.*-host\.svg$/),
    bulletList(res.throughput.filter((r) => r.status !== 'done' && r.status !== 'skipped').map((r) => `${nounOf(res, r.backend)} P=${r.parallelism}: ${statusReason(r)}`)),
  );
}
