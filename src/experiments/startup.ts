import { hostname } from 'node:os';
import type { TaskResultData } from '../agent/agent.js';
import { LocalAgent } from '../agent/agent.js';
import type { Backend } from '../backends/backend.js';
import type { ExecutorTask } from '../executor/protocol.js';
import { Master } from '../master/master.js';
import type { Resources } from '../master/resources.js';
import type { TaskStatus } from '../master/types.js';
import { summarize } from '../stats/summary.js';
import { acceleratorOf, taskTimeoutMs } from '../backends/descriptor.js';
import { rowContext, type ExperimentContext, type InputFile } from './context.js';
import { OneTaskScheduler } from './one-task-scheduler.js';
import type { BackendInfo, StartupMetric, StartupResult, StartupSample } from './types.js';
import { abortable, errorMessage, round, waitFor } from './util.js';

/** The phases the agent records for every task, in order. */
export const AGENT_PHASES = ['offered', 'accepted', 'started', 'ready', 'firstResult', 'exited', 'cleaned'] as const;

/** Each start-up interval: its name, the phase where its clock starts and the one where it stops. */
export const STARTUP_METRICS: readonly { metric: StartupMetric; from: string; to: string; label: string }[] = [
  { metric: 'offerToAccept', from: 'offered', to: 'accepted', label: 'offer → accept' },
  { metric: 'acceptToStarted', from: 'accepted', to: 'started', label: 'accept → instance started' },
  { metric: 'startedToReady', from: 'started', to: 'ready', label: 'started → executor ready' },
  { metric: 'readyToResult', from: 'ready', to: 'firstResult', label: 'ready → first result' },
  { metric: 'resultToExit', from: 'firstResult', to: 'exited', label: 'first result → exit' },
  { metric: 'exitToCleaned', from: 'exited', to: 'cleaned', label: 'exit → cleaned up' },
  { metric: 'offerToReady', from: 'offered', to: 'ready', label: 'offer → executor ready' },
  { metric: 'total', from: 'offered', to: 'cleaned', label: 'total: offer → cleaned up' },
];

/** The intervals that add up to the total, in order (for stacked charts). */
export const STARTUP_SEGMENTS: readonly StartupMetric[] = [
  'offerToAccept', 'acceptToStarted', 'startedToReady', 'readyToResult', 'resultToExit', 'exitToCleaned',
];

/** Options of one cold start. */
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
 * One cold start through the master: a fresh embedded master and local agent, a tiny framework
 * that launches one wordcount task on the first offer, and the agent's record of every phase.
 */
export async function startupOnce(backend: Backend, o: StartupOnceOptions): Promise<{ status: TaskStatus; data?: TaskResultData }> {
  const master = new Master();
  const agent = new LocalAgent(master, new Map([[backend.name, backend]]), o.signal);
  agent.register({ hostname: hostname(), resources: o.agentResources });
  const payload: ExecutorTask = { taskId: o.taskId, mode: 'wordcount', input: o.input.path, start: 0, end: o.input.bytes, size: o.input.bytes };
  const scheduler = new OneTaskScheduler({
    taskId: o.taskId, name: 'startup probe', resources: o.resources, backend: backend.name, payload, timeoutMs: o.timeoutMs,
  });
  master.start();
  const driver = master.registerFramework(scheduler, { name: 'isolab-startup' });
  try {
    const status = await abortable(scheduler.done, o.signal);
    return { status, data: status.data as TaskResultData | undefined };
  } finally {
    driver.teardown();
    await waitFor(() => agent.activeTasks === 0, 30_000);
    master.stop();
  }
}

/** The intervals (ms) between recorded phases; an interval is missing when either end is. */
export function startupDurations(phases: Record<string, number>): Partial<Record<StartupMetric, number>> {
  const out: Partial<Record<StartupMetric, number>> = {};
  for (const m of STARTUP_METRICS) {
    const a = phases[m.from];
    const b = phases[m.to];
    if (a !== undefined && b !== undefined) out[m.metric] = round(b - a, 3);
  }
  return out;
}

/** Recomputes a start-up result's statistics from its raw samples (measured, ok runs only). */
export function summarizeStartup(r: StartupResult): void {
  const kept = r.samples.filter((s) => !s.warmup && s.ok);
  r.summary = {};
  for (const m of STARTUP_METRICS) {
    const xs = kept.map((s) => s.durations[m.metric]).filter((v): v is number => v !== undefined);
    r.summary[m.metric] = summarize(xs);
  }
  const extra = new Set<string>();
  for (const s of kept) for (const k of Object.keys(s.phases)) if (!(AGENT_PHASES as readonly string[]).includes(k)) extra.add(k);
  const phases = [...extra].map((name) => {
    const xs = kept.filter((s) => s.phases[name] !== undefined).map((s) => round(s.phases[name]! - s.phases.offered!, 3));
    return [name, summarize(xs)] as const;
  });
  phases.sort((a, b) => (a[1].median ?? 0) - (b[1].median ?? 0) || a[0].localeCompare(b[0]));
  r.backendPhases = Object.fromEntries(phases);
}

/** Runs warm-up then measured cold starts on one backend; the result is in the store, saved when done. */
export async function runStartup(ctx: ExperimentContext, info: BackendInfo, backend: Backend | undefined): Promise<StartupResult> {
  const st = ctx.store.data.settings;
  const r: StartupResult = {
    ...rowContext(info, ctx.env, st.startupResources), repeat: st.repeat, warmup: st.warmup, samples: [], summary: {}, backendPhases: {},
  };
  ctx.store.data.startup.push(r);
  if (!backend) {
    summarizeStartup(r);
    ctx.store.save();
    return r;
  }
  const total = st.warmup + st.repeat;
  let consecutiveFailures = 0;
  let stoppedEarly = false;
  for (let i = 1; i <= total; i++) {
    const warm = i <= st.warmup;
    const unit = `startup:${info.name}:${i}`;
    ctx.progress.start(unit);
    const sample: StartupSample = { index: i, warmup: warm, ok: false, phases: {}, durations: {} };
    try {
      const { status, data } = await startupOnce(backend, {
        taskId: `startup-${i}`, input: ctx.startupInput, resources: st.startupResources, agentResources: ctx.agentResources,
        timeoutMs: taskTimeoutMs(info.descriptor, ctx.startupInput.bytes), signal: ctx.signal,
      });
      sample.phases = { ...(data?.phases ?? {}) };
      sample.durations = startupDurations(sample.phases);
      sample.instanceId = data?.instanceId;
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
    consecutiveFailures = sample.ok ? 0 : consecutiveFailures + 1;
    if (!sample.ok) ctx.log(`isolab: startup ${info.name} run ${i} failed: ${sample.error}`);
    if (consecutiveFailures >= 3 && i < total) {
      stoppedEarly = true;
      ctx.progress.drop((u) => u.kind === `startup:${info.name}`);
      break;
    }
  }
  const failed = r.samples.filter((s) => !s.ok);
  const measured = r.samples.filter((s) => !s.warmup && s.ok).length;
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
