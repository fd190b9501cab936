/*
 * results.json, schema 3 (issue 13, measurement validity). What changed from schema 2, field by field:
 * - Phases: one set for every backend, defined in src/backends/phases.ts (TASK_PHASES):
 *   offered, accepted, requested, created, running, ready, firstResult, workDone, exited, cleaned.
 *   `started` is now `running`. Backend-specific marks stay as extras. Start-up intervals are renamed
 *   after their ends (`requestedToReady`, `workDoneToExited`, ...; see STARTUP_METRICS, which says which
 *   intervals compare across backends). The agent reports a task's result at `workDone`; `exited` and
 *   `cleaned` come after, so job times exclude teardown.
 * - Summary (src/stats/summary.ts): the median's CI is by order statistics (`ciMethod`, `ciCoverage`),
 *   none and no p95 below n = 6.
 * - TaskRecord: every task of every experiment carries its phases and `usage` (TaskUsage from the
 *   isolation layer: CPU-seconds, peak memory, memory at ready, bytes read, per-task timeline, the
 *   guest's own view) and `derived` (CPU-seconds per MB, memory above the ready baseline, job and
 *   teardown times). StartupSample.task, ThroughputRun.tasks, LaunchInstance.usage.
 * - StartupSample.start: `cold` (page cache dropped before it, --drop-caches), `first` (the first run of
 *   a backend in this run; `firstAfterImageBuild` says whether it is the first since the image was
 *   built: the nearest thing to a cold start without dropping caches) or `warm`. StartupResult.cold
 *   summarizes the cold (or first) runs apart from the warm ones (`summary`).
 * - StartupResult.series: Firecracker-style launch series, N instances one after another then N at once,
 *   with per-instance phases and distributions.
 * - Density: `DensityStep.rounds` (≥ 3 launches of K, each with per-instance values) replaces
 *   serial/parallel; `DensityStep.summary` pools them; DensityResult.kReached and stopKind say how far
 *   K climbed and why it stopped.
 * - Throughput: a result per (backend, P, input size) (`bytes`, `role`); per-run CPU-seconds, CPU-s/MB,
 *   peak memory and memory above baseline; `speedup` (vs P=1, same size, stated only when intervals do
 *   not overlap); `ResultsFile.fits`: time = a + b·bytes per backend (a = fixed cost, 1/b = MB/s).
 * - ResultsFile.crossChecks: isolab's figures against independent tools (docker run timed outside,
 *   plain qemu-system-x86_64 boot, PSS read by another program) with ratios.
 * - ResultsFile.plan: the time budget plan printed at the start.
 * Schema-2 files are upgraded on read (results-store.ts): phases renamed, start-up statistics
 * recomputed from the raw samples, usage marked missing ("not recorded before schema 3").
 */
import type { ExitResult, Health, LimitsEnforced, TaskUsage } from '../backends/backend.js';
import type { BackendDescriptor } from '../backends/descriptor.js';
import type { Resources } from '../master/resources.js';
import type { LinearFit } from '../stats/linear-fit.js';
import type { Interval } from '../stats/bootstrap.js';
import type { RatioEstimate } from '../stats/compare.js';
import type { Summary } from '../stats/summary.js';

export type { TaskPhase } from '../backends/phases.js';
export { PHASE_DEFINITIONS, TASK_PHASES } from '../backends/phases.js';
export type { GuestUsage, TaskUsage, UsagePoint } from '../backends/backend.js';

/**
 * Schema tag of results.json; bumped when the format changes incompatibly.
 * 2: every backend carries its resolved descriptor (`BackendInfo.descriptor`); version-1 files are upgraded on read.
 * 3: one set of phases, per-task usage, order-statistic intervals, cold/warm, launch series, fits, cross-checks (above).
 */
export const RESULTS_SCHEMA = 'isolab-results/3';

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

