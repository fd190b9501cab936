import type { Health, LimitsEnforced } from '../backends/backend.js';
import type { BackendDescriptor } from '../backends/descriptor.js';
import type { Resources } from '../master/resources.js';
import type { Summary } from '../stats/summary.js';

/**
 * Schema tag of results.json; bumped when the format changes incompatibly.
 * 2: every backend carries its resolved descriptor (`BackendInfo.descriptor`); version-1 files are upgraded on read.
 */
export const RESULTS_SCHEMA = 'isolab-results/2';

/** The three experiments, in the order a full run does them. */
export const EXPERIMENTS = ['startup', 'density', 'throughput'] as const;

/** One experiment's name. */
export type ExperimentName = (typeof EXPERIMENTS)[number];

/** Where a run stands; results.json is rewritten with each change. */
export type RunStatus = 'running' | 'complete' | 'interrupted' | 'failed';

/** Where one configuration stands: done, stopped part way, failed, or never run (skipped). */
export type ConfigStatus = 'done' | 'partial' | 'failed' | 'skipped';

/** The machine a run was measured on, as collected at its start. */
export interface Environment {
  /** Host name. */
  hostname: string;
  /** CPU model, e.g. "AMD EPYC 7B13". */
  cpuModel: string;
  /** Logical CPUs. */
  cores: number;
  /** Physical cores, when known. */
  physicalCores: number | null;
  /** Total host memory (bytes). */
  memoryBytes: number;
  /** Kernel release. */
  kernel: string;
  /** Distribution and release, e.g. "Debian GNU/Linux 12". */
  os: string;
  /** True when the host itself is a virtual machine, when known. */
  virtual: boolean | null;
  /** Node version running the lab. */
  node: string;
  /** Git commit of the lab, when it runs from a git checkout. */
  gitCommit: string | null;
  /** True when the checkout had uncommitted changes. */
  gitDirty: boolean | null;
  /** ISO date the run started. */
  date: string;
  /** Host load average (1, 5, 15 min) when the run started: well above 0 means the host was busy with other work. */
  loadAverage: number[];
}

/** The part of the environment every result row repeats, so a row stands on its own. */
export interface EnvironmentRef {
  /** Host name. */
  hostname: string;
  /** CPU model and logical cores, e.g. "AMD EPYC ×2". */
  cpu: string;
  /** Kernel release. */
  kernel: string;
  /** Node version. */
  node: string;
  /** Git commit (short), or null. */
  commit: string | null;
}

/** A backend as a run found it: what it is, registered or not, healthy or not, and why. */
export interface BackendInfo {
  /** Backend name: process, docker, gvisor, vm, docker:crun. */
  name: string;
  /**
   * What the backend is (kind, boundary, engine and runtime with the versions its fingerprint
   * found, accelerator, estimates); null only for a name the build does not know at all.
   */
  descriptor: BackendDescriptor | null;
  /** True when the build registers the backend. */
  registered: boolean;
  /** Fingerprint health; `undetected` when not registered. */
  health: Health;
  /** Fingerprint description: the reason when not usable. */
  description: string;
  /** Fingerprint attributes (versions, features). */
  attributes: Record<string, string>;
  /** kvm or tcg for VMs, `none` for others, `unknown` when a VM backend did not say. */
  accelerator: string;
  /** True when experiments run on it. */
  usable: boolean;
}

/** What every result row carries besides its measurements. */
export interface RowContext {
  /** Backend name. */
  backend: string;
  /** kvm | tcg for VMs, `none` for the others. */
  accelerator: string;
  /** Resources requested for each instance. */
  limitsRequested: Resources;
  /** Limits the backend said it enforced, or null when no instance started. */
  limitsEnforced: LimitsEnforced | null;
  /** The machine. */
  environment: EnvironmentRef;
  /** Where the configuration stands. */
  status: ConfigStatus;
  /** Why it is not done (skipped, failed, stopped). */
  reason?: string;
}

/** Named start-up intervals (ms), each between two phases; see `STARTUP_METRICS`. */
export type StartupMetric =
  | 'offerToAccept'
  | 'acceptToStarted'
  | 'startedToReady'
  | 'readyToResult'
  | 'resultToExit'
  | 'exitToCleaned'
  | 'offerToReady'
  | 'total';

