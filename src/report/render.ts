import { BOUNDARY_LABELS, KIND_LABELS, type Component } from '../backends/descriptor.js';
import { STARTUP_METRICS } from '../experiments/startup.js';
import type { DensityResult, DensityStep, ResultsFile, RowContext, ThroughputResult } from '../experiments/types.js';
import type { Summary } from '../stats/summary.js';
import { accelOf, baselineOf, headerOf, inIsolationOrder, nounOf, orderedBackends } from './backends.js';
import { blocks, bulletList, fmt, heading, image, missing, MISSING, table, type Align, type Cell } from './markdown.js';
import { instancesPerGiB, medianOrNull, pooledRound, pssMiB, speedups } from './metrics.js';
import { PUBLISHED_REFERENCES, REFERENCE_METHOD } from './references.js';
import { chartJobs, type ChartJob } from './report-charts.js';
import { backgroundText, methodText } from './text.js';

const MIB = 2 ** 20;
const GIB = 2 ** 30;

/** Milliseconds as the report prints them: one decimal. */
export function ms(x: number | null | undefined): string {
  return fmt(x, 1);
}

function pct(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined ? MISSING : `${fmt(x * 100, digits)}%`;
}

function ratio(a: number | null, b: number | null): string | null {
  if (a === null || b === null || a <= 0 || b <= 0) return null;
  const r = a / b;
  return `${fmt(r, r >= 10 ? 0 : r >= 1 ? 1 : 2)}×`;
}

function skippedReason(r: RowContext): string {
  return `${r.status === 'skipped' ? 'SKIPPED' : r.status.toUpperCase()}: ${r.reason ?? 'no reason recorded'}`;
}

function summaryCells(s: Summary | undefined, f: (x: number | null) => string): Cell[] {
  if (!s || s.n === 0) return [0, MISSING, MISSING, MISSING, MISSING, MISSING, MISSING, MISSING];
  const ci = s.ciLow === null || s.ciHigh === null ? MISSING : `${f(s.ciLow)} – ${f(s.ciHigh)}`;
  return [s.n, f(s.median), f(s.p95), f(s.min), f(s.max), pct(s.cv), ci, s.outliers.length];
}

const STAT_HEADERS = ['n', 'median', 'p95', 'min', 'max', 'CV', '95% CI of median', 'outliers'];
const STAT_ALIGN: Align[] = ['r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'];

function statusLine(res: ResultsFile): string {
  const took = `${fmt(res.elapsedSeconds / 60, 1)} min`;
  const base = `Run started ${res.startedAt}, last written ${res.updatedAt} (${took}).`;
  if (res.status === 'complete') return `${base} Status: complete.`;
  if (res.status === 'running') return `${base} **Status: did not finish** (results.json was last written while running); the tables show what finished.`;
  return `${base} **Status: ${res.status}** (${res.statusReason ?? 'no reason recorded'}); the tables show what finished before that.`;
}

/** One engine or runtime per row, as the backends' descriptors name them, with the version found or why it is missing. */
function componentRows(res: ResultsFile): Cell[][] {
  const rows = new Map<string, Cell[]>();
  for (const b of orderedBackends(res)) {
    const d = b.descriptor;
    if (!d) continue;
    for (const [role, c] of [['engine', d.engine], ['runtime', d.runtime]] as [string, Component][]) {
      const key = c.name;
      const have = rows.get(key);
      if (have && have[1] !== MISSING && !String(have[1]).startsWith('—')) continue;
      const why = !b.usable ? `${b.name} backend ${b.health}: ${b.description}` : `not reported by the ${b.name} backend`;
      const value = c.version ? `${c.version}${c.detail ? ` (${c.detail})` : ''}` : missing(why);
      rows.set(key, [`${c.name} (${role} of ${d.displayName})`, value]);
    }
  }
  return [...rows.values()];
}