/** Named start-up intervals (ms), each between two phases; see `STARTUP_METRICS` in intervals.ts. */
export type StartupMetric =
  | 'offerToRequested'
  | 'requestedToCreated'
  | 'createdToRunning'
  | 'runningToReady'
  | 'readyToFirstResult'
  | 'firstResultToWorkDone'
  | 'workDoneToExited'
  | 'exitedToCleaned'
  | 'requestedToReady'
  | 'offerToReady'
  | 'requestedToWorkDone'
  | 'total';

/** Figures derived from a task's phases and usage. */
export interface TaskDerived {
  /** Input bytes the task was given (its byte range); 0 for an idle instance. */
  inputBytes: number;
  /** cpuSeconds / (inputBytes / 10^6); null without CPU time or input. */
  cpuSecondsPerMB: number | null;
  /** peakMemoryBytes − readyMemoryBytes: what the work added to the idle instance; null when either is missing. */
  memoryAboveBaselineBytes: number | null;
  /** requested → workDone (ms): the task's own time, teardown excluded. */
  taskMs: number | null;
  /** workDone → cleaned (ms): the teardown, accounted apart from job time. */
  teardownMs: number | null;
}

/** One task as results.json keeps it, in every experiment: phases, exit, the isolation layer's accounting and derived figures. */
export interface TaskRecord {
  /** Task id. */
  taskId: string;
  /** Backend's id for the instance. */
  instanceId?: string;
  /** Clock times (ms since epoch) of every phase reached: the standard ones and the backend's extras. */
  phases: Record<string, number>;
  /** How the instance ended, when known. */
  exit?: ExitResult;
  /** The isolation layer's accounting; null when the task never had an instance. */
  usage: TaskUsage | null;
  /** Derived figures. */
  derived: TaskDerived;
  /** Error of the task (executor, backend or cleanup), if any. */
  error?: string;
}

/** How a start-up run relates to the page cache. */
export type StartKind = 'cold' | 'first' | 'warm';

/** One start-up run: the phase clock times and the intervals between them. */
export interface StartupSample {
  /** Run number, from 1, in order. */
  index: number;
  /**
   * `cold`: the page cache was dropped just before (--drop-caches); `first`: the first run of this
   * backend in this run (no cache dropped); `warm`: every other run.
   */
  start: StartKind;
  /** For a `first` run: true when it is the first run on this host since the guest image was built. */
  firstAfterImageBuild?: boolean;
  /** Left out of the warm statistics (cold and first runs); kept in the raw data and in `StartupResult.cold`. */
  warmup: boolean;
  /** The task finished with a result and every standard phase was recorded. */
  ok: boolean;
  /** Why not, when not ok. */
  error?: string;
  /** Clock times (ms since epoch) of every phase the agent and backend recorded. */
  phases: Record<string, number>;
  /** Intervals (ms); missing when a phase was not reached. */
  durations: Partial<Record<StartupMetric, number>>;
  /** Backend's id for the instance. */
  instanceId?: string;
  /** The task's accounting. */
  task?: TaskRecord;
}

/** Statistics of the per-task accounting over some runs. */
export interface UsageSummary {
  /** CPU-seconds of the instance. */
  cpuSeconds: Summary;
  /** Peak memory of the instance (bytes). */
  peakMemoryBytes: Summary;
  /** Memory at ready (bytes). */
  readyMemoryBytes: Summary;
  /** Peak − ready (bytes). */
  memoryAboveBaselineBytes: Summary;
  /** CPU-seconds per input MB (tasks with input). */
  cpuSecondsPerMB: Summary;
  /** Bytes read by the instance's host processes. */
  readBytes: Summary;
  /** The executor's own view: CPU-seconds. */
  guestCpuSeconds: Summary;
  /** The executor's own view: peak resident memory (bytes). */
  guestPeakMemoryBytes: Summary;
}

