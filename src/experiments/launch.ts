import type { Backend, TaskHandle, TaskUsage } from '../backends/backend.js';
import { unmeasuredUsage } from '../backends/backend.js';
import { readyTimeoutMs } from '../backends/descriptor.js';
import { messageType } from '../backends/usage.js';
import type { Resources } from '../master/resources.js';
import { summarize } from '../stats/summary.js';
import type { LaunchInstance, LaunchSeries } from './types.js';
import { clockNow, errorMessage, round, withTimeout } from './util.js';

/** One instance started directly on a backend (no master), with its phases stamped as the agent would. */
export interface Launched {
  /** Its handle, once started. */
  handle?: TaskHandle;
  /** Its record. */
  instance: LaunchInstance;
}

/**
 * Starts one idle executor and waits for its ready line (or its early exit, or the ready timeout for
 * `concurrent` launches at once). `requested` is stamped before the start call, the backend stamps
 * `created` and `running`, `ready` is the ready line's arrival: the same points the agent uses.
 */
export async function launchOne(
  backend: Backend, taskId: string, index: number, resources: Resources, concurrent: number, signal: AbortSignal,
): Promise<Launched> {
  const phases: Record<string, number> = {};
  const instance: LaunchInstance = { index, phases, launchMs: null };
  const out: Launched = { instance };
  let onReady!: () => void;
  const ready = new Promise<void>((r) => (onReady = r));
  const sink = {
    line: (text: string) => {
      if (phases.ready === undefined && messageType(text) === 'ready') {
        phases.ready = clockNow();
        onReady();
      }
    },
    phase: (name: string, at: number) => {
      phases[name] ??= at;
    },
  };
  phases.requested = clockNow();
  try {
    out.handle = await backend.start({ taskId, resources, executor: { taskId, mode: 'idle' }, timeoutMs: 30 * 60_000 }, sink, signal);
    phases.running ??= clockNow();
    const exited = backend.wait(out.handle).then((e) => {
      throw new Error(`instance exited before it was ready (code ${e.exitCode}${e.message ? `: ${e.message}` : ''})`);
    });
    const limit = readyTimeoutMs(backend.descriptor, concurrent);
    await withTimeout(Promise.race([ready, exited]), limit, `executor not ready within ${limit / 1000} s`);
    instance.launchMs = round(phases.ready! - phases.requested, 3);
  } catch (err) {
    instance.error = errorMessage(err);
  }
  return out;
}

/** Launches `n` instances one after another (each waited for until ready) or all at once; stops at the first serial failure. */
export async function launchMany(
  backend: Backend, n: number, mode: 'serial' | 'parallel', id: (i: number) => string, resources: Resources, signal: AbortSignal,
): Promise<{ launched: Launched[]; seconds: number | null; error?: string }> {
  const t0 = performance.now();
  const launched: Launched[] = [];
  if (mode === 'serial') {
    for (let i = 1; i <= n; i++) {
      signal.throwIfAborted();
      const l = await launchOne(backend, id(i), i, resources, 1, signal);
      launched.push(l);
      if (l.instance.launchMs === null) break;
    }
  } else {
    launched.push(...(await Promise.all(Array.from({ length: n }, (_, i) => launchOne(backend, id(i + 1), i + 1, resources, n, signal)))));
  }
  const ok = launched.filter((l) => l.instance.launchMs !== null).length;
  const error = launched.find((l) => l.instance.error)?.instance.error;
  return { launched, seconds: ok === n ? round((performance.now() - t0) / 1000, 3) : null, ...(error ? { error } : {}) };
}

/**
 * Stops every launched instance, reads its accounting (after exit, before destroy), destroys it;
 * stamps `exited` and `cleaned`. Returns the seconds it took.
 */
export async function teardownMany(backend: Backend, launched: readonly Launched[]): Promise<number> {
  const t0 = performance.now();
  await Promise.all(
    launched.map(async (l) => {
      const h = l.handle;
      if (!h) return;
      try {
        await backend.stop(h, 5000);
      } catch {
        /* destroy below kills what stop could not */
      }
      l.instance.phases.exited ??= clockNow();
      let usage: TaskUsage;
      try {
        usage = await backend.usage(h);
      } catch (err) {
        usage = unmeasuredUsage(`usage read failed: ${errorMessage(err)}`);
      }
      l.instance.usage = { ...usage, timeline: [] };
      await backend.destroy(h).catch(() => {});
      l.instance.phases.cleaned = clockNow();
    }),
  );
  return round((performance.now() - t0) / 1000, 3);
}

/** Per-instance distributions of a launch series. */
export function seriesSummary(instances: readonly LaunchInstance[]): LaunchSeries['summary'] {
  const span = (a: string, b: string): number[] =>
    instances.filter((i) => i.launchMs !== null && i.phases[a] !== undefined && i.phases[b] !== undefined).map((i) => round(i.phases[b]! - i.phases[a]!, 3));
  return {
    requestedToReady: summarize(span('requested', 'ready')),
    requestedToRunning: summarize(span('requested', 'running')),
    runningToReady: summarize(span('running', 'ready')),
  };
}

/** A Firecracker-style launch series: `n` instances serially or at once, kept until all are up, then torn down. */
export async function launchSeries(
  backend: Backend, n: number, mode: 'serial' | 'parallel', resources: Resources, signal: AbortSignal,
): Promise<LaunchSeries> {
  const m = await launchMany(backend, n, mode, (i) => `series-${mode === 'serial' ? 's' : 'p'}${i}`, resources, signal);
  const teardownSeconds = await teardownMany(backend, m.launched);
  const instances = m.launched.map((l) => l.instance);
  const ready = instances.filter((i) => i.launchMs !== null).length;
  return {
    mode, n, ready, seconds: m.seconds, rate: m.seconds ? round(n / m.seconds, 3) : null, instances,
    summary: seriesSummary(instances), teardownSeconds, ...(m.error ? { error: m.error } : {}),
  };
}
