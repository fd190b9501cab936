import type { Backend, TaskHandle } from '../backends/backend.js';
import { decodeMessage } from '../executor/protocol.js';
import type { Resources } from '../master/resources.js';
import { acceleratorOf, readyTimeoutMs } from '../backends/descriptor.js';
import { rowContext, type ExperimentContext } from './context.js';
import { instancePss, steadyAvailableMemory } from './memory.js';
import type { BackendInfo, DensityResult, DensityStep, LaunchRound } from './types.js';
import { clockNow, errorMessage, round, sleep, withTimeout } from './util.js';

/** Host memory always left free, whatever the budget says (bytes). */
export const DENSITY_HOST_RESERVE = 1024 ** 3;

/** Milliseconds to let instances settle before their memory is read. */
const SETTLE_MS = 1000;

interface Launched {
  handle: TaskHandle;
  launchMs: number;
}

async function launchOne(
  backend: Backend, taskId: string, resources: Resources, concurrent: number, signal: AbortSignal, handles: TaskHandle[],
): Promise<Launched> {
  let onReady!: () => void;
  const ready = new Promise<void>((r) => (onReady = r));
  const t0 = clockNow();
  let readyAt = 0;
  const sink = {
    line: (text: string) => {
      if (readyAt === 0 && decodeMessage(text)?.type === 'ready') {
        readyAt = clockNow();
        onReady();
      }
    },
    phase: () => {},
  };
  const handle = await backend.start(
    { taskId, resources, executor: { taskId, mode: 'idle' }, timeoutMs: 30 * 60_000 }, sink, signal,
  );
  handles.push(handle);
  const exited = backend.wait(handle).then((e) => {
    throw new Error(`instance exited before it was ready (code ${e.exitCode}${e.message ? `: ${e.message}` : ''})`);
  });
  const limit = readyTimeoutMs(backend.descriptor, concurrent);
  await withTimeout(Promise.race([ready, exited]), limit, `executor not ready within ${limit / 1000} s`);
  return { handle, launchMs: round(readyAt - t0, 3) };
}

async function teardown(backend: Backend, handles: TaskHandle[]): Promise<number> {
  const t0 = performance.now();
  await Promise.all(
    handles.map(async (h) => {
      try {
        await backend.stop(h, 5000);
      } catch {
        /* destroy below kills what stop could not */
      }
      await backend.destroy(h).catch(() => {});
    }),
  );
  return round((performance.now() - t0) / 1000, 3);
}

/** Launches k idle executors (one after another, or all at once), measures their memory, then stops and destroys them all. */
export async function launchRound(
  ctx: ExperimentContext, backend: Backend, k: number, mode: 'serial' | 'parallel', resources: Resources,
  onHandle?: (h: TaskHandle) => void,
): Promise<LaunchRound> {
  const round0: LaunchRound = {
    mode, k, ready: 0, seconds: null, rate: null, launchMs: [], pssBytes: [], pids: [], statsMemoryBytes: [],
    availableBeforeBytes: null, availableAfterBytes: null, availableDropPerInstanceBytes: null, teardownSeconds: null,
  };
  const handles: TaskHandle[] = [];
  await sleep(SETTLE_MS / 2, ctx.signal);
  round0.availableBeforeBytes = await steadyAvailableMemory();
  const t0 = performance.now();
  const id = (i: number): string => `density-k${k}-${mode === 'serial' ? 's' : 'p'}${i}`;
  try {
    if (mode === 'serial') {
      for (let i = 1; i <= k; i++) {
        const l = await launchOne(backend, id(i), resources, 1, ctx.signal, handles);
        round0.launchMs.push(l.launchMs);
        round0.ready++;
      }
    } else {
      const all = await Promise.allSettled(
        Array.from({ length: k }, (_, i) => launchOne(backend, id(i + 1), resources, k, ctx.signal, handles)),
      );
      for (const a of all) {
        if (a.status === 'fulfilled') {
          round0.launchMs.push(a.value.launchMs);
          round0.ready++;
        } else round0.error ??= errorMessage(a.reason);
      }
    }
    if (round0.ready === k) {
      const s = (performance.now() - t0) / 1000;
      round0.seconds = round(s, 3);
      round0.rate = round(k / s, 3);
    }
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
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    round0.error ??= errorMessage(err);
  } finally {
    round0.teardownSeconds = await teardown(backend, handles);
  }
  return round0;
}

/** Largest memory per instance a round measured (bytes): PSS mean or available drop, whichever is larger. */
export function perInstanceBytes(r: LaunchRound): number | null {
  const pss = r.pssBytes.filter((v): v is number => v !== null);
  const mean = pss.length > 0 ? pss.reduce((a, b) => a + b, 0) / pss.length : null;
  const candidates = [mean, r.availableDropPerInstanceBytes].filter((v): v is number => v !== null && v > 0);
  return candidates.length > 0 ? Math.max(...candidates) : null;
}

/** Raises K through the planned steps on one backend until the budget, a failure, or the last step. */
export async function runDensity(ctx: ExperimentContext, info: BackendInfo, backend: Backend | undefined, steps: number[]): Promise<DensityResult> {
  const st = ctx.store.data.settings;
  const r: DensityResult = {
    ...rowContext(info, ctx.env, st.densityResources), stepsPlanned: steps, budgetBytes: st.memBudgetBytes, steps: [], stopReason: '',
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
  let perInstance: number | null = null;
  let stop: string | undefined;
  r.stopReason = 'not finished';
  for (const k of steps) {
    if (perInstance !== null) {
      const need = perInstance * k;
      const avail = await steadyAvailableMemory();
      if (need > st.memBudgetBytes || need > avail - DENSITY_HOST_RESERVE) {
        stop = `K=${k} would need ~${Math.round(need / 2 ** 20)} MiB: over the budget of ${Math.round(st.memBudgetBytes / 2 ** 20)} MiB` +
          (need > avail - DENSITY_HOST_RESERVE ? ` or host available memory less 1 GiB` : '');
        break;
      }
    }
    const step: DensityStep = { k, serial: undefined as never, parallel: null };
    const unitS = `density:${info.name}:${k}:serial`;
    ctx.progress.start(unitS);
    step.serial = await launchRound(ctx, backend, k, 'serial', st.densityResources, onHandle);
    ctx.progress.done(unitS);
    r.steps.push(step);
    if (step.serial.ready < k) {
      stop = `launch failed at K=${k} (serial, ${step.serial.ready} ready): ${step.serial.error ?? 'unknown error'}`;
      ctx.store.save();
      break;
    }
    ctx.store.save();
    const unitP = `density:${info.name}:${k}:parallel`;
    ctx.progress.start(unitP);
    step.parallel = await launchRound(ctx, backend, k, 'parallel', st.densityResources, onHandle);
    ctx.progress.done(unitP);
    ctx.store.save();
    if (step.parallel.ready < k) {
      stop = `launch failed at K=${k} (parallel, ${step.parallel.ready} ready): ${step.parallel.error ?? 'unknown error'}`;
      break;
    }
    perInstance = Math.max(perInstance ?? 0, perInstanceBytes(step.serial) ?? 0, perInstanceBytes(step.parallel) ?? 0) || null;
  }
  ctx.progress.drop((u) => u.kind === `density:${info.name}`);
  r.stopReason = stop ?? `all ${steps.length} steps done`;
  r.status = r.steps.length === 0 ? 'failed' : 'done';
  if (stop) r.reason = stop;
  ctx.store.save();
  return r;
}
