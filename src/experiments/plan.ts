import type { BackendDescriptor, Priors } from '../backends/descriptor.js';
import { startupPlanFor } from './startup.js';
import { throughputConfigs } from './throughput.js';
import type { BackendInfo, BudgetPlan, PlanItem, RunSettings } from './types.js';
import type { WorkUnit } from './progress.js';
import { densityStepsFor } from './settings.js';

/** Priors of a backend with no descriptor. */
export const FALLBACK_PRIORS: Priors = { startupSeconds: 2, launchSeconds: 1, countMBps: 5 };

/** Smallest warm start-up count the issue asks for: 20, or 8 for an emulated VM. */
export const MIN_WARM = { normal: 20, emulated: 8 } as const;

/** Fewest jobs per throughput configuration. */
export const MIN_JOBS = 5;

/** Cross-check runs per backend with a plain tool. */
export const CROSS_CHECK_RUNS = { normal: 5, emulated: 3 } as const;

/** Target P=1 job lengths (s) of the two fit sizes: ≥ 2 s, and ≥ 4 s for the larger (the brief's question). */
export const FIT_TARGET_SECONDS = { small: 2.5, large: 5 } as const;

/** Count time (s) of the two fit sizes on an emulated backend, whose fixed cost alone is over 2 s. */
export const EMULATED_COUNT_SECONDS = { small: 2, large: 6 } as const;

type B = Pick<BackendInfo, 'name' | 'descriptor' | 'accelerator'>;

/** True when the backend runs emulated here (a TCG VM): fewer repeats, smaller inputs, fewer instances. */
export function emulated(b: B): boolean {
  const a = b.descriptor?.accelerator;
  if (!a) return false;
  return a.emulatedValues.includes(b.accelerator) || (b.accelerator === 'unknown' && a.emulated !== false);
}

function priorsOf(d: BackendDescriptor | null | undefined): Priors {
  return d?.priors ?? FALLBACK_PRIORS;
}

/** Rounds bytes to a whole 0.1 MB, at least 0.1 MB. */
function mb(bytes: number): number {
  return Math.max(100_000, Math.round(bytes / 100_000) * 100_000);
}

/** The two fit sizes of a backend from its priors (bytes): each P=1 job ≥ ~2 s; the larger ≥ 4 s, or a clear count time when emulated. */
export function fitSizes(b: B): number[] {
  const p = priorsOf(b.descriptor);
  const rate = p.countMBps * 1e6;
  if (emulated(b)) return [mb(rate * EMULATED_COUNT_SECONDS.small), mb(rate * EMULATED_COUNT_SECONDS.large)];
  const count = (t: number): number => Math.max(0.5, t - p.startupSeconds);
  return [mb(rate * count(FIT_TARGET_SECONDS.small)), mb(rate * count(FIT_TARGET_SECONDS.large))];
}

/** Estimated seconds of one wordcount job (P map tasks on `cores`). */
function jobSeconds(p: Priors, bytes: number, parallelism: number, cores: number): number {
  const speedup = Math.min(parallelism, Math.max(1, cores));
  return p.startupSeconds * (1 + 0.3 * Math.max(0, parallelism - cores)) + bytes / 1e6 / p.countMBps / speedup + 0.5;
}

/**
 * Fills the per-backend settings a run did not give (warm repeats, launch series, density time
 * budget, throughput sizes and repeats) from each usable backend's descriptor, then fits them into
 * the time budget by trimming, in order: density steps, launch series, warm repeats down to the
 * issue's minimums, the emulated backend's larger input. Returns the plan (printed at the start).
 */