/** One start-up run: the phase clock times and the intervals between them. */
export interface StartupSample {
  /** Run number, from 1, warm-ups included. */
  index: number;
  /** A warm-up run: kept in the raw data, left out of the statistics. */
  warmup: boolean;
  /** The task finished with a result and every phase was recorded. */
  ok: boolean;
  /** Why not, when not ok. */
  error?: string;
  /** Clock times (ms since epoch) of every phase the agent and backend recorded. */
  phases: Record<string, number>;
  /** Intervals (ms); missing when a phase was not reached. */
  durations: Partial<Record<StartupMetric, number>>;
  /** Backend's id for the instance. */
  instanceId?: string;
}

/** The start-up experiment on one backend. */
export interface StartupResult extends RowContext {
  /** Measured runs asked for. */
  repeat: number;
  /** Warm-up runs asked for. */
  warmup: number;
  /** Every run, warm-ups included, in order. */
  samples: StartupSample[];
  /** Statistics of each interval over the measured (non-warm-up, ok) runs. */
  summary: Partial<Record<StartupMetric, Summary>>;
  /** Backend-specific phases: statistics of their offset from the offer (ms). */
  backendPhases: Record<string, Summary>;
}

/** One launch of K instances, serially or all at once. */
export interface LaunchRound {
  /** serial: one after another, each waited for; parallel: all started together. */
  mode: 'serial' | 'parallel';
  /** Instances asked for. */
  k: number;
  /** Instances whose executor became ready. */
  ready: number;
  /** Seconds from the first start call to the last executor ready; null when not all became ready. */
  seconds: number | null;
  /** Instances per second (k / seconds); null when not all became ready. */
  rate: number | null;
  /** Per instance: ms from its start call to its executor ready. */
  launchMs: number[];
  /** Per instance: PSS (bytes) summed over its host processes; null when not measurable. */
  pssBytes: (number | null)[];
  /** Per instance: number of host processes counted. */
  pids: number[];
  /** Per instance: memory as the backend's own stats report it (bytes). */
  statsMemoryBytes: (number | null)[];
  /** Host available memory before the launch (bytes). */
  availableBeforeBytes: number | null;
  /** Host available memory with all instances up (bytes). */
  availableAfterBytes: number | null;
  /** (before − after) / k (bytes). */
  availableDropPerInstanceBytes: number | null;
  /** Seconds to stop and destroy the instances. */
  teardownSeconds: number | null;
  /** First launch error, if any. */
  error?: string;
}

/** One density step: K instances, launched serially then in parallel. */
export interface DensityStep {
  /** Number of instances. */
  k: number;
  /** The serial launch (memory is measured here). */
  serial: LaunchRound;
  /** The parallel launch, or null when the serial one failed. */
  parallel: LaunchRound | null;
}

/** The density experiment on one backend. */
export interface DensityResult extends RowContext {
  /** The steps of K asked for. */
  stepsPlanned: number[];
  /** Memory budget for all instances of a step (bytes). */
  budgetBytes: number;
  /** Steps measured, in order. */
  steps: DensityStep[];
  /** Why K stopped rising: all steps done, budget, failure, interruption. */
  stopReason: string;
}

/** One sample of host CPU and memory. */
export interface UsageSample {
  /** Seconds from the start of the job. */
  t: number;
  /** Host CPU busy, % of all cores. */
  cpuPct: number;
  /** Host memory in use (total − available), bytes. */
  memUsedBytes: number;
}

/** One wordcount job. */
export interface ThroughputRun {
  /** Repetition number, from 1. */
  index: number;
  /** The job finished with counts. */
  ok: boolean;
  /** Why not. */
  error?: string;
  /** Seconds from framework registration to the last map result merged. */
  jobSeconds: number | null;
  /** Seconds from the first offer to the first executor ready. */
  startupSeconds: number | null;
  /** jobSeconds − startupSeconds: from the first executor ready to the last map result merged. */
  steadySeconds: number | null;
  /** Seconds from the first offer to the last executor ready. */
  allReadySeconds: number | null;
  /** Input MB (10^6 bytes) / jobSeconds. */
  mbPerSecond: number | null;
  /** Words counted. */
  words: number | null;
  /** sha256 of the canonical counts: equal across backends and P when all agree. */
  sha256: string | null;
  /** Map attempts, retries included. */
  attempts: number;
  /** Summed in-executor counting time of the finished map tasks (ms). */
  countMs: number | null;
  /** Host CPU and memory over the job. */
  timeline: UsageSample[];
}