/** The cold (or nearest-to-cold) runs of one backend, apart from the warm ones. */
export interface ColdStarts {
  /**
   * `dropped-caches`: every cold run had the page cache dropped before it; `first-after-image-build`:
   * no cache was dropped, and the one cold figure is the first run since the image was built;
   * `first-of-run`: no cache dropped and the image was used before: the first run of this run only.
   */
  kind: 'dropped-caches' | 'first-after-image-build' | 'first-of-run';
  /** Statistics of each interval over those runs (one run: n = 1, no spread). */
  summary: Partial<Record<StartupMetric, Summary>>;
}

/** One instance of a launch series or density round. */
export interface LaunchInstance {
  /** Index in its round, from 1. */
  index: number;
  /** Phases the backend and the launcher stamped (requested, created, running, ready, and the backend's extras). */
  phases: Record<string, number>;
  /** requested → ready (ms); null when it never became ready. */
  launchMs: number | null;
  /** The instance's accounting (idle executor), read before it was destroyed. */
  usage?: TaskUsage | null;
  /** Why it did not become ready. */
  error?: string;
}

/** A Firecracker-style launch series: N instances one after another (each waited for until ready), or N at once. */
export interface LaunchSeries {
  /** serial or parallel. */
  mode: 'serial' | 'parallel';
  /** Instances asked for. */
  n: number;
  /** Instances whose executor became ready. */
  ready: number;
  /** Seconds from the first start call to the last executor ready; null when not all became ready. */
  seconds: number | null;
  /** Instances per second (n / seconds); null when not all became ready. */
  rate: number | null;
  /** Every instance. */
  instances: LaunchInstance[];
  /** Per-instance distributions: requestedToReady, requestedToRunning, runningToReady (ms). */
  summary: Partial<Record<'requestedToReady' | 'requestedToRunning' | 'runningToReady', Summary>>;
  /** Seconds to stop and destroy the instances. */
  teardownSeconds: number | null;
  /** First error, if any. */
  error?: string;
}

/** The start-up experiment on one backend. */
export interface StartupResult extends RowContext {
  /** Warm runs asked for. */
  repeat: number;
  /** Runs before the warm ones (cold or first), asked for. */
  warmup: number;
  /** Every run, in order. */
  samples: StartupSample[];
  /** Statistics of each interval over the warm, ok runs. */
  summary: Partial<Record<StartupMetric, Summary>>;
  /** The cold or first runs, summarized apart; null when there were none. */
  cold?: ColdStarts | null;
  /** Per-task accounting over the warm, ok runs. */
  usage?: UsageSummary;
  /** Backend-specific phases: statistics of their offset from the offer (ms), warm runs. */
  backendPhases: Record<string, Summary>;
  /** Launch series: serial then parallel (empty when not run). */
  series?: LaunchSeries[];
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
  /** Per instance: CPU-seconds of the idle instance from its start to its destruction (isolation layer); null when unmeasured. */
  cpuSeconds?: (number | null)[];
  /** Per instance: peak memory of the instance (bytes, isolation layer); null when unmeasured. */
  peakMemoryBytes?: (number | null)[];
  /** First launch error, if any. */
  error?: string;
}

/** Statistics of one density step, pooled over its rounds. */
export interface DensityStepSummary {
  /** PSS per instance (MiB), every instance of every round. */
  pssPerInstanceMiB: Summary;
  /** Host available-memory drop per instance (MiB), one value per round. */
  availableDropPerInstanceMiB: Summary;
  /** Launch → executor ready per instance (ms), every instance of every round. */
  launchMs: Summary;
  /** Launch rate (instances/s), one value per round. */
  rate: Summary;
}

/** One density step: K instances, launched `rounds` times (all at once), each round measured then torn down. */
export interface DensityStep {
  /** Number of instances. */
  k: number;
  /** The launches of K, in order (≥ 3 unless one failed or the run stopped). */
  rounds: LaunchRound[];
  /** Pooled statistics. */
  summary: DensityStepSummary;
}