export function planRun(s: RunSettings, usable: readonly B[], o: { cores: number; given: Partial<Record<'repeat' | 'sizes' | 'series' | 'throughputRepeat', boolean>> }): BudgetPlan {
  s.repeatByBackend ??= {};
  s.seriesByBackend ??= {};
  s.throughputSizesByBackend ??= {};
  s.throughputParallelBytes ??= {};
  s.throughputRepeatByBackend ??= {};
  s.densityTimeBudgetByBackend ??= {};
  const notes: string[] = [];
  for (const b of usable) {
    const emu = emulated(b);
    if (!o.given.repeat && !(b.name in s.repeatByBackend)) s.repeatByBackend[b.name] = emu ? Math.max(MIN_WARM.emulated, Math.min(s.repeat, MIN_WARM.emulated)) : s.repeat;
    if (!o.given.series && !(b.name in s.seriesByBackend)) {
      const p = priorsOf(b.descriptor);
      s.seriesByBackend[b.name] = emu ? Math.max(2, Math.min(10, Math.floor(45 / Math.max(1, p.launchSeconds)))) : (s.seriesDefault ?? 10);
    }
    if (!o.given.sizes && !(b.name in s.throughputSizesByBackend)) {
      const sizes = fitSizes(b);
      s.throughputSizesByBackend[b.name] = sizes;
      s.throughputParallelBytes[b.name] = sizes[sizes.length - 1]!;
    }
    if (!o.given.throughputRepeat && !(b.name in s.throughputRepeatByBackend)) s.throughputRepeatByBackend[b.name] = emu ? MIN_JOBS : s.throughputRepeat;
  }
  const estimate = (): PlanItem[] => estimateItems(s, usable, o.cores);
  const total = (): number => estimate().reduce((a, x) => a + x.estimateSeconds, 0);
  const budget = s.timeBudgetSeconds ?? null;
  if (budget !== null) {
    const trims: [string, () => boolean][] = [
      ['density: an emulated backend gets a time budget of 90 s', () => setVmDensityBudget(s, usable, 90)],
      ['throughput: an emulated backend\'s larger input halved', () => shrinkEmulatedSize(s, usable)],
      ['throughput: an emulated backend compares P = 1, 2, 4 on its smaller input', () => emulatedParallelOnSmall(s, usable)],
      ['density: an emulated backend\'s time budget down to 60 s', () => setVmDensityBudget(s, usable, 60, true)],
      ['launch series: an emulated backend launches 2', () => shrinkSeries(s, usable.filter(emulated), 2)],
      ['launch series: 6 instances instead of 10', () => shrinkSeries(s, usable, 6)],
      ['start-up: warm runs down to the minimum (20, or 8 emulated)', () => shrinkWarm(s, usable)],
      ['density: K above 32 dropped (the budget does not reach 64)', () => trimSteps(s, usable, (b) => !emulated(b), 32)],
      ['density: K above 16 dropped', () => trimSteps(s, usable, () => true, 16)],
    ];
    for (const [what, apply] of trims) {
      if (total() <= budget) break;
      if (apply()) notes.push(`to fit ${Math.round(budget)} s: ${what}`);
    }
    if (total() > budget) notes.push(`the estimate (${Math.round(total())} s) is still over the budget: the run will take longer`);
  }
  notes.push('estimates come from each backend descriptor\'s priors (start-up, launch, count rate); the progress lines correct them as the run goes');
  const items = estimate();
  return { budgetSeconds: budget, estimateSeconds: Math.round(items.reduce((a, x) => a + x.estimateSeconds, 0)), items, notes };
}

function trimSteps(s: RunSettings, usable: readonly B[], which: (b: B) => boolean, maxK: number): boolean {
  let changed = false;
  for (const b of usable.filter(which)) {
    const steps = densityStepsFor(s, b.name);
    const kept = steps.filter((k) => k <= maxK);
    if (kept.length > 0 && kept.length < steps.length) {
      s.densityStepsByBackend[b.name] = kept;
      changed = true;
    }
  }
  return changed;
}

function emulatedParallelOnSmall(s: RunSettings, usable: readonly B[]): boolean {
  let changed = false;
  for (const b of usable.filter(emulated)) {
    const sizes = s.throughputSizesByBackend![b.name];
    if (sizes && sizes.length > 1 && s.throughputParallelBytes![b.name] !== sizes[0]) {
      s.throughputParallelBytes![b.name] = sizes[0]!;
      changed = true;
    }
  }
  return changed;
}