function environmentSection(res: ResultsFile): string {
  const e = res.environment;
  const accels = orderedBackends(res).filter((b) => b.descriptor?.accelerator || b.accelerator !== 'none');
  const accel = accels.length === 0 ? missing('no backend with an accelerator in this run')
    : accels.map((b) => (b.usable ? `${b.name}: ${accelOf(res, b.name)}` : `${b.name}: ${missing(`${b.health}: ${b.description}`)}`)).join('; ');
  const rows: Cell[][] = [
    ['CPU', e.cpuModel],
    ['cores (logical / physical)', `${e.cores} / ${e.physicalCores ?? MISSING}`],
    ['memory', `${fmt(e.memoryBytes / GIB, 1)} GiB`],
    ['kernel', e.kernel],
    ['OS', e.os],
    ['host is a VM', e.virtual === null ? MISSING : e.virtual ? 'yes' : 'no'],
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
    b.accelerator,
    b.description,
    Object.entries(b.attributes).map(([k, v]) => `${k}=${v}`).join('; ') || MISSING,
  ]);
  return blocks(
    heading('Environment'),
    table(['item', 'value'], rows, ['l', 'l']),
    'Backends as fingerprinted at the start of the run, along the isolation spectrum (a backend that is not usable is skipped, with the reason):',
    table(['backend', 'kind, boundary', 'used', 'health', 'accelerator', 'description', 'attributes'], backendRows, ['l', 'l', 'l', 'l', 'l', 'l', 'l']),
  );
}

function limitsSection(res: ResultsFile): string {
  const rows: Cell[][] = [];
  const skipped = new Set<string>();
  const add = (exp: string, r: RowContext, config = ''): void => {
    if (r.status === 'skipped') {
      if (skipped.has(`${exp}/${r.backend}`)) return;
      skipped.add(`${exp}/${r.backend}`);
      config = '';
    }
    const req = `cpus ${r.limitsRequested.cpus}, mem ${r.limitsRequested.mem} MiB`;
    const enf = r.limitsEnforced
      ? `cpu ${r.limitsEnforced.cpus ? 'yes' : 'no'}, mem ${r.limitsEnforced.mem ? 'yes' : 'no'} (${r.limitsEnforced.how})`
      : r.status === 'skipped' ? missing('skipped') : missing('no instance started');
    rows.push([exp, r.backend, config, req, enf]);
  };
  for (const r of res.startup) add('startup', r);
  for (const r of res.density) add('density', r);
  for (const r of res.throughput) add('throughput', r, `P=${r.parallelism}`);
  if (rows.length === 0) return '';
  return blocks(heading('Limits requested and enforced', 3), table(['experiment', 'backend', 'config', 'requested', 'enforced (how)'], rows, ['l', 'l', 'l', 'l', 'l']));
}

function chartBlock(charts: readonly ChartJob[], file: string, why: string): string {
  const c = charts.find((x) => x.file === file);
  return c ? image(c.title, c.file) : `Chart ${file}: ${missing(why)}`;
}

