import type { Backend } from '../backends/backend.js';
import { acceleratorOf, taskTimeoutMs } from '../backends/descriptor.js';
import { runWordcountJob, type JobResult } from '../frameworks/wordcount/run-job.js';
import type { Resources } from '../master/resources.js';
import { ratioOfMedians } from '../stats/compare.js';
import { mean } from '../stats/descriptive.js';
import { bootstrapLineCI, fitLine, reciprocalInterval } from '../stats/linear-fit.js';
import { emptySummary, summarize } from '../stats/summary.js';
import { rowContext, type ExperimentContext, type InputFile } from './context.js';
import { UsageSampler } from './sampler.js';
import { taskRecord } from './task-record.js';
import type { BackendInfo, FixedCostFit, RunSettings, ThroughputResult, ThroughputRole, ThroughputRun } from './types.js';
import { errorMessage, round } from './util.js';

/** Resources of one map task at parallelism P: an equal share of the agent's cores (at most 1 core each) and a fixed memory. */
export function mapTaskResources(agentCpus: number, parallelism: number, memMiB: number): Resources {
  return { cpus: Math.max(0.01, Math.min(1, Math.floor((agentCpus / parallelism) * 1000) / 1000)), mem: memMiB };
}

/**
 * Splits a job's time: start-up = first offer → first executor ready (no word is counted before);
 * steady state = the rest of the job time, up to the last map result merged.
 */
export function splitJob(job: JobResult): Pick<ThroughputRun, 'startupSeconds' | 'steadySeconds' | 'allReadySeconds' | 'countMs'> {
  const phases = job.attempts.map((a) => a.data?.phases ?? {});
  const offers = phases.map((p) => p.offered).filter((v): v is number => v !== undefined);
  const readies = phases.map((p) => p.ready).filter((v): v is number => v !== undefined);
  if (offers.length === 0 || readies.length === 0) return { startupSeconds: null, steadySeconds: null, allReadySeconds: null, countMs: null };
  const firstOffer = Math.min(...offers);
  const startup = (Math.min(...readies) - firstOffer) / 1000;
  const finished = job.attempts.filter((a) => a.state === 'finished');
  const lastReady = Math.max(...finished.map((a) => a.data?.phases.ready ?? firstOffer));
  const countMs = finished.reduce((acc, a) => acc + (a.data?.result?.countMs ?? 0), 0);
  return {
    startupSeconds: round(startup, 4),
    steadySeconds: round(Math.max(0, job.seconds - startup), 4),
    allReadySeconds: round((lastReady - firstOffer) / 1000, 4),
    countMs: round(countMs, 3),
  };
}

/** The per-task accounting of a job: each finished map task's record, and the job's totals. */
export function jobAccounting(job: JobResult, bytes: number): Pick<ThroughputRun, 'tasks' | 'cpuSeconds' | 'cpuSecondsPerMB' | 'peakMemoryBytes' | 'memoryAboveBaselineBytes' | 'teardownSeconds'> {
  const tasks = job.taskEnds
    .filter((e) => e.state === 'finished')
    .map((e) => {
      const p = e.task.payload as { start?: number; end?: number } | undefined;
      return taskRecord(e.task.taskId, e.data, Math.max(0, (p?.end ?? 0) - (p?.start ?? 0)));
    });
  const cpus = tasks.map((t) => t.usage?.cpuSeconds ?? null);
  const cpu = cpus.length > 0 && cpus.every((c) => c !== null) ? round(cpus.reduce((a, b) => a! + b!, 0)!, 4) : null;
  const peaks = tasks.map((t) => t.usage?.peakMemoryBytes).filter((v): v is number => typeof v === 'number');
  const above = tasks.map((t) => t.derived.memoryAboveBaselineBytes).filter((v): v is number => typeof v === 'number');
  return {
    tasks, cpuSeconds: cpu, cpuSecondsPerMB: cpu !== null && bytes > 0 ? round(cpu / (bytes / 1e6), 5) : null,
    peakMemoryBytes: peaks.length > 0 ? Math.max(...peaks) : null, memoryAboveBaselineBytes: above.length > 0 ? Math.max(...above) : null,
    teardownSeconds: job.teardownSeconds === null ? null : round(job.teardownSeconds, 4),
  };
}