/** Why density stopped climbing. */
export type DensityStop = 'memory-budget' | 'time-budget' | 'failure' | 'last-step' | 'interrupted' | 'skipped';

/** The density experiment on one backend. */
export interface DensityResult extends RowContext {
  /** The steps of K asked for. */
  stepsPlanned: number[];
  /** Launches per K asked for. */
  roundsPerStep: number;
  /** Memory budget for all instances of a step (bytes). */
  budgetBytes: number;
  /** Time budget of this backend's density experiment (s), or null for none. */
  timeBudgetSeconds: number | null;
  /** Steps measured, in order. */
  steps: DensityStep[];
  /** Largest K all of whose instances became ready in at least one round; 0 when none. */
  kReached: number;
  /** Why K stopped rising, as a kind. */
  stopKind: DensityStop;
  /** Why K stopped rising, in words: all steps done, budget, failure, interruption. */
  stopReason: string;
  /** PSS read by isolab against PSS read by an independent program, at one step. */
  pssCheck?: CrossCheck | null;
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
  /** Input bytes of this job. */
  bytes?: number;
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
  /** Each finished map task's record (phases, isolation-layer accounting). */
  tasks?: TaskRecord[];
  /** CPU-seconds of all map instances together (null when any is unmeasured). */
  cpuSeconds?: number | null;
  /** cpuSeconds / input MB. */
  cpuSecondsPerMB?: number | null;
  /** Largest peak memory of one map instance (bytes). */
  peakMemoryBytes?: number | null;
  /** Largest (peak − ready) of one map instance (bytes). */
  memoryAboveBaselineBytes?: number | null;
  /** Host memory in use: highest sample minus the first one (bytes), the host-wide view. */
  hostMemAboveBaselineBytes?: number | null;
  /** Seconds from the job's end (last result merged) to every instance cleaned: teardown, not in jobSeconds. */
  teardownSeconds?: number | null;
}

/** What a throughput configuration is for. */
export type ThroughputRole = 'fit' | 'parallel' | 'both';

/** The throughput experiment at one parallelism and one input size on one backend. */
export interface ThroughputResult extends RowContext {
  /** Number of map tasks. */
  parallelism: number;
  /** Input bytes. */
  bytes: number;
  /** `fit`: a P=1 size of the fixed-cost fit; `parallel`: the common size of the P comparison; `both`. */
  role?: ThroughputRole;
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
    /** CPU-seconds of all map instances per job. */
    cpuSeconds?: Summary;
    /** CPU-seconds per input MB. */
    cpuSecondsPerMB?: Summary;
    /** Largest peak memory of one map instance (bytes). */
    peakMemoryBytes?: Summary;
    /** Largest memory above the ready baseline of one map instance (bytes). */
    memoryAboveBaselineBytes?: Summary;
    /** Host memory above its first sample (bytes). */
    hostMemAboveBaselineBytes?: Summary;
    /** Teardown after the job (s). */
    teardownSeconds?: Summary;
  };
  /** Speed-up against P=1 at the same size on the same backend (null for P=1 or without a P=1 row). */
  speedup?: RatioEstimate | null;
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

/** time = a + b·bytes over one backend's P=1 jobs at its sizes. */
export interface FixedCostFit {
  /** Backend. */
  backend: string;
  /** kvm | tcg | none. */
  accelerator: string;
  /** Input sizes (bytes) used. */
  sizes: number[];
  /** Points (bytes, job seconds), one per ok job. */
  points: { bytes: number; seconds: number }[];
  /** The least-squares fit, or null (fewer than 2 sizes measured). */
  fit: LinearFit | null;
  /** a: the fixed cost (s): start-up, reduce, per-job overheads. */
  fixedSeconds: number | null;
  /** t interval of a. */
  fixedInterval: Interval | null;
  /** 1/b in MB/s: the steady-state rate. */
  mbPerSecond: number | null;
  /** Interval of 1/b (from b's t interval). */
  mbPerSecondInterval: Interval | null;
  /** Pairs-bootstrap intervals of a (s) and 1/b (MB/s), labelled bootstrap. */
  bootstrap: { fixedSeconds: Interval; mbPerSecond: Interval | null } | null;
  /** Why there is no fit, or a caveat. */
  note?: string;
}

