import type { Backend, TaskHandle } from '../backends/backend.js';
import { acceleratorOf } from '../backends/descriptor.js';
import type { Resources } from '../master/resources.js';
import { summarize } from '../stats/summary.js';
import { rowContext, type ExperimentContext } from './context.js';
import { pssCrossCheck } from './cross-checks.js';
import { launchMany, teardownMany } from './launch.js';
import { instancePss, steadyAvailableMemory } from './memory.js';
import type { BackendInfo, DensityResult, DensityStep, DensityStepSummary, LaunchRound } from './types.js';
import { round, sleep } from './util.js';

/** Host memory always left free, whatever the budget says (bytes). */
export const DENSITY_HOST_RESERVE = 1024 ** 3;

/** Milliseconds to let instances settle before their memory is read. */
const SETTLE_MS = 1000;

const MIB = 2 ** 20;

/**
 * Launches k idle executors all at once (or one after another), measures their memory with all of
 * them up, then stops them, reads each one's accounting and destroys them.
 */
export async function launchRound(
  ctx: ExperimentContext, backend: Backend, k: number, mode: 'serial' | 'parallel', resources: Resources,
  onHandle?: (h: TaskHandle) => void, tag = '',
): Promise<LaunchRound & { handlesPids?: number[][] }> {
  const round0: LaunchRound = {
    mode, k, ready: 0, seconds: null, rate: null, launchMs: [], pssBytes: [], pids: [], statsMemoryBytes: [],
    availableBeforeBytes: null, availableAfterBytes: null, availableDropPerInstanceBytes: null, teardownSeconds: null,
    cpuSeconds: [], peakMemoryBytes: [],
  };
  await sleep(SETTLE_MS / 2, ctx.signal);
  round0.availableBeforeBytes = await steadyAvailableMemory();
  const id = (i: number): string => `density-k${k}${tag}-${mode === 'serial' ? 's' : 'p'}${i}`;
  const m = await launchMany(backend, k, mode, id, resources, ctx.signal);
  try {
    for (const l of m.launched) if (l.instance.launchMs !== null) round0.launchMs.push(l.instance.launchMs);
    round0.ready = round0.launchMs.length;
    if (m.error) round0.error = m.error;
    if (m.seconds !== null) {
      round0.seconds = m.seconds;
      round0.rate = round(k / m.seconds, 3);
    }
    const handles = m.launched.map((l) => l.handle).filter((h): h is TaskHandle => h !== undefined);
    for (const h of handles) onHandle?.(h);
    await sleep(SETTLE_MS, ctx.signal);
    for (const h of handles) {
      const stats = await backend.stats(h).catch(() => undefined);
      const pids = stats?.pids ?? [];
      round0.pids.push(pids.length);
      round0.pssBytes.push(await instancePss(pids));
      round0.statsMemoryBytes.push(stats?.memoryBytes ?? null);
    }
    round0.availableAfterBytes = await steadyAvailableMemory();
    if (handles.length > 0) {
      round0.availableDropPerInstanceBytes = Math.round((round0.availableBeforeBytes - round0.availableAfterBytes) / handles.length);
    }
  } finally {
    round0.teardownSeconds = await teardownMany(backend, m.launched);
    round0.cpuSeconds = m.launched.map((l) => l.instance.usage?.cpuSeconds ?? null);
    round0.peakMemoryBytes = m.launched.map((l) => l.instance.usage?.peakMemoryBytes ?? null);
  }
  return round0;
}

/** Pooled statistics of a step's rounds. */
export function summarizeStep(rounds: readonly LaunchRound[]): DensityStepSummary {
  const pss = rounds.flatMap((r) => r.pssBytes.filter((v): v is number => v !== null).map((v) => v / MIB));
  return {
    pssPerInstanceMiB: summarize(pss),
    availableDropPerInstanceMiB: summarize(rounds.map((r) => r.availableDropPerInstanceBytes).filter((v): v is number => v !== null).map((v) => v / MIB)),
    launchMs: summarize(rounds.flatMap((r) => r.launchMs)),
    rate: summarize(rounds.map((r) => r.rate).filter((v): v is number => v !== null)),
  };
}

/** Largest memory per instance a round measured (bytes): PSS mean or available drop, whichever is larger. */
export function perInstanceBytes(r: LaunchRound): number | null {
  const pss = r.pssBytes.filter((v): v is number => v !== null);
  const mean = pss.length > 0 ? pss.reduce((a, b) => a + b, 0) / pss.length : null;
  const candidates = [mean, r.availableDropPerInstanceBytes].filter((v): v is number => v !== null && v > 0);
  return candidates.length > 0 ? Math.max(...candidates) : null;
}