/** Recomputes a throughput result's statistics from its runs (ok runs only). */
export function summarizeThroughput(r: ThroughputResult): void {
  const ok = r.runs.filter((x) => x.ok);
  const pick = (f: (x: ThroughputRun) => number | null | undefined) => {
    const xs = ok.map(f).filter((v): v is number => v !== null && v !== undefined);
    return xs.length > 0 ? summarize(xs) : emptySummary();
  };
  r.summary = {
    jobSeconds: pick((x) => x.jobSeconds),
    startupSeconds: pick((x) => x.startupSeconds),
    steadySeconds: pick((x) => x.steadySeconds),
    mbPerSecond: pick((x) => x.mbPerSecond),
    cpuSeconds: pick((x) => x.cpuSeconds),
    cpuSecondsPerMB: pick((x) => x.cpuSecondsPerMB),
    peakMemoryBytes: pick((x) => x.peakMemoryBytes),
    memoryAboveBaselineBytes: pick((x) => x.memoryAboveBaselineBytes),
    hostMemAboveBaselineBytes: pick((x) => x.hostMemAboveBaselineBytes),
    teardownSeconds: pick((x) => x.teardownSeconds),
  };
  const cpu = ok.flatMap((x) => x.timeline.map((s) => s.cpuPct));
  r.meanCpuPct = cpu.length > 0 ? round(mean(cpu), 2) : null;
  const memUsed = ok.flatMap((x) => x.timeline.map((s) => s.memUsedBytes));
  r.peakMemUsedBytes = memUsed.length > 0 ? Math.max(...memUsed) : null;
}

/** Speed-ups against P=1 at the same size on the same backend (stated only when the intervals do not overlap). */
export function computeSpeedups(results: readonly ThroughputResult[]): void {
  for (const r of results) {
    if (r.parallelism === 1) {
      r.speedup = null;
      continue;
    }
    const base = results.find((x) => x.backend === r.backend && x.parallelism === 1 && x.bytes === r.bytes);
    r.speedup = base ? ratioOfMedians(base.summary.jobSeconds, r.summary.jobSeconds) : null;
  }
}

/** The fixed-cost fit of one backend: its P=1 jobs at every size, time = a + b·bytes. */
export function fitBackend(backend: string, accelerator: string, results: readonly ThroughputResult[]): FixedCostFit {
  const rows = results.filter((r) => r.backend === backend && r.parallelism === 1);
  const points = rows.flatMap((r) => r.runs.filter((x) => x.ok && x.jobSeconds !== null).map((x) => ({ bytes: x.bytes ?? r.bytes, seconds: x.jobSeconds! })));
  const sizes = [...new Set(rows.map((r) => r.bytes))].sort((a, b) => a - b);
  const base: FixedCostFit = {
    backend, accelerator, sizes, points, fit: null, fixedSeconds: null, fixedInterval: null, mbPerSecond: null, mbPerSecondInterval: null, bootstrap: null,
  };
  const measuredSizes = new Set(points.map((p) => p.bytes));
  if (measuredSizes.size < 2) return { ...base, note: `needs jobs at 2 or more input sizes (${measuredSizes.size} measured)` };
  const xs = points.map((p) => p.bytes);
  const ys = points.map((p) => p.seconds);
  const fit = fitLine(xs, ys);
  const mbps = fit.b > 0 ? round(1 / fit.b / 1e6, 4) : null;
  const bInt = reciprocalInterval(fit.ciB);
  const bs = points.length >= 4 ? bootstrapLineCI(xs, ys) : null;
  const bsMbps = bs ? reciprocalInterval(bs.b) : null;
  return {
    ...base, fit, fixedSeconds: round(fit.a, 4), fixedInterval: fit.ciA ? { low: round(fit.ciA.low, 4), high: round(fit.ciA.high, 4) } : null,
    mbPerSecond: mbps, mbPerSecondInterval: bInt ? { low: round(bInt.low / 1e6, 4), high: round(bInt.high / 1e6, 4) } : null,
    bootstrap: bs ? { fixedSeconds: bs.a, mbPerSecond: bsMbps ? { low: bsMbps.low / 1e6, high: bsMbps.high / 1e6 } : null } : null,
    ...(fit.b <= 0 ? { note: 'the slope is not positive: the per-byte cost is lost in the noise at these sizes' } : {}),
  };
}