function startupSection(res: ResultsFile, charts: readonly ChartJob[]): string {
  if (!res.settings.experiments.includes('startup')) return blocks(heading('1. Start-up'), missing('start-up was not part of this run'));
  const rows: Cell[][] = [];
  for (const r of res.startup) {
    if (r.status === 'skipped' || (r.summary.total?.n ?? 0) === 0) {
      rows.push([r.backend, skippedReason(r), ...summaryCells(undefined, ms)]);
      continue;
    }
    for (const m of STARTUP_METRICS) rows.push([r.backend, m.label, ...summaryCells(r.summary[m.metric], ms)]);
  }
  const phaseRows: Cell[][] = [];
  for (const r of res.startup) {
    for (const [name, s] of Object.entries(r.backendPhases)) phaseRows.push([r.backend, `offer → ${name}`, ...summaryCells(s, ms)]);
  }
  const runs: string[] = res.startup.filter((r) => r.samples.length > 0).map((r) => {
    const warm = r.samples.filter((s) => s.warmup).length;
    const ok = r.samples.filter((s) => !s.warmup && s.ok).length;
    // warm here counts the runs kept apart (cold or first), as the line below says
    const failed = r.samples.filter((s) => !s.ok).length;
    return `${r.backend} (accelerator ${r.accelerator}): ${warm} cold/first + ${ok} warm runs${failed ? `, ${failed} failed` : ''}` +
      `${r.status !== 'done' ? ` — ${skippedReason(r)}` : r.reason ? ` (${r.reason})` : ''}.`;
  });
  return blocks(
    heading('1. Start-up'),
    'Warm start of one executor through the master, per phase interval (ms). The eight intervals from *offer → launch requested* to ' +
      '*exited → cleaned up* add up to the total; *requested → executor ready* is the start-up proper and compares across backends.',
    table(['backend', 'interval', ...STAT_HEADERS], rows, ['l', 'l', ...STAT_ALIGN]),
    runs.length > 0 ? bulletList(runs) : '',
    phaseRows.length > 0 ? blocks('Backend-specific phases, as offsets from the offer (ms):', table(['backend', 'phase', ...STAT_HEADERS], phaseRows, ['l', 'l', ...STAT_ALIGN])) : '',
    chartBlock(charts, 'startup-phases.svg', 'no backend produced a start-up'),
    charts.filter((c) => /^startup-(?!phases)/.test(c.file)).map((c) => image(c.title, c.file)).join('\n\n'),
  );
}

function mib(b: number | null | undefined, digits = 1): string {
  return b === null || b === undefined ? MISSING : fmt(b / MIB, digits);
}

function densityRows(r: DensityResult): Cell[][] {
  if (r.steps.length === 0) return [[r.backend, MISSING, skippedReason(r), MISSING, MISSING, MISSING, MISSING, MISSING, MISSING, MISSING]];
  return r.steps.map((s) => {
    const p = pooledRound(s);
    const pss = pssMiB(p);
    const launch = medianOrNull(p.launchMs);
    const err = s.rounds.map((x) => x.error).filter(Boolean).join('; ');
    return [
      r.backend, s.k,
      pss.length > 0 ? fmt(medianOrNull(pss), 1) : missing('no host pids or PSS unreadable'),
      mib(p.availableDropPerInstanceBytes),
      fmt(instancesPerGiB(p), 1),
      ms(launch),
      fmt(p.rate, 2),
      s.rounds.length,
      p.pids.length > 0 ? fmt(medianOrNull(p.pids), 0) : MISSING,
      err || '',
    ];
  });
}

function densitySection(res: ResultsFile, charts: readonly ChartJob[]): string {
  if (!res.settings.experiments.includes('density')) return blocks(heading('2. Density'), missing('density was not part of this run'));
  const rows = res.density.flatMap(densityRows);
  const stops = res.density.map((r) => `${r.backend} (accelerator ${r.accelerator}): ${r.status === 'done' ? `K reached ${r.kReached ?? MISSING}; stopped (${r.stopKind ?? 'unknown'}): ${r.stopReason}` : skippedReason(r)}.`);
  return blocks(
    heading('2. Density'),
    'K idle executors per backend, launched all at once, several times per K (rounds). Memory per instance is the median over ' +
      'every instance of every round; the available-memory drop and the launch rate are medians over the rounds; ' +
      'instances per GiB = 1024 / mean PSS (MiB). Launch rates in instances per second.',
    table(
      ['backend', 'K', 'PSS / instance (MiB)', 'available drop / instance (MiB)', 'instances per GiB', 'launch → ready (ms, median)', 'rate, K at once (/s, median)', 'rounds', 'host processes / instance', 'errors'],
      rows, ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
    ),
    bulletList(stops),
    chartBlock(charts, 'density-memory.svg', 'no memory was measured'),
    chartBlock(charts, 'density-launch-rate.svg', 'no launch finished'),
  );
}