/** The throughput experiment at one parallelism on one backend. */
export interface ThroughputResult extends RowContext {
  /** Number of map tasks. */
  parallelism: number;
  /** Input bytes. */
  bytes: number;
  /** Input description (a file name, or "generated corpus, seed 1"). */
  input: string;
  /** Every job, in order. */
  runs: ThroughputRun[];
  /** Statistics over the ok runs. */
  summary: {
    /** Job time (s). */
    jobSeconds: Summary;
    /** Start-up part (s). */
    startupSeconds: Summary;
    /** Steady-state part (s). */
    steadySeconds: Summary;
    /** MB/s. */
    mbPerSecond: Summary;
  };
  /** Mean of the host CPU % samples over the ok runs. */
  meanCpuPct: number | null;
  /** Highest host memory in use seen over the ok runs (bytes). */
  peakMemUsedBytes: number | null;
}

/** What sampling CPU and memory at ~10 Hz costs, measured with nothing else running. */
export interface SamplerCost {
  /** Requested sampling rate (Hz). */
  hz: number;
  /** Seconds sampled. */
  seconds: number;
  /** Samples taken. */
  samples: number;
  /** samples / seconds. */
  achievedHz: number;
  /** CPU time of the lab process per second while sampling (ms/s). */
  cpuMsPerSecondSampling: number;
  /** CPU time of the lab process per second while idle, not sampling (ms/s). */
  cpuMsPerSecondIdle: number;
  /** Difference: the sampler's own cost, % of one core. */
  costPctOfOneCore: number;
  /** Mean host CPU busy (% of all cores) the sampler saw with no job running: the host's background load. */
  hostCpuPctNoJob: number | null;
}

/** Settings of a run, as given on the command line (after defaults). */
export interface RunSettings {
  /** Experiments run, in order. */
  experiments: ExperimentName[];
  /** Backends asked for, in order. */
  backends: string[];
  /** Measured start-up runs per backend. */
  repeat: number;
  /** Warm-up start-up runs per backend. */
  warmup: number;
  /** Throughput jobs per (backend, P). */
  throughputRepeat: number;
  /** Parallelisms of the throughput experiment. */
  parallelism: number[];
  /** Throughput input bytes. */
  inputBytes: number;
  /** Throughput input, as described in the report. */
  input: string;
  /** Start-up input bytes (a tiny wordcount). */
  startupInputBytes: number;
  /** Density steps of K. */
  densitySteps: number[];
  /** Density steps per backend when they differ from `densitySteps` (a backend's descriptor's own steps, or given on the command line). */
  densityStepsByBackend: Record<string, number[]>;
  /** Memory budget of one density step (bytes). */
  memBudgetBytes: number;
  /** Sampling rate (Hz). */
  samplerHz: number;
  /** Resources of a start-up task. */
  startupResources: Resources;
  /** Resources of a density instance. */
  densityResources: Resources;
  /** Memory of a throughput task (MiB); cpus are cores / P, at most 1. */
  throughputMemMiB: number;
}

/** results.json: everything a run measured, raw and summarized; the report is rendered from it alone. */
export interface ResultsFile {
  /** `RESULTS_SCHEMA`. */
  schema: typeof RESULTS_SCHEMA;
  /** Where the run stands. */
  status: RunStatus;
  /** Why it is interrupted or failed. */
  statusReason?: string;
  /** ISO time the run started. */
  startedAt: string;
  /** ISO time of the last write. */
  updatedAt: string;
  /** Seconds from start to the last write. */
  elapsedSeconds: number;
  /** The machine. */
  environment: Environment;
  /** The run's settings. */
  settings: RunSettings;
  /** Every backend asked for, usable or not. */
  backends: BackendInfo[];
  /** Start-up results, one per backend. */
  startup: StartupResult[];
  /** Density results, one per backend. */
  density: DensityResult[];
  /** Throughput results, one per (backend, P). */
  throughput: ThroughputResult[];
  /** The sampler's own cost, when throughput ran. */
  sampler: SamplerCost | null;
}
