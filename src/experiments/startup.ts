import { hostname } from 'node:os';
import type { TaskResultData } from '../agent/agent.js';
import { LocalAgent, type TaskEnd } from '../agent/agent.js';
import type { Backend } from '../backends/backend.js';
import { acceleratorOf, taskTimeoutMs } from '../backends/descriptor.js';
import { TASK_PHASES } from '../backends/phases.js';
import type { ExecutorTask } from '../executor/protocol.js';
import { Master } from '../master/master.js';
import type { Resources } from '../master/resources.js';
import type { TaskStatus } from '../master/types.js';
import { summarize } from '../stats/summary.js';
import { dropPageCache, firstSinceImageBuild } from './cold.js';
import { rowContext, type ExperimentContext, type InputFile } from './context.js';
import { intervalsOf, STARTUP_METRICS } from './intervals.js';
import { launchSeries } from './launch.js';
import { OneTaskScheduler } from './one-task-scheduler.js';
import { summarizeUsage, taskRecord } from './task-record.js';
import type { BackendInfo, ColdStarts, StartKind, StartupMetric, StartupResult, StartupSample, StartupSettingsView } from './types.js';
import { abortable, errorMessage, round, waitFor } from './util.js';

export { STARTUP_METRICS, STARTUP_SEGMENTS, intervalsOf } from './intervals.js';

/** The standard phases every start-up run must record to count (all of them). */
export const AGENT_PHASES = TASK_PHASES;

/** Options of one start-up through the master. */
export interface StartupOnceOptions {
  /** Task id. */
  taskId: string;
  /** Tiny wordcount input. */
  input: InputFile;
  /** Resources of the task. */
  resources: Resources;
  /** Resources of the agent. */
  agentResources: Resources;
  /** Kill the task after this long (ms). */
  timeoutMs: number;
  /** Aborts the run. */
  signal?: AbortSignal;
}

/**
 * One start-up through the master: a fresh embedded master and local agent, a tiny framework that
 * launches one wordcount task on the first offer, and the agent's complete record of the task
 * (every phase to `cleaned`, the exit and the isolation layer's accounting).
 */
export async function startupOnce(backend: Backend, o: StartupOnceOptions): Promise<{ status: TaskStatus; data?: TaskResultData }> {
  const master = new Master();
  const agent = new LocalAgent(master, new Map([[backend.name, backend]]), o.signal);
  let end: TaskEnd | undefined;
  agent.onTaskEnd((e) => (end = e));
  agent.register({ hostname: hostname(), resources: o.agentResources });
  const payload: ExecutorTask = { taskId: o.taskId, mode: 'wordcount', input: o.input.path, start: 0, end: o.input.bytes, size: o.input.bytes };
  const scheduler = new OneTaskScheduler({
    taskId: o.taskId, name: 'startup probe', resources: o.resources, backend: backend.name, payload, timeoutMs: o.timeoutMs,
  });
  master.start();
  const driver = master.registerFramework(scheduler, { name: 'isolab-startup' });
  try {
    const status = await abortable(scheduler.done, o.signal);
    await abortable(waitFor(() => end !== undefined, 120_000), o.signal);
    return { status, data: end?.data ?? (status.data as TaskResultData | undefined) };
  } finally {
    driver.teardown();
    await waitFor(() => agent.activeTasks === 0, 30_000);
    master.stop();
  }
}

/** The intervals (ms) between recorded phases; an interval is missing when either end is. */
export function startupDurations(phases: Record<string, number>): Partial<Record<StartupMetric, number>> {
  return intervalsOf(phases);
}

function intervalSummaries(samples: readonly StartupSample[]): Partial<Record<StartupMetric, ReturnType<typeof summarize>>> {
  const out: Partial<Record<StartupMetric, ReturnType<typeof summarize>>> = {};
  for (const m of STARTUP_METRICS) {
    out[m.metric] = summarize(samples.map((s) => s.durations[m.metric]).filter((v): v is number => v !== undefined));
  }
  return out;
}

/** Recomputes a start-up result's statistics from its raw samples: warm ok runs, and the cold (or first) ones apart. */
export function summarizeStartup(r: StartupResult): void {
  const warm = r.samples.filter((s) => s.start === 'warm' && s.ok);
  r.summary = intervalSummaries(warm);
  r.usage = summarizeUsage(warm.map((s) => s.task));
  const cold = r.samples.filter((s) => s.start !== 'warm' && s.ok);
  if (cold.length === 0) r.cold = null;
  else {
    const kind: ColdStarts['kind'] = cold.every((s) => s.start === 'cold') ? 'dropped-caches'
      : cold.some((s) => s.firstAfterImageBuild) ? 'first-after-image-build' : 'first-of-run';
    r.cold = { kind, summary: intervalSummaries(cold) };
  }
  const standard = new Set<string>(TASK_PHASES);
  const extra = new Set<string>();
  for (const s of warm) for (const k of Object.keys(s.phases)) if (!standard.has(k)) extra.add(k);
  const phases = [...extra].map((name) => {
    const xs = warm.filter((s) => s.phases[name] !== undefined).map((s) => round(s.phases[name]! - s.phases.offered!, 3));
    return [name, summarize(xs)] as const;
  });
  phases.sort((a, b) => (a[1].median ?? 0) - (b[1].median ?? 0) || a[0].localeCompare(b[0]));
  r.backendPhases = Object.fromEntries(phases);
}