function throughputRows(res: ResultsFile): Cell[][] {
  const sp = speedups(res.throughput);
  const shas = new Set(res.throughput.flatMap((r) => r.runs.filter((x) => x.ok && x.sha256).map((x) => x.sha256!)));
  const skipped = new Set<string>();
  return res.throughput.flatMap((r: ThroughputResult): Cell[][] => {
    const s = r.summary;
    if (r.status === 'skipped') {
      if (skipped.has(r.backend)) return [];
      skipped.add(r.backend);
      return [[r.backend, MISSING, 0, skippedReason(r), MISSING, MISSING, MISSING, MISSING, MISSING, MISSING, MISSING]];
    }
    if (s.jobSeconds.n === 0) {
      return [[r.backend, r.parallelism, 0, skippedReason(r), MISSING, MISSING, MISSING, MISSING, MISSING, MISSING, MISSING]];
    }
    const mine = new Set(r.runs.filter((x) => x.ok).map((x) => x.sha256));
    const agree = shas.size === 1 ? 'yes' : mine.size === 1 ? `no (${[...mine][0]!.slice(0, 8)})` : 'no (runs differ)';
    const ci = s.jobSeconds.ciLow !== null && s.jobSeconds.ciHigh !== null ? ` [${fmt(s.jobSeconds.ciLow, 2)}–${fmt(s.jobSeconds.ciHigh, 2)}]` : '';
    return [[
      r.backend, `${r.parallelism} @ ${fmt(r.bytes / 1e6, 1)} MB`, s.jobSeconds.n, `${fmt(s.jobSeconds.median, 3)}${ci}`, fmt(s.startupSeconds.median, 3),
      fmt(s.steadySeconds.median, 3), fmt(s.mbPerSecond.median, 2), fmt(sp.get(r) ?? null, 2), fmt(r.meanCpuPct, 1),
      mib(r.peakMemUsedBytes, 0), agree,
    ]];
  });
}

function throughputSection(res: ResultsFile, charts: readonly ChartJob[]): string {
  if (!res.settings.experiments.includes('throughput')) return blocks(heading('3. Throughput'), missing('throughput was not part of this run'));
  const c = res.sampler;
  const sampler = c
    ? `Sampler cost (measured before the jobs, with no job running, ${fmt(c.seconds, 1)} s at ${c.hz} Hz): ${c.samples} samples ` +
      `(${fmt(c.achievedHz, 1)} Hz achieved); the lab process used ${fmt(c.cpuMsPerSecondSampling, 2)} ms CPU per second while ` +
      `sampling vs ${fmt(c.cpuMsPerSecondIdle, 2)} ms/s idle, so the sampler costs about ${fmt(c.costPctOfOneCore, 2)}% of one core. ` +
      `With no job running the host's CPU was ${c.hostCpuPctNoJob == null ? MISSING : `${fmt(c.hostCpuPctNoJob, 1)}%`} busy (the background the job figures sit on).`
    : `Sampler cost: ${missing('throughput did not run on any backend')}`;
  const timelines = charts.filter((x) => x.file.startsWith('timeline-')).map((x) => image(x.title, x.file)).join('\n\n');
  return blocks(
    heading('3. Throughput'),
    `Wordcount (${res.settings.input.startsWith('file') ? res.settings.input : 'generated corpora, sizes per backend'}) at each parallelism P and input size; times in seconds, medians ` +
      `over the jobs (95% order-statistic CI of the job-time median in brackets, from 6 jobs). "counts agree" checks that every job of every backend ` +
      `produced the same counts (sha256 of the canonical counts).`,
    table(
      ['backend', 'P @ input', 'jobs', 'job time (s)', 'start-up (s)', 'steady state (s)', 'MB/s', 'speed-up vs P=1', 'host CPU mean (%)', 'peak host memory in use (MiB)', 'counts agree'],
      throughputRows(res), ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
    ),
    sampler,
    chartBlock(charts, 'throughput.svg', 'no job finished'),
    chartBlock(charts, 'throughput-split.svg', 'no job finished'),
    timelines,
  );
}

