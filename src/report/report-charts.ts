import { STARTUP_METRICS, STARTUP_SEGMENTS } from '../experiments/intervals.js';
import type { ResultsFile, TaskRecord, ThroughputResult, ThroughputRun } from '../experiments/types.js';
import { inIsolationOrder, shortOf } from './backends.js';
import {
  distributionChart, facetStackChart, intervalChart, panelLineChart, spansDecade, spreadChart,
  type FacetSegment, type FacetValue, type FacetXY, type GroupValue, type IntervalPoint, type PanelPoint,
} from './charts-stats.js';
import { MIB } from './format.js';
import { intervalOf } from './intervals.js';
import { parallelRow } from './summary.js';

/** One chart of a report: its file name beside report.md, its title, and how to draw it. */
export interface ChartJob {
  /** File name, e.g. `startup-phases.svg`. */
  file: string;
  /** Title (also the image's alt text). */
  title: string;
  /** Renders the SVG text. */
  render: () => Promise<string>;
}

/** Short phase-interval names for legends (the tables use the long ones). */
const SHORT: Record<string, string> = {
  offerToRequested: 'offer→requested', requestedToCreated: 'requested→created', createdToRunning: 'created→running',
  runningToReady: 'running→ready', readyToFirstResult: 'ready→first result', firstResultToWorkDone: 'first result→work done',
  workDoneToExited: 'work done→exited', exitedToCleaned: 'exited→cleaned',
};

function segmentLabel(m: string): string {
  return SHORT[m] ?? STARTUP_METRICS.find((x) => x.metric === m)?.label ?? m;
}

/** Safe file-name part for a backend name. */
export function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'x';
}

/** "n = 20" or "n = 20/20/8" when the groups differ. */
function nText(ns: readonly number[]): string {
  const u = [...new Set(ns)];
  return u.length === 1 ? `n = ${u[0]}` : `n = ${ns.join('/')}`;
}

function startupCharts(res: ResultsFile): ChartJob[] {
  const jobs: ChartJob[] = [];
  const warm = res.startup.filter((r) => (r.summary.requestedToReady?.n ?? 0) > 0);
  if (warm.length > 0) {
    const data: GroupValue[] = [];
    const ns: number[] = [];
    for (const r of warm) {
      const xs = r.samples.filter((s) => s.ok && s.start === 'warm' && s.durations.requestedToReady !== undefined).map((s) => s.durations.requestedToReady!);
      ns.push(xs.length);
      for (const v of xs) data.push({ group: `${shortOf(res, r.backend)}, n=${xs.length}`, value: v });
    }
    const log = spansDecade(data.map((d) => d.value));
    const title = `Start-up distribution, requested → executor ready, warm runs (ms${log ? ', log scale' : ''}; ${nText(ns)})`;
    jobs.push({
      file: 'startup-distribution.svg', title,
      render: () => distributionChart({ title, subtitle: 'box: quartiles, black line: median, whiskers: min–max; every run is a point', data, valueTitle: `ms${log ? ' (log scale)' : ''}`, log, width: 760 }),
    });
  }
  const measured = res.startup.filter((r) => (r.summary.total?.n ?? 0) > 0);
  if (measured.length > 0) {
    const data: FacetSegment[] = measured.flatMap((r) => STARTUP_SEGMENTS.map((m) => ({
      facet: `${shortOf(res, r.backend)} (n=${r.summary[m]?.n ?? 0})`, series: segmentLabel(m), value: r.summary[m]?.median ?? 0,
    })));
    const title = `Start-up phases, median of each interval (ms; ${nText(measured.map((r) => r.summary.total!.n))} warm runs)`;
    jobs.push({
      file: 'startup-phases.svg', title,
      render: () => facetStackChart({ title, subtitle: 'one bar per backend, each on its own scale (they differ by up to two orders of magnitude)', data, valueTitle: 'ms' }),
    });
  }
  const series = res.startup.flatMap((r) => (r.series ?? []).map((s) => ({ r, s })));
  const seriesData: GroupValue[] = series.flatMap(({ r, s }) => s.instances.filter((i) => i.launchMs !== null).map((i) => ({
    group: `${shortOf(res, r.backend)}, ${s.mode}, n=${s.instances.filter((x) => x.launchMs !== null).length}`, value: i.launchMs!,
  })));
  if (seriesData.length > 0) {
    const log = spansDecade(seriesData.map((d) => d.value));
    const title = `Launch series: requested → ready per instance, N one after another vs N at once (ms${log ? ', log scale' : ''}; n = ${seriesData.length} instances)`;
    jobs.push({ file: 'startup-series.svg', title, render: () => distributionChart({ title, subtitle: 'every instance is a point', data: seriesData, valueTitle: `ms${log ? ' (log scale)' : ''}`, log, width: 760 }) });
  }
  return jobs;
}