/** How many warm and cold/first runs, and the launch series size, one backend gets. */
export function startupPlanFor(s: StartupSettingsView, backend: string): { warm: number; before: number; cold: boolean; series: number } {
  const cold = Boolean(s.dropCaches);
  return {
    warm: s.repeatByBackend?.[backend] ?? s.repeat,
    before: cold ? (s.coldRepeat ?? s.warmup) : Math.min(1, s.warmup),
    cold,
    series: s.seriesByBackend?.[backend] ?? 0,
  };
}

/** Runs cold (or first) then warm start-ups on one backend, then its launch series; the result is in the store, saved as it goes. */
export async function runStartup(ctx: ExperimentContext, info: BackendInfo, backend: Backend | undefined): Promise<StartupResult> {
  const st = ctx.store.data.settings;
  const plan = startupPlanFor(st, info.name);
  const r: StartupResult = {
    ...rowContext(info, ctx.env, st.startupResources), repeat: plan.warm, warmup: plan.before, samples: [], summary: {}, backendPhases: {},
    cold: null, series: [],
  };
  ctx.store.data.startup.push(r);
  if (!backend) {
    summarizeStartup(r);
    ctx.store.save();
    return r;
  }
  const total = plan.before + plan.warm;
  let consecutiveFailures = 0;
  let stoppedEarly = false;
  let coldProblem: string | undefined;
  for (let i = 1; i <= total; i++) {
    const before = i <= plan.before;
    let start: StartKind = before ? (plan.cold && !coldProblem ? 'cold' : 'first') : 'warm';
    const unit = `startup:${info.name}:${i}`;
    ctx.progress.start(unit);
    const sample: StartupSample = { index: i, start, warmup: before, ok: false, phases: {}, durations: {} };
    if (start === 'cold') {
      coldProblem = dropPageCache();
      if (coldProblem) {
        ctx.log(`isolab: ${coldProblem}; the first run is kept as the nearest thing to a cold start`);
        sample.start = start = 'first';
      }
    }
    if (start === 'first' && i === 1) sample.firstAfterImageBuild = await firstSinceImageBuild(info.name);
    try {
      const { status, data } = await startupOnce(backend, {
        taskId: `startup-${i}`, input: ctx.startupInput, resources: st.startupResources, agentResources: ctx.agentResources,
        timeoutMs: taskTimeoutMs(info.descriptor, ctx.startupInput.bytes), signal: ctx.signal,
      });
      sample.phases = { ...(data?.phases ?? {}) };
      sample.durations = startupDurations(sample.phases);
      sample.instanceId = data?.instanceId;
      sample.task = taskRecord(`startup-${i}`, data, ctx.startupInput.bytes);
      const missing = AGENT_PHASES.filter((p) => sample.phases[p] === undefined);
      sample.ok = status.state === 'finished' && missing.length === 0;
      if (!sample.ok) sample.error = status.state !== 'finished' ? `${status.state}: ${status.message ?? 'no reason'}` : `phases not recorded: ${missing.join(', ')}`;
      if (data?.limits && !r.limitsEnforced) r.limitsEnforced = data.limits;
      if (data?.attributes && Object.keys(data.attributes).length > 0) r.accelerator = acceleratorOf(info.descriptor, { ...info.attributes, ...data.attributes });
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      sample.error = errorMessage(err);
    }
    r.samples.push(sample);
    summarizeStartup(r);
    ctx.progress.done(unit);
    ctx.store.save();
    consecutiveFailures = sample.ok ? 0 : consecutiveFailures + 1;
    if (!sample.ok) ctx.log(`isolab: startup ${info.name} run ${i} failed: ${sample.error}`);
    if (consecutiveFailures >= 3 && i < total) {
      stoppedEarly = true;
      ctx.progress.drop((u) => u.kind === `startup:${info.name}`);
      break;
    }
  }
  if (!stoppedEarly && plan.series > 0) {
    for (const mode of ['serial', 'parallel'] as const) {
      const unit = `startup:${info.name}:series-${mode}`;
      ctx.progress.start(unit);
      const s = await launchSeries(backend, plan.series, mode, st.startupResources, ctx.signal);
      r.series!.push(s);
      ctx.progress.done(unit);
      ctx.store.save();
      if (s.error) ctx.log(`isolab: startup ${info.name} ${mode} series: ${s.ready}/${s.n} ready: ${s.error}`);
      if (s.ready < s.n) break;
    }
  }
  const failed = r.samples.filter((s) => !s.ok);
  const measured = r.samples.filter((s) => s.start === 'warm' && s.ok).length;
  if (measured === 0) {
    r.status = 'failed';
    r.reason = `no successful run${failed[0] ? `: ${failed[0].error}` : ''}`;
  } else {
    r.status = stoppedEarly ? 'partial' : 'done';
    if (failed.length > 0) {
      r.reason = `${failed.length} of ${r.samples.length} runs failed${stoppedEarly ? ', stopped after 3 in a row' : ''}; first: ${failed[0]!.error}`;
    }
  }
  ctx.store.save();
  return r;
}