function setVmDensityBudget(s: RunSettings, usable: readonly B[], seconds: number, lower = false): boolean {
  let changed = false;
  for (const b of usable.filter(emulated)) {
    const now = s.densityTimeBudgetByBackend![b.name];
    if (now === undefined || (lower && now > seconds)) {
      s.densityTimeBudgetByBackend![b.name] = seconds;
      changed = true;
    }
  }
  return changed;
}

function shrinkSeries(s: RunSettings, usable: readonly B[], n: number): boolean {
  let changed = false;
  for (const b of usable) {
    if ((s.seriesByBackend![b.name] ?? 0) > n) {
      s.seriesByBackend![b.name] = n;
      changed = true;
    }
  }
  return changed;
}

function shrinkWarm(s: RunSettings, usable: readonly B[]): boolean {
  let changed = false;
  for (const b of usable) {
    const min = emulated(b) ? MIN_WARM.emulated : MIN_WARM.normal;
    if ((s.repeatByBackend![b.name] ?? s.repeat) > min) {
      s.repeatByBackend![b.name] = min;
      changed = true;
    }
  }
  return changed;
}

function shrinkEmulatedSize(s: RunSettings, usable: readonly B[]): boolean {
  let changed = false;
  for (const b of usable.filter(emulated)) {
    const sizes = s.throughputSizesByBackend![b.name];
    if (!sizes || sizes.length < 2) continue;
    const large = mb(sizes[sizes.length - 1]! / 2);
    if (large < sizes[0]! * 1.4) continue;
    sizes[sizes.length - 1] = large;
    s.throughputParallelBytes![b.name] = large;
    changed = true;
  }
  return changed;
}

/** The estimated seconds of every planned piece of work. */
export function estimateItems(s: RunSettings, usable: readonly B[], cores: number): PlanItem[] {
  const items: PlanItem[] = [];
  for (const exp of s.experiments) {
    for (const b of usable) {
      const p = priorsOf(b.descriptor);
      if (exp === 'startup') {
        const sp = startupPlanFor(s, b.name);
        items.push({ experiment: 'startup', backend: b.name, what: `${sp.before} ${sp.cold ? 'cold' : 'first'} + ${sp.warm} warm start-ups`, estimateSeconds: (sp.before + sp.warm) * p.startupSeconds });
        if (sp.series > 0) {
          const par = p.launchSeconds * Math.max(1, sp.series / Math.max(1, cores)) + 2;
          items.push({ experiment: 'startup', backend: b.name, what: `launch series: ${sp.series} serial, then ${sp.series} at once`, estimateSeconds: sp.series * p.launchSeconds + par + 4 });
        }
        if (s.crossChecks !== false && b.descriptor && !b.descriptor.baseline) {
          const n = emulated(b) ? CROSS_CHECK_RUNS.emulated : CROSS_CHECK_RUNS.normal;
          items.push({ experiment: 'cross-checks', backend: b.name, what: `${n} plain-tool starts`, estimateSeconds: n * p.startupSeconds * 0.8 });
        }
      } else if (exp === 'density') {
        const rounds = s.densityRounds ?? 3;
        const steps = densityStepsFor(s, b.name);
        let t = 0;
        for (const k of steps) t += rounds * (2 + p.launchSeconds * Math.max(1, k / Math.max(1, cores)) * 0.8 + 0.05 * k + 0.02 * k);
        const cap = s.densityTimeBudgetByBackend?.[b.name];
        items.push({ experiment: 'density', backend: b.name, what: `K = ${steps.join(', ')}, ${rounds} launches each${cap ? ` (at most ${cap} s)` : ''}`, estimateSeconds: cap ? Math.min(t, cap * 1.3) : t });
      } else {
        const jobs = s.throughputRepeatByBackend?.[b.name] ?? s.throughputRepeat;
        let t = 0;
        const configs = throughputConfigs(s, b.name);
        for (const c of configs) t += jobs * jobSeconds(p, c.bytes, c.parallelism, cores);
        const sizes = [...new Set(configs.map((c) => c.bytes))].map((x) => `${(x / 1e6).toFixed(1)} MB`).join(', ');
        items.push({ experiment: 'throughput', backend: b.name, what: `${configs.length} configurations × ${jobs} jobs (sizes ${sizes}; P = ${s.parallelism.join(', ')})`, estimateSeconds: t });
      }
    }
  }
  return items.map((x) => ({ ...x, estimateSeconds: Math.round(x.estimateSeconds) }));
}