/** The throughput configurations of one backend, in order: P=1 at each fit size, then the other parallelisms at the common size. */
export function throughputConfigs(s: RunSettings, backend: string): { parallelism: number; bytes: number; role: ThroughputRole }[] {
  const sizes = s.throughputSizesByBackend?.[backend] ?? [s.inputBytes];
  const common = s.throughputParallelBytes?.[backend] ?? sizes[sizes.length - 1] ?? s.inputBytes;
  const out: { parallelism: number; bytes: number; role: ThroughputRole }[] = [];
  const all = [...new Set([...sizes, common])].sort((a, b) => a - b);
  if (s.parallelism.includes(1)) for (const b of all) out.push({ parallelism: 1, bytes: b, role: b === common ? (sizes.includes(b) ? 'both' : 'parallel') : 'fit' });
  for (const p of s.parallelism) if (p !== 1) out.push({ parallelism: p, bytes: common, role: 'parallel' });
  return out;
}

/** Jobs per configuration of one backend. */
export function throughputRepeatFor(s: RunSettings, backend: string): number {
  return s.throughputRepeatByBackend?.[backend] ?? s.throughputRepeat;
}

/** Runs the wordcount job at one parallelism and one input on one backend, `throughputRepeat` times, with host sampling and per-task accounting. */
export async function runThroughput(
  ctx: ExperimentContext, info: BackendInfo, backend: Backend | undefined, parallelism: number, input: InputFile = ctx.throughputInput,
  role: ThroughputRole = 'both', unitPrefix = `throughput:${info.name}:${parallelism}:${input.bytes}`,
): Promise<ThroughputResult> {
  const st = ctx.store.data.settings;
  const resources = mapTaskResources(ctx.agentResources.cpus, parallelism, st.throughputMemMiB);
  const r: ThroughputResult = {
    ...rowContext(info, ctx.env, resources), parallelism, bytes: input.bytes, role, input: input.description, runs: [],
    summary: undefined as never, meanCpuPct: null, peakMemUsedBytes: null, speedup: null,
  };
  summarizeThroughput(r);
  ctx.store.data.throughput.push(r);
  if (!backend) {
    ctx.store.save();
    return r;
  }
  const repeat = throughputRepeatFor(st, info.name);
  for (let i = 1; i <= repeat; i++) {
    const unit = `${unitPrefix}:${i}`;
    ctx.progress.start(unit);
    const run: ThroughputRun = {
      index: i, bytes: input.bytes, ok: false, jobSeconds: null, startupSeconds: null, steadySeconds: null, allReadySeconds: null, mbPerSecond: null,
      words: null, sha256: null, attempts: 0, countMs: null, timeline: [],
    };
    const sampler = new UsageSampler(st.samplerHz);
    await sampler.start();
    try {
      const job = await runWordcountJob({
        input: input.path, size: input.bytes, parallelism, backend, taskResources: resources, agentResources: ctx.agentResources,
        maxRetries: 1, taskTimeoutMs: taskTimeoutMs(info.descriptor, input.bytes / parallelism), signal: ctx.signal,
      });
      run.timeline = sampler.stop();
      run.ok = true;
      run.jobSeconds = round(job.seconds, 4);
      run.mbPerSecond = round(input.bytes / 1e6 / job.seconds, 4);
      run.words = job.words;
      run.sha256 = job.sha256;
      run.attempts = job.attempts.length;
      Object.assign(run, splitJob(job), jobAccounting(job, input.bytes));
      const mem = run.timeline.map((s) => s.memUsedBytes);
      run.hostMemAboveBaselineBytes = mem.length > 1 ? Math.max(...mem) - mem[0]! : null;
      const first = job.attempts.find((a) => a.state === 'finished')?.data;
      if (first?.limits) r.limitsEnforced ??= first.limits;
      if (first && Object.keys(first.attributes).length > 0) r.accelerator = acceleratorOf(info.descriptor, { ...info.attributes, ...first.attributes });
    } catch (err) {
      run.timeline = sampler.stop();
      if (ctx.signal.aborted) throw err;
      run.error = errorMessage(err);
      ctx.log(`isolab: throughput ${info.name} P=${parallelism} ${input.bytes} bytes run ${i} failed: ${run.error}`);
    }
    r.runs.push(run);
    summarizeThroughput(r);
    computeSpeedups(ctx.store.data.throughput);
    ctx.progress.done(unit);
    ctx.store.save();
  }
  const failed = r.runs.filter((x) => !x.ok);
  r.status = failed.length === r.runs.length ? 'failed' : 'done';
  if (failed.length > 0) r.reason = `${failed.length} of ${r.runs.length} jobs failed; first: ${failed[0]!.error}`;
  computeSpeedups(ctx.store.data.throughput);
  ctx.store.save();
  return r;
}