function startupMedian(res: ResultsFile, backend: string, metric: 'offerToReady' | 'requestedToReady' | 'total'): number | null {
  return res.startup.find((r) => r.backend === backend)?.summary[metric]?.median ?? null;
}

/** Why a backend has no figure in an experiment: not usable, or its configuration's reason. */
function whyMissing(res: ResultsFile, rows: readonly RowContext[], backend: string): string {
  const info = res.backends.find((x) => x.name === backend);
  if (info && !info.usable) return `${backend} ${info.health}: ${info.description}`;
  const r = rows.find((x) => x.backend === backend && x.reason);
  return r?.reason ? `${backend} ${r.status}: ${r.reason}` : `no ${backend} measurement`;
}

/** One headline figure of the summary: its title and each backend's value as text. */
export interface Headline {
  /** What is compared, e.g. "Start-up, median offer → executor ready". */
  title: string;
  /** Per backend, in isolation order: the figure (with its ratio to the baseline), or why it is missing. */
  cells: { backend: string; value: number | null; text: string }[];
}

/**
 * The summary's figures: for each, every backend's value and, for the others, its ratio to the
 * baseline backend (e.g. "305.0 ms = 1.3× process"); a missing figure says why. Notes (caveats,
 * skipped backends) come first.
 */
export function headlines(res0: ResultsFile): { notes: string[]; figures: Headline[] } {
  const res = inIsolationOrder(res0);
  const names = res.backends.map((b) => b.name);
  const base = baselineOf(res);
  const notes: string[] = [];
  const figures: Headline[] = [];
  const item = (
    title: string, unit: string, digits: number, rows: readonly RowContext[], get: (b: string) => number | null, withRatio = true,
    show: (b: string, v: number) => string = (_b, v) => `${fmt(v, digits)}${unit ? ` ${unit}` : ''}`,
  ): void => {
    const baseValue = base ? get(base.name) : null;
    const cells = names.map((b) => {
      const v = get(b);
      if (v === null) {
        const text = res.backends.find((x) => x.name === b)?.usable === false ? `${MISSING} (skipped)` : missing(whyMissing(res, rows, b));
        return { backend: b, value: null, text };
      }
      const r = withRatio && base && b !== base.name ? ratio(v, baseValue) : null;
      const noise = v <= 0 ? ' (not above the noise of other host activity)' : '';
      return { backend: b, value: v, text: `${show(b, v)}${r ? ` = ${r} ${nounOf(res, base!.name)}` : ''}${noise}` };
    });
    figures.push({ title, cells });
  };
  const has = (e: string): boolean => res.settings.experiments.includes(e as never);
  const e = res.environment;
  const busy = e.loadAverage && e.loadAverage[0]! > e.cores / 2;
  const bg = res.sampler?.hostCpuPctNoJob;
  if (busy || (bg != null && bg > 25)) {
    notes.push(`Caveat: the host was busy with other work during this run (load average ${fmt(e.loadAverage[0], 2)} on ${e.cores} cores at the start` +
      `${bg != null ? `; ${fmt(bg, 1)}% CPU busy with no job of the lab running` : ''}): times and memory changes include that contention.`);
  }
  const skipped = res.backends.filter((b) => !b.usable);
  if (skipped.length > 0) {
    notes.push(`Skipped, not measured: ${skipped.map((b) => `${nounOf(res, b.name, b.accelerator)} (${b.name} ${b.health}: ${b.description})`).join('; ')}.`);
  }
  if (has('startup')) {
    item('Start-up (warm), median requested → executor ready', 'ms', 1, res.startup, (b) => startupMedian(res, b, 'requestedToReady'));
    const cold = res.startup.find((r) => r.cold)?.cold?.kind;
    const coldTitle = cold === 'dropped-caches' ? 'Start-up (cold: page cache dropped), median requested → executor ready'
      : `Start-up (first run${cold === 'first-after-image-build' ? ' after the image build' : ''}, nearest to cold: no cache dropped), requested → executor ready`;
    item(coldTitle, 'ms', 1, res.startup, (b) => res.startup.find((r) => r.backend === b)?.cold?.summary.requestedToReady?.median ?? null);
    item('Start-up (warm), median offer → executor ready', 'ms', 1, res.startup, (b) => startupMedian(res, b, 'offerToReady'));
    item('Whole start-up and teardown (warm), median offer → cleaned up', 'ms', 1, res.startup, (b) => startupMedian(res, b, 'total'));
  }
  if (has('density')) {
    const density = (b: string): DensityResult | undefined => res.density.find((x) => x.backend === b);
    const withPss = res.density.filter((r) => r.steps.some((s) => pssMiB(pooledRound(s)).length > 0));
    if (withPss.length > 0) {
      // compare at the same K: PSS shares pages among instances, so per-instance PSS depends on K
      const k = Math.min(...withPss.map((r) => Math.max(...r.steps.filter((s) => pssMiB(pooledRound(s)).length > 0).map((s) => s.k))));
      const step = (b: string): DensityStep | undefined => density(b)?.steps.find((s) => s.k === k);
      const pss = (b: string): number | null => {
        const s = step(b);
        return s ? medianOrNull(pssMiB(pooledRound(s))) : null;
      };
      item(`Memory per idle instance at K=${k}, median PSS`, 'MiB', 1, res.density, pss);
      item(`Memory per idle instance at K=${k}, host available-memory drop`, 'MiB', 1, res.density, (b) => {
        const s = step(b);
        const d = s ? pooledRound(s).availableDropPerInstanceBytes : null;
        return d === null || d === undefined ? null : d / MIB;
      });
      item(`Idle instances per GiB of host memory at K=${k} (by PSS)`, '', 1, res.density, (b) => {
        const s = step(b);
        return s ? instancesPerGiB(pooledRound(s)) : null;
      }, false);
    }
    const reached = res.density.filter((r) => r.steps.some((s) => pooledRound(s).rate != null));
    if (reached.length > 0) {
      const commonK = Math.min(...reached.map((r) => Math.max(...r.steps.filter((s) => pooledRound(s).rate != null).map((s) => s.k))));
      item(`Launch rate, K=${commonK} launched at once`, 'instances/s', 2, res.density, (b) => {
        const s = density(b)?.steps.find((x) => x.k === commonK);
        return s ? pooledRound(s).rate : null;
      });
    }
  }
  if (has('throughput')) {
    const fit = (b: string) => res.fits?.find((f) => f.backend === b);
    if ((res.fits ?? []).some((f) => f.mbPerSecond !== null)) {
      item('Wordcount steady rate 1/b of time = a + b·bytes, P=1 (higher is better)', 'MB/s', 1, res.throughput, (b) => fit(b)?.mbPerSecond ?? null, true,
        (b, v) => { const i = fit(b)?.mbPerSecondInterval; return `${fmt(v, 1)} MB/s${i ? ` [${fmt(i.low, 1)}–${fmt(i.high, 1)}]` : ''}`; });
      item('Wordcount fixed cost a of time = a + b·bytes, P=1', 's', 2, res.throughput, (b) => fit(b)?.fixedSeconds ?? null, false,
        (b, v) => { const i = fit(b)?.fixedInterval; return `${fmt(v, 2)} s${i ? ` [${fmt(i.low, 2)}–${fmt(i.high, 2)}]` : ''}`; });
    }
    const mbps = (b: string): number | null => res.throughput.find((x) => x.backend === b && x.parallelism === 1)?.summary.mbPerSecond.median ?? null;
    item('Wordcount throughput at P=1, median (higher is better)', 'MB/s', 2, res.throughput, mbps);
    // a speed-up is stated only when the P=1 and P=n intervals do not overlap (results schema 3: r.speedup)
    const stated = (r: ThroughputResult): boolean => r.speedup?.measurable === true && (r.speedup.ratio ?? 0) > 1;
    const best = new Map<string, ThroughputResult>();
    for (const r of res.throughput) {
      if (!stated(r)) continue;
      const cur = best.get(r.backend);
      if (!cur || r.speedup!.ratio! > cur.speedup!.ratio!) best.set(r.backend, r);
    }
    item(`Speed-up over P=1 on ${res.environment.cores} cores (stated only where the intervals do not overlap)`, '×', 2, res.throughput, (b) => {
      const r = best.get(b);
      if (r) return r.speedup!.ratio!;
      return res.throughput.some((x) => x.backend === b && x.parallelism !== 1 && x.summary.jobSeconds.n > 0) ? 1 : null;
    }, false, (b, v) => {
      const r = best.get(b);
      if (r) {
        const i = r.speedup!.interval;
        return `${fmt(v, 2)}× at P=${r.parallelism}, ${fmt(r.bytes / 1e6, 0)} MB${i ? ` [${fmt(i.low, 2)}–${fmt(i.high, 2)}]` : ''}`;
      }
      return 'no measurable speed-up';
    });
  }
  return { notes, figures };
}