/**
 * Raises K through the planned steps on one backend, `rounds` launches per K, until the memory
 * budget, the time budget, the first failed launch, or the last step; records the K reached and why
 * it stopped. The PSS cross-check runs once, at the first step with K ≥ 4 (or the first step).
 */
export async function runDensity(ctx: ExperimentContext, info: BackendInfo, backend: Backend | undefined, steps: number[]): Promise<DensityResult> {
  const st = ctx.store.data.settings;
  const rounds = Math.max(1, st.densityRounds ?? 3);
  const timeBudget = st.densityTimeBudgetByBackend?.[info.name] ?? null;
  const r: DensityResult = {
    ...rowContext(info, ctx.env, st.densityResources), stepsPlanned: steps, roundsPerStep: rounds, budgetBytes: st.memBudgetBytes,
    timeBudgetSeconds: timeBudget, steps: [], kReached: 0, stopKind: 'skipped', stopReason: '', pssCheck: null,
  };
  ctx.store.data.density.push(r);
  if (!backend) {
    r.stopReason = 'skipped';
    ctx.store.save();
    return r;
  }
  const onHandle = (h: TaskHandle): void => {
    r.limitsEnforced ??= h.limits;
    if (Object.keys(h.attributes).length > 0) r.accelerator = acceleratorOf(info.descriptor, { ...info.attributes, ...h.attributes });
  };
  const t0 = performance.now();
  let perInstance: number | null = null;
  let secondsPerInstance: number | null = null;
  let stop: { kind: DensityResult['stopKind']; reason: string } | undefined;
  const checkAt = steps.find((k) => k >= 4) ?? steps[0];
  r.stopKind = 'interrupted';
  r.stopReason = 'not finished';
  for (const k of steps) {
    if (perInstance !== null) {
      const need = perInstance * k;
      const avail = await steadyAvailableMemory();
      if (need > st.memBudgetBytes || need > avail - DENSITY_HOST_RESERVE) {
        stop = {
          kind: 'memory-budget',
          reason: `K=${k} would need ~${Math.round(need / MIB)} MiB: over the budget of ${Math.round(st.memBudgetBytes / MIB)} MiB` +
            (need > avail - DENSITY_HOST_RESERVE ? ' or host available memory less 1 GiB' : ''),
        };
        break;
      }
    }
    if (timeBudget !== null && secondsPerInstance !== null) {
      const spent = (performance.now() - t0) / 1000;
      const need = secondsPerInstance * k * rounds;
      if (spent + need > timeBudget) {
        stop = { kind: 'time-budget', reason: `K=${k} would take ~${Math.round(need)} s (${rounds} launches): past this backend's density time budget of ${Math.round(timeBudget)} s (${Math.round(spent)} s spent)` };
        break;
      }
    }
    const step: DensityStep = { k, rounds: [], summary: summarizeStep([]) };
    r.steps.push(step);
    let failed: string | undefined;
    for (let i = 1; i <= rounds; i++) {
      const unit = `density:${info.name}:${k}:${i}`;
      ctx.progress.start(unit);
      const s0 = performance.now();
      const round1 = await launchRound(ctx, backend, k, 'parallel', st.densityResources, onHandle, `r${i}`);
      ctx.progress.done(unit);
      step.rounds.push(round1);
      step.summary = summarizeStep(step.rounds);
      secondsPerInstance = Math.max(secondsPerInstance ?? 0, (performance.now() - s0) / 1000 / k);
      if (k === checkAt && i === 1 && st.crossChecks !== false) {
        r.pssCheck = await pssCrossCheck(ctx, info, backend, Math.min(k, 4));
      }
      ctx.store.save();
      if (round1.ready < k) {
        failed = `launch failed at K=${k} (round ${i}, ${round1.ready} of ${k} ready): ${round1.error ?? 'unknown error'}`;
        break;
      }
      r.kReached = Math.max(r.kReached, k);
      perInstance = Math.max(perInstance ?? 0, perInstanceBytes(round1) ?? 0) || null;
    }
    if (failed) {
      stop = { kind: 'failure', reason: failed };
      break;
    }
  }
  ctx.progress.drop((u) => u.kind === `density:${info.name}`);
  r.stopKind = stop?.kind ?? 'last-step';
  r.stopReason = stop?.reason ?? `all ${steps.length} steps done (K up to ${steps[steps.length - 1]})`;
  r.status = r.steps.length === 0 ? 'failed' : 'done';
  if (stop) r.reason = stop.reason;
  ctx.store.save();
  return r;
}
