import type { Resources } from '../master/resources.js';
import type { ExperimentName, RunSettings } from './types.js';

/** MiB in bytes. */
export const MiB = 2 ** 20;

/** Defaults a command runs experiments with. */
export interface RunDefaults {
  /** Measured start-up runs per backend. */
  repeat: number;
  /** Warm-up start-up runs per backend. */
  warmup: number;
  /** Wordcount jobs per backend and parallelism. */
  throughputRepeat: number;
  /** Parallelisms. */
  parallelism: readonly number[];
  /** Generated throughput input (MB). */
  sizeMb: number;
  /** Start-up input (bytes). */
  startupInputBytes: number;
  /** Density steps (a backend whose descriptor has its own, e.g. a VM's, uses those). */
  densitySteps: readonly number[];
  /** Sampling rate (Hz). */
  samplerHz: number;
  /** Start-up task resources. */
  startupResources: Readonly<Resources>;
  /** Density instance resources. */
  densityResources: Readonly<Resources>;
  /** Throughput task memory (MiB). */
  throughputMemMiB: number;
  /** Largest default density budget (MiB). */
  maxBudgetMiB: number;
  /** Launches per density step. */
  densityRounds: number;
  /** Launch series size (an emulated VM gets fewer). */
  series: number;
  /** Time budget of the whole run (s), or null for none: the plan trims to fit it. */
  timeBudgetSeconds: number | null;
}

/** Default settings of `isolab experiment` (a thorough run). */
export const EXPERIMENT_DEFAULTS: RunDefaults = {
  repeat: 20,
  warmup: 1,
  throughputRepeat: 6,
  parallelism: [1, 2, 4],
  sizeMb: 16,
  startupInputBytes: 64 * 1024,
  densitySteps: [1, 2, 4, 8, 16, 32, 64],
  samplerHz: 10,
  startupResources: { cpus: 1, mem: 256 },
  densityResources: { cpus: 0.5, mem: 256 },
  throughputMemMiB: 512,
  maxBudgetMiB: 8192,
  densityRounds: 3,
  series: 10,
  timeBudgetSeconds: null,
};

/**
 * Defaults of `isolab lab`, chosen to finish within 20 minutes on a 2-core machine where VMs run
 * under TCG: the statistics' minimums (20 warm start-ups, 8 for an emulated VM; 6 jobs per
 * throughput configuration, 5 emulated; 3 launches per density step), density K = 1, 8, 64 (a VM's
 * own steps, within a time budget), and a time budget of 1100 s for the experiments (the rest of the
 * 20 minutes is setup, the build and the report) that the plan trims the run to, printing what it cut.
 */
export const LAB_DEFAULTS: RunDefaults = {
  ...EXPERIMENT_DEFAULTS,
  repeat: 20,
  warmup: 1,
  throughputRepeat: 6,
  sizeMb: 8,
  densitySteps: [1, 8, 64],
  timeBudgetSeconds: 1100,
};

/** The default memory budget of one density step: half the host's available memory, at most 8 GiB. */
export function defaultBudgetBytes(availableBytes: number): number {
  return Math.min(EXPERIMENT_DEFAULTS.maxBudgetMiB * MiB, Math.floor(availableBytes / 2));
}

/** Settings for a run, filling what is not given from `EXPERIMENT_DEFAULTS`. */
export function makeSettings(p: Partial<RunSettings> & { experiments: ExperimentName[]; backends: string[]; memBudgetBytes: number }): RunSettings {
  const d = EXPERIMENT_DEFAULTS;
  return {
    repeat: d.repeat,
    warmup: d.warmup,
    throughputRepeat: d.throughputRepeat,
    parallelism: [...d.parallelism],
    inputBytes: d.sizeMb * 1e6,
    input: `generated corpus, ${d.sizeMb} MB, seed 1`,
    startupInputBytes: d.startupInputBytes,
    densitySteps: [...d.densitySteps],
    densityStepsByBackend: {},
    samplerHz: d.samplerHz,
    startupResources: { ...d.startupResources },
    densityResources: { ...d.densityResources },
    throughputMemMiB: d.throughputMemMiB,
    dropCaches: false,
    coldRepeat: 5,
    densityRounds: d.densityRounds,
    seriesDefault: d.series,
    crossChecks: true,
    timeBudgetSeconds: d.timeBudgetSeconds,
    ...p,
  };
}

/** The density steps of one backend. */
export function densityStepsFor(s: RunSettings, backend: string): number[] {
  return s.densityStepsByBackend[backend] ?? s.densitySteps;
}