/** The summary as sentences: notes, then one line per headline figure naming each backend. */
export function summaryLines(res: ResultsFile): string[] {
  const { notes, figures } = headlines(res);
  return [...notes, ...figures.map((f) => `${f.title}: ${f.cells.map((c) => `${nounOf(res, c.backend)} ${c.text}`).join('; ')}.`)];
}

/** The summary as a table: one row per headline figure, one column per backend along the isolation spectrum. */
export function summaryTable(res: ResultsFile): string {
  const { figures } = headlines(res);
  if (figures.length === 0) return '';
  const backends = orderedBackends(res).map((b) => b.name);
  return table(
    ['figure', ...backends.map((b) => headerOf(res, b))],
    figures.map((f) => [f.title, ...backends.map((b) => f.cells.find((c) => c.backend === b)?.text ?? MISSING)]),
    ['l', ...backends.map((): Align => 'r')],
  );
}

function referencesSection(): string {
  return blocks(
    heading('Published references (not measured here)'),
    'Figures published by others, on their own hardware, for orientation only. They are **not** this lab\'s measurements ' +
      'and are never mixed into the tables or ratios above.',
    table(['what', 'published figure', 'source'], PUBLISHED_REFERENCES.map((r) => [r.what, r.figure, r.source]), ['l', 'l', 'l']),
    REFERENCE_METHOD,
  );
}