function densityCharts(res: ResultsFile): ChartJob[] {
  const jobs: ChartJob[] = [];
  const pss: FacetXY[] = [];
  const pssMed: FacetXY[] = [];
  const drop: FacetXY[] = [];
  const dropMed: FacetXY[] = [];
  const launch: FacetXY[] = [];
  const launchMed: FacetXY[] = [];
  let negatives = 0;
  let rounds = 0;
  for (const r of res.density) {
    const facet = shortOf(res, r.backend);
    for (const s of r.steps) {
      rounds = Math.max(rounds, s.rounds.length);
      for (const round of s.rounds) {
        for (const b of round.pssBytes) if (b !== null) pss.push({ facet, x: s.k, y: b / MIB });
        if (round.availableDropPerInstanceBytes !== null) {
          drop.push({ facet, x: s.k, y: round.availableDropPerInstanceBytes / MIB });
          if (round.availableDropPerInstanceBytes < 0) negatives++;
        }
        for (const v of round.launchMs) launch.push({ facet, x: s.k, y: v });
      }
      if (s.summary.pssPerInstanceMiB.median !== null) pssMed.push({ facet, x: s.k, y: s.summary.pssPerInstanceMiB.median });
      if (s.summary.availableDropPerInstanceMiB.median !== null) dropMed.push({ facet, x: s.k, y: s.summary.availableDropPerInstanceMiB.median });
      if (s.summary.launchMs.median !== null) launchMed.push({ facet, x: s.k, y: s.summary.launchMs.median });
    }
  }
  const sub = `grey: every instance of every round (up to ${rounds} rounds per K); blue: the median; one panel per backend, own scale`;
  if (pss.length > 0) {
    const title = `Memory per idle instance vs K: PSS (MiB per instance; n = ${pss.length} instance readings)`;
    jobs.push({ file: 'density-memory.svg', title, render: () => spreadChart({ title, subtitle: sub, points: pss, medians: pssMed, xTitle: 'instances K (log scale)', yTitle: 'PSS per instance (MiB)', logX: true }) });
  }
  if (drop.length > 0) {
    const title = `Host available-memory drop per instance vs K (MiB; n = ${drop.length} rounds${negatives ? `, ${negatives} below 0, drawn` : ''})`;
    jobs.push({
      file: 'density-available.svg', title,
      render: () => spreadChart({ title, subtitle: 'grey: one value per round; blue: the median; red dashes: 0 (below it, host memory rose less than the instances took)', points: drop, medians: dropMed, xTitle: 'instances K (log scale)', yTitle: 'MiB per instance', logX: true, zeroRule: true }),
    });
  }
  if (launch.length > 0) {
    const title = `Launch → executor ready per instance vs K, K at once (ms; n = ${launch.length} instances)`;
    jobs.push({ file: 'density-launch.svg', title, render: () => spreadChart({ title, subtitle: sub, points: launch, medians: launchMed, xTitle: 'instances K (log scale)', yTitle: 'ms', logX: true }) });
  }
  return jobs;
}

/** The first ok job of a throughput result that has per-task readings. */
export function timelineJob(runs: readonly ThroughputRun[]): ThroughputRun | undefined {
  return runs.find((r) => r.ok && (r.tasks ?? []).some((t) => (t.usage?.timeline.length ?? 0) > 0));
}

/** Per-task CPU (% of one core, from successive CPU-second readings) and memory (MiB) of one job, as panel points. */
function taskPoints(tasks: readonly TaskRecord[], p: number, t0: number): PanelPoint[] {
  const out: PanelPoint[] = [];
  tasks.forEach((t, i) => {
    const tl = t.usage?.timeline ?? [];
    const series = `P=${p}, task ${i + 1}`;
    for (let j = 0; j < tl.length; j++) {
      const x = tl[j]!;
      const at = (x.at - t0) / 1000;
      if (x.memoryBytes !== null) out.push({ panel: 'memory of the instance (MiB)', series, t: at, value: x.memoryBytes / MIB });
      const prev = tl[j - 1];
      if (prev && prev.cpuSeconds !== null && x.cpuSeconds !== null && x.at > prev.at) {
        out.push({ panel: 'CPU of the instance (% of one core)', series, t: at, value: Math.max(0, ((x.cpuSeconds - prev.cpuSeconds) / ((x.at - prev.at) / 1000)) * 100) });
      }
    }
  });
  return out;
}

