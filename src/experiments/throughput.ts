import type { Backend } from '../backends/backend.js';
import { runWordcountJob, type JobResult } from '../frameworks/wordcount/run-job.js';
import type { Resources } from '../master/resources.js';
import { mean } from '../stats/descriptive.js';
import { summarize } from '../stats/summary.js';
import { acceleratorOf, taskTimeoutMs } from '../backends/descriptor.js';
import { rowContext, type ExperimentContext } from './context.js';
import { UsageSampler } from './sampler.js';
import type { BackendInfo, ThroughputResult, ThroughputRun } from './types.js';
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

/** Recomputes a throughput result's statistics from its runs (ok runs only). */
export function summarizeThroughput(r: ThroughputResult): void {
  const ok = r.runs.filter((x) => x.ok);
  const pick = (f: (x: ThroughputRun) => number | null): number[] => ok.map(f).filter((v): v is number => v !== null);
  r.summary = {
    jobSeconds: summarize(pick((x) => x.jobSeconds)),
    startupSeconds: summarize(pick((x) => x.startupSeconds)),
    steadySeconds: summarize(pick((x) => x.steadySeconds)),
    mbPerSecond: summarize(pick((x) => x.mbPerSecond)),
  };
  const cpu = ok.flatMap((x) => x.timeline.map((s) => s.cpuPct));
  r.meanCpuPct = cpu.length > 0 ? round(mean(cpu), 2) : null;
  const memUsed = ok.flatMap((x) => x.timeline.map((s) => s.memUsedBytes));
  r.peakMemUsedBytes = memUsed.length > 0 ? Math.max(...memUsed) : null;
}

/** Runs the wordcount job `throughputRepeat` times at one parallelism on one backend, sampling host CPU and memory. */
export async function runThroughput(ctx: ExperimentContext, info: BackendInfo, backend: Backend | undefined, parallelism: number): Promise<ThroughputResult> {
  const st = ctx.store.data.settings;
  const input = ctx.throughputInput;
  const resources = mapTaskResources(ctx.agentResources.cpus, parallelism, st.throughputMemMiB);
  const r: ThroughputResult = {
    ...rowContext(info, ctx.env, resources), parallelism, bytes: input.bytes, input: input.description, runs: [],
    summary: undefined as never, meanCpuPct: null, peakMemUsedBytes: null,
  };
  summarizeThroughput(r);
  ctx.store.data.throughput.push(r);
  if (!backend) {
    ctx.store.save();
    return r;
  }
  for (let i = 1; i <= st.throughputRepeat; i++) {
    const unit = `throughput:${info.name}:${parallelism}:${i}`;
    ctx.progress.start(unit);
    const run: ThroughputRun = {
      index: i, ok: false, jobSeconds: null, startupSeconds: null, steadySeconds: null, allReadySeconds: null, mbPerSecond: null,
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
      Object.assign(run, splitJob(job));
      const first = job.attempts.find((a) => a.state === 'finished')?.data;
      if (first?.limits) r.limitsEnforced ??= first.limits;
      if (first && Object.keys(first.attributes).length > 0) r.accelerator = acceleratorOf(info.descriptor, { ...info.attributes, ...first.attributes });
    } catch (err) {
      run.timeline = sampler.stop();
      if (ctx.signal.aborted) throw err;
      run.error = errorMessage(err);
      ctx.log(`isolab: throughput ${info.name} P=${parallelism} run ${i} failed: ${run.error}`);
    }
    r.runs.push(run);
    summarizeThroughput(r);
    ctx.progress.done(unit);
  }
  const failed = r.runs.filter((x) => !x.ok);
  r.status = failed.length === r.runs.length ? 'failed' : 'done';
  if (failed.length > 0) r.reason = `${failed.length} of ${r.runs.length} jobs failed; first: ${failed[0]!.error}`;
  ctx.store.save();
  return r;
}
