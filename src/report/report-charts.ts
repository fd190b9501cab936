import { STARTUP_METRICS, STARTUP_SEGMENTS } from '../experiments/startup.js';
import type { ResultsFile, ThroughputRun } from '../experiments/types.js';
import { barChart, lineChart, timelineChart, type BarDatum, type LineDatum, type TimelineDatum } from './charts.js';
import { inIsolationOrder } from './backends.js';
import { pooledRound, pssMiB } from './metrics.js';

/** One chart of a report: its file name beside report.md, its title, and how to draw it. */
export interface ChartJob {
  /** File name, e.g. `startup-phases.svg`. */
  file: string;
  /** Title (also the image's alt text). */
  title: string;
  /** Renders the SVG text. */
  render: () => Promise<string>;
}

const MIB = 2 ** 20;

/** Short phase-interval names for chart axes and legends (the tables use the long ones). */
const SHORT: Record<string, string> = {
  offerToAccept: 'offer→accept', acceptToStarted: 'accept→started', startedToReady: 'started→ready',
  readyToResult: 'ready→result', resultToExit: 'result→exit', exitToCleaned: 'exit→cleaned',
};

function segmentLabel(m: string): string {
  return SHORT[m] ?? STARTUP_METRICS.find((x) => x.metric === m)?.label ?? m;
}

/** Safe file-name part for a backend name. */
export function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'x';
}

/** The first ok run of a throughput result (the one its timeline chart shows). */
export function timelineRun(runs: readonly ThroughputRun[]): ThroughputRun | undefined {
  return runs.find((r) => r.ok && r.timeline.length > 0);
}

/** Start-up charts: medians of the phase intervals, all backends stacked, then one chart per backend. */
function startupCharts(res: ResultsFile): ChartJob[] {
  const measured = res.startup.filter((r) => (r.summary.total?.n ?? 0) > 0);
  if (measured.length === 0) return [];
  const data: BarDatum[] = measured.flatMap((r) =>
    STARTUP_SEGMENTS.map((m) => ({ category: r.backend, series: segmentLabel(m), value: r.summary[m]?.median ?? 0 })),
  );
  const jobs: ChartJob[] = [{
    file: 'startup-phases.svg', title: 'Start-up phases per backend (median ms, stacked)',
    render: () => barChart({ title: 'Start-up phases per backend (median ms, stacked)', data, xTitle: 'backend', yTitle: 'time (ms)', stacked: true }),
  }];
  for (const r of measured) {
    const title = `Start-up phases: ${r.backend} (median ms)`;
    const d: BarDatum[] = STARTUP_SEGMENTS.map((m) => ({ category: segmentLabel(m), value: r.summary[m]?.median ?? 0 }));
    jobs.push({ file: `startup-${slug(r.backend)}.svg`, title, render: () => barChart({ title, data: d, xTitle: 'phase', yTitle: 'time (ms)', width: 720 }) });
  }
  return jobs;
}

function densityCharts(res: ResultsFile): ChartJob[] {
  const mem: LineDatum[] = [];
  const rate: LineDatum[] = [];
  for (const r of res.density) {
    for (const s of r.steps) {
      const first = s.rounds[0];
      if (!first) continue;
      const pss = pssMiB(first);
      if (pss.length === s.k) mem.push({ x: s.k, y: pss.reduce((a, b) => a + b, 0), series: `${r.backend} PSS` });
      const drop = pooledRound(s).availableDropPerInstanceBytes;
      if (drop !== null && drop > 0) mem.push({ x: s.k, y: (drop * s.k) / MIB, series: `${r.backend} available drop` });
      const rt = pooledRound(s).rate;
      if (rt !== null) rate.push({ x: s.k, y: rt, series: `${r.backend} K at once` });
    }
  }
  const jobs: ChartJob[] = [];
  if (mem.length > 0) {
    const title = 'Memory vs idle instances (MiB, log scale)';
    jobs.push({ file: 'density-memory.svg', title, render: () => lineChart({ title, data: mem, xTitle: 'instances (K)', yTitle: 'host memory (MiB)', logY: true }) });
  }
  if (rate.length > 0) {
    const title = 'Launch rate vs instances (instances/s)';
    jobs.push({ file: 'density-launch-rate.svg', title, render: () => lineChart({ title, data: rate, xTitle: 'instances (K)', yTitle: 'instances per second', logY: rate.every((d) => d.y > 0) }) });
  }
  return jobs;
}

function throughputCharts(res: ResultsFile): ChartJob[] {
  const measured = res.throughput.filter((r) => r.summary.mbPerSecond.median !== null);
  if (measured.length === 0) return [];
  const title = 'Wordcount throughput vs parallelism (median MB/s)';
  const line: LineDatum[] = measured.map((r) => ({ x: r.parallelism, y: r.summary.mbPerSecond.median!, series: r.backend }));
  const splitTitle = 'Job time: start-up and steady state (median s)';
  const split: BarDatum[] = measured.flatMap((r) => [
    { category: `${r.backend} P=${r.parallelism}`, series: 'start-up', value: r.summary.startupSeconds.median ?? 0 },
    { category: `${r.backend} P=${r.parallelism}`, series: 'steady state', value: r.summary.steadySeconds.median ?? 0 },
  ]);
  const jobs: ChartJob[] = [
    { file: 'throughput.svg', title, render: () => lineChart({ title, data: line, xTitle: 'parallelism (map tasks)', yTitle: 'MB/s' }) },
    { file: 'throughput-split.svg', title: splitTitle, render: () => barChart({ title: splitTitle, data: split, xTitle: 'backend and parallelism', yTitle: 'time (s)', stacked: true, width: 760 }) },
  ];
  for (const backend of [...new Set(measured.map((r) => r.backend))]) {
    const cpu: TimelineDatum[] = [];
    const memory: TimelineDatum[] = [];
    for (const r of measured.filter((x) => x.backend === backend)) {
      const run = timelineRun(r.runs);
      if (!run) continue;
      for (const s of run.timeline) {
        cpu.push({ t: s.t, value: s.cpuPct, series: `P=${r.parallelism}` });
        memory.push({ t: s.t, value: s.memUsedBytes / MIB, series: `P=${r.parallelism}` });
      }
    }
    if (cpu.length === 0) continue;
    const ct = `Host CPU during wordcount on ${backend} (% of all cores, first job per P)`;
    const mt = `Host memory in use during wordcount on ${backend} (MiB, first job per P)`;
    jobs.push(
      { file: `timeline-${slug(backend)}-cpu.svg`, title: ct, render: () => timelineChart({ title: ct, data: cpu, yTitle: 'CPU busy (%)' }) },
      { file: `timeline-${slug(backend)}-memory.svg`, title: mt, render: () => timelineChart({ title: mt, data: memory, yTitle: 'memory in use (MiB)' }) },
    );
  }
  return jobs;
}

/** Every chart a report shows, derived from results.json alone, backends along the isolation spectrum; the Markdown links exactly these files. */
export function chartJobs(res0: ResultsFile): ChartJob[] {
  const res = inIsolationOrder(res0);
  return [...startupCharts(res), ...densityCharts(res), ...throughputCharts(res)];
}