/** The plan as the lines printed at the start of a run. */
export function planLines(p: BudgetPlan): string[] {
  const clock = (x: number): string => `${Math.floor(x / 60)}:${String(Math.round(x % 60)).padStart(2, '0')}`;
  return [
    `isolab: plan: ~${clock(p.estimateSeconds)} estimated${p.budgetSeconds !== null ? ` for a budget of ${clock(p.budgetSeconds)}` : ''}`,
    ...p.items.map((i) => `isolab: plan:   ${i.experiment} · ${i.backend} · ${i.what} · ~${clock(i.estimateSeconds)}`),
    ...p.notes.map((n) => `isolab: plan: note: ${n}`),
  ];
}

/** Progress units of a run, matching the ids the experiments start and finish. */
export function planUnits(s: RunSettings, usable: readonly B[], samplerCostSeconds: number): WorkUnit[] {
  const units: WorkUnit[] = [];
  for (const exp of s.experiments) {
    if (exp === 'startup') {
      for (const b of usable) {
        const p = priorsOf(b.descriptor);
        const sp = startupPlanFor(s, b.name);
        for (let i = 1; i <= sp.before + sp.warm; i++) {
          const what = i <= sp.before ? `${sp.cold ? 'cold' : 'first'} ${i}/${sp.before}` : `warm ${i - sp.before}/${sp.warm}`;
          units.push({ id: `startup:${b.name}:${i}`, kind: `startup:${b.name}`, label: `startup · ${b.name} · ${what}`, estimateS: p.startupSeconds });
        }
        if (sp.series > 0) {
          units.push({ id: `startup:${b.name}:series-serial`, kind: `series:${b.name}`, label: `startup · ${b.name} · ${sp.series} launched one after another`, estimateS: sp.series * p.launchSeconds });
          units.push({ id: `startup:${b.name}:series-parallel`, kind: `series:${b.name}`, label: `startup · ${b.name} · ${sp.series} launched at once`, estimateS: sp.series * p.launchSeconds * 0.7 });
        }
        units.push({ id: `xcheck:${b.name}`, kind: `xcheck:${b.name}`, label: `startup · ${b.name} · cross-check with the plain tool`, estimateS: 5 * p.startupSeconds * 0.8 });
      }
    } else if (exp === 'density') {
      for (const b of usable) {
        const p = priorsOf(b.descriptor);
        const rounds = s.densityRounds ?? 3;
        for (const k of densityStepsFor(s, b.name)) {
          for (let i = 1; i <= rounds; i++) {
            units.push({ id: `density:${b.name}:${k}:${i}`, kind: `density:${b.name}`, label: `density · ${b.name} · K=${k} launch ${i}/${rounds}`, estimateS: 2 + p.launchSeconds * k * 0.5 });
          }
        }
      }
    } else {
      if (usable.length > 0) units.push({ id: 'sampler', kind: 'sampler', label: 'throughput · measuring the sampler\'s own cost', estimateS: 2 * samplerCostSeconds });
      for (const b of usable) {
        const p = priorsOf(b.descriptor);
        const jobs = s.throughputRepeatByBackend?.[b.name] ?? s.throughputRepeat;
        for (const [ci, c] of throughputConfigs(s, b.name).entries()) {
          for (let i = 1; i <= jobs; i++) {
            units.push({
              id: `throughput:${b.name}:c${ci}:${i}`, kind: `throughput:${b.name}`,
              label: `throughput · ${b.name} · ${(c.bytes / 1e6).toFixed(1)} MB · P=${c.parallelism} · job ${i}/${jobs}`,
              estimateS: jobSeconds(p, c.bytes, c.parallelism, 2),
            });
          }
        }
      }
    }
  }
  return units;
}