function filesSection(charts: readonly ChartJob[]): string {
  return blocks(
    heading('Files'),
    bulletList([
      '`results.json`: every raw sample, summary, setting and the environment (this report is rendered from it alone: `isolab report DIR`)',
      '`results.csv`: one line per metric and configuration, with backend, accelerator, limits and environment',
      ...charts.map((c) => `\`${c.file}\`: ${c.title}`),
    ]),
  );
}

/** The Markdown report of a run, from its results.json data alone (no clock, no environment lookups). */
export function renderMarkdown(res0: ResultsFile, charts: readonly ChartJob[] = chartJobs(res0)): string {
  const res = inIsolationOrder(res0);
  const base = baselineOf(res);
  return blocks(
    heading('isolab: what isolation costs', 1),
    statusLine(res),
    `Backends, along the isolation spectrum: ${res.backends.map((b) => `${headerOf(res, b.name)}: ${b.usable ? 'used' : `SKIPPED: ${b.description}`}`).join('; ')}. ` +
      `Experiments: ${res.settings.experiments.join(', ')}.`,
    heading('Summary'),
    `Medians measured in this run: every backend's figure and, for the others, its ratio to the ${base ? nounOf(res, base.name) : 'first'} backend.`,
    summaryTable(res),
    bulletList(summaryLines(res)),
    environmentSection(res),
    heading('Background'),
    backgroundText(res),
    heading('Method'),
    methodText(res),
    limitsSection(res),
    startupSection(res, charts),
    densitySection(res, charts),
    throughputSection(res, charts),
    referencesSection(),
    filesSection(charts),
  );
}