function throughputCharts(res: ResultsFile): ChartJob[] {
  const jobs: ChartJob[] = [];
  const backends = [...new Set(res.throughput.map((r) => r.backend))];
  const ps = [...new Set(res.throughput.map((r) => r.parallelism))].sort((a, b) => a - b);
  const data: IntervalPoint[] = [];
  const points: FacetValue[] = [];
  const ns: number[] = [];
  for (const b of backends) {
    for (const p of ps) {
      const r = parallelRow(res, b, p);
      const s = r?.summary.jobSeconds;
      if (!r || !s || s.median === null) continue;
      const facet = shortOf(res, b);
      const i = intervalOf(s);
      data.push({ facet, x: `P=${p}`, median: s.median, low: i?.low ?? null, high: i?.high ?? null });
      for (const j of r.runs) if (j.ok && j.jobSeconds !== null) points.push({ facet, x: `P=${p}`, value: j.jobSeconds });
      ns.push(s.n);
    }
  }
  if (data.length > 0) {
    const title = `Wordcount job time at each parallelism (s; ${nText(ns)} jobs per point)`;
    jobs.push({
      file: 'throughput-parallelism.svg', title,
      render: () => intervalChart({ title, subtitle: 'blue: median and its 95% CI (no bar below n = 6); grey: every job; one panel per backend, own scale', data, points, xTitle: 'parallelism P (map tasks)', yTitle: 'job time (s)', xs: ps.map((p) => `P=${p}`) }),
    });
  }
  const fits = (res.fits ?? []).filter((f) => f.points.length > 0);
  if (fits.length > 0) {
    const pts: FacetXY[] = fits.flatMap((f) => f.points.map((p) => ({ facet: shortOf(res, f.backend), x: p.bytes / 1e6, y: p.seconds })));
    const line: FacetXY[] = fits.flatMap((f) => (f.fit ? [Math.min(0, ...f.sizes), ...f.sizes].map((b) => ({ facet: shortOf(res, f.backend), x: b / 1e6, y: f.fit!.a + f.fit!.b * b })) : []));
    const title = `Job time vs input size at P=1, with the fit time = a + b·bytes (s; n = ${pts.length} jobs)`;
    jobs.push({ file: 'throughput-fit.svg', title, render: () => spreadChart({ title, subtitle: 'grey: every job; blue: the fitted line (its value at 0 MB is the fixed cost a); one panel per backend, own scales', points: pts, medians: line, xTitle: 'input (MB)', yTitle: 'job time (s)', independentX: true }) });
  }
  for (const b of backends) {
    const per: PanelPoint[] = [];
    const host: PanelPoint[] = [];
    let hostN = 0;
    for (const p of [1, 2]) {
      const r: ThroughputResult | undefined = parallelRow(res, b, p);
      if (!r) continue;
      const job = timelineJob(r.runs);
      if (job) {
        const t0 = Math.min(...(job.tasks ?? []).map((t) => t.phases.requested ?? Number.POSITIVE_INFINITY).filter(Number.isFinite));
        if (Number.isFinite(t0)) per.push(...taskPoints(job.tasks ?? [], p, t0));
      }
      const hj = r.runs.find((x) => x.ok && x.timeline.length > 0);
      if (hj) {
        hostN += hj.timeline.length;
        const m0 = hj.timeline[0]!.memUsedBytes;
        for (const s of hj.timeline) {
          host.push({ panel: 'host CPU busy (% of all cores)', series: `P=${p}`, t: s.t, value: s.cpuPct });
          host.push({ panel: 'host memory in use, above the job\'s first sample (MiB)', series: `P=${p}`, t: s.t, value: (s.memUsedBytes - m0) / MIB });
        }
      }
    }
    if (per.length > 0) {
      const title = `Per-task CPU and memory on ${shortOf(res, b)}, one job at P=1 and at P=2 (% of one core, MiB; n = ${per.length} readings)`;
      jobs.push({ file: `timeline-${slug(b)}-tasks.svg`, title, render: () => panelLineChart({ title, subtitle: 'each map task\'s own counters (its cgroup, or its QEMU process) while it ran; time from the first task\'s launch request', data: [...per].sort((x, y) => (x.panel < y.panel ? -1 : x.panel > y.panel ? 1 : 0)), width: 900 }) });
    }
    if (host.length > 0) {
      const title = `Host-wide CPU and memory during wordcount on ${shortOf(res, b)} (% of all cores, MiB; n = ${hostN} samples)`;
      jobs.push({ file: `timeline-${slug(b)}-host.svg`, title, render: () => panelLineChart({ title, subtitle: 'the host-wide sampler during the first job at P=1 and at P=2: everything on the host, not only the job; every sample is a point', data: host, width: 900 }) });
    }
  }
  return jobs;
}

/** Every chart a report shows, derived from results.json alone, backends along the isolation spectrum; the Markdown links exactly these files. */
export function chartJobs(res0: ResultsFile): ChartJob[] {
  const res = inIsolationOrder(res0);
  return [...startupCharts(res), ...densityCharts(res), ...throughputCharts(res)];
}