/** One figure of isolab's checked against an independent tool. */
export interface CrossCheck {
  /** `docker-run`, `plain-qemu`, `pss`. */
  kind: 'docker-run' | 'plain-qemu' | 'pss';
  /** Backend. */
  backend: string;
  /** kvm | tcg | none. */
  accelerator: string;
  /** What is compared, in words. */
  what: string;
  /** The independent tool's command (as run). */
  tool: string;
  /** isolab's figure: its metric name and unit. */
  isolabMetric: string;
  /** Unit of both figures. */
  unit: string;
  /** isolab's values. */
  isolab: Summary;
  /** The tool's values. */
  external: Summary;
  /** median(isolab) / median(external). */
  ratio: number | null;
  /** done, skipped or failed. */
  status: 'done' | 'skipped' | 'failed';
  /** Why skipped or failed. */
  reason?: string;
}

/** One line of the time budget plan. */
export interface PlanItem {
  /** Experiment. */
  experiment: ExperimentName | 'cross-checks';
  /** Backend. */
  backend: string;
  /** What runs, e.g. `20 warm + 1 first start-ups`. */
  what: string;
  /** Estimated seconds (from the descriptor's priors). */
  estimateSeconds: number;
}

/** The time budget plan, printed at the start of a run and kept in results.json. */
export interface BudgetPlan {
  /** The budget (s), or null for none. */
  budgetSeconds: number | null;
  /** Sum of the estimates (s). */
  estimateSeconds: number;
  /** Every planned piece. */
  items: PlanItem[];
  /** What was cut to fit, and what the estimates rest on. */
  notes: string[];
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
  /** Drop the page cache before each cold start (--drop-caches, ISOLAB_DROP_CACHES=1). */
  dropCaches?: boolean;
  /** Cold start-ups per backend when dropping caches (otherwise one `first` run). */
  coldRepeat?: number;
  /** Warm start-ups per backend when they differ from `repeat` (a TCG VM's fewer). */
  repeatByBackend?: Record<string, number>;
  /** Launch series size per backend (0: no series). */
  seriesByBackend?: Record<string, number>;
  /** Launch series size of a backend that is not emulated, unless given per backend (default 10). */
  seriesDefault?: number;
  /** Throughput jobs per configuration, per backend (an emulated VM's fewer). */
  throughputRepeatByBackend?: Record<string, number>;
  /** Launches per density step. */
  densityRounds?: number;
  /** Time budget of each backend's density experiment (s). */
  densityTimeBudgetByBackend?: Record<string, number>;
  /** Throughput input sizes per backend (bytes): P=1 at each for the fit; the P comparison at `throughputParallelBytes`. */
  throughputSizesByBackend?: Record<string, number[]>;
  /** Input size (bytes) of the P = 1, 2, 4 comparison, per backend. */
  throughputParallelBytes?: Record<string, number>;
  /** Run the cross-checks against independent tools. */
  crossChecks?: boolean;
  /** The run's time budget (s), or null. */
  timeBudgetSeconds?: number | null;
}

/** The settings the start-up plan reads. */
export type StartupSettingsView = Pick<RunSettings, 'repeat' | 'warmup' | 'dropCaches' | 'coldRepeat' | 'repeatByBackend' | 'seriesByBackend'>;

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
  /** Fixed-cost fits, one per backend with throughput at ≥ 2 sizes. */
  fits?: FixedCostFit[];
  /** Cross-checks against independent tools. */
  crossChecks?: CrossCheck[];
  /** The time budget plan. */
  plan?: BudgetPlan | null;
}
