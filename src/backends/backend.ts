import type { Resources } from '../master/resources.js';
import type { ExecutorTask } from '../executor/protocol.js';
import type { BackendDescriptor } from './descriptor.js';

export type { BackendDescriptor } from './descriptor.js';

/** Fingerprint health, as Nomad reports it. */
export type Health = 'undetected' | 'unhealthy' | 'healthy';

/** What a backend found out about the host. Fingerprinting never throws. */
export interface Fingerprint {
  /** undetected: the engine is not there; unhealthy: it is there but does not work; healthy: usable. */
  health: Health;
  /** Why, in one line, when not healthy; a short description when healthy. */
  description: string;
  /** Versions and features, e.g. `docker.version`, `vm.accelerator`. */
  attributes: Record<string, string>;
}

/** Everything a backend needs to start one executor. */
export interface TaskSpec {
  /** Task id, unique in the session. */
  taskId: string;
  /** Resources the task was given; the backend enforces them where it can. */
  resources: Resources;
  /** What the executor runs; backend-neutral. */
  executor: ExecutorTask;
  /** Kill the task after this long (ms). */
  timeoutMs?: number;
  /**
   * A folder of the task's own (its sandbox): a backend that can recover tasks keeps the instance's
   * output and exit status there as files instead of pipes, so that a restarted agent finds them
   * (see `checkpoint` and `recover`). Backends without recovery ignore it.
   */
  outputDir?: string;
}

/** Which requested limits the backend actually enforces for a task. */
export interface LimitsEnforced {
  /** CPU limit enforced. */
  cpus: boolean;
  /** Memory limit enforced. */
  mem: boolean;
  /** How: `cgroup-v1`, `cgroup-v2`, `docker`, `vm`, or why not. */
  how: string;
}

/** Receives an executor's output and the backend's phases while a task runs. */
export interface TaskSink {
  /** One line the executor wrote on its output stream, without the line ending. */
  line(text: string): void;
  /**
   * A phase reached, with the clock time (ms since epoch, performance-based): the standard
   * `created`, `running` and `exited` at the points `src/backends/phases.ts` defines, or an extra
   * backend-specific mark. The first stamp of a name counts.
   */
  phase(name: string, at: number): void;
}

/** A started task; plain data plus the backend's own typed state `S`. */
export interface TaskHandle<S = unknown> {
  /** Task id. */
  taskId: string;
  /** Backend name (as selected: `gvisor`, `docker:crun`, ...). */
  backend: string;
  /** Backend's id for the instance: pid, container id, domain name. */
  instanceId: string;
  /** Limits as enforced. */
  limits: LimitsEnforced;
  /** Extra facts for results, e.g. the accelerator of a VM. */
  attributes: Record<string, string>;
  /** Backend-private state. */
  state: S;
}

/** How a task's instance ended. */
export interface ExitResult {
  /** Exit code, null when killed by a signal or unknown. */
  exitCode: number | null;
  /** Signal that ended it, if any. */
  signal?: string;
  /** Killed because it ran past its timeout. */
  timedOut: boolean;
  /** Killed because it ran out of memory, when the backend can tell. */
  oomKilled?: boolean;
  /** Extra words on what happened. */
  message?: string;
}

/** Resource usage of a running instance. */
export interface TaskStats {
  /** Resident memory of the instance (bytes), as the backend measures it. */
  memoryBytes?: number;
  /** CPU time used so far (ms). */
  cpuMs?: number;
  /** Host pids belonging to the instance, for PSS accounting (engine daemons excluded, sandbox and VM processes included). */
  pids?: number[];
}

/** The figures of a task's own resource accounting. */
export type UsageField = 'cpuSeconds' | 'peakMemoryBytes' | 'readyMemoryBytes' | 'readBytes' | 'blockReadBytes';

/** One reading of an instance's own counters while it runs (a per-task timeline point). */
export interface UsagePoint {
  /** Clock time of the reading (ms since epoch, the phases' clock). */
  at: number;
  /** CPU time used so far, user + system (s); null when unreadable. */
  cpuSeconds: number | null;
  /** Memory in use now (bytes): the cgroup's usage, or the VMM's resident set; null when unreadable. */
  memoryBytes: number | null;
}

/** The executor's own view of its usage from inside the instance (node's process.resourceUsage at its last line). */
export interface GuestUsage {
  /** User + system CPU time of the executor process as its kernel (host, Sentry or guest kernel) counts it (s). */
  cpuSeconds: number;
  /** Its peak resident set (bytes), as its kernel counts it. */
  peakMemoryBytes: number;
}

/**
 * A task's resource use, accounted by the isolation layer itself: the task's cgroup for a process,
 * the container's cgroup for docker and gvisor (sandbox and gofer included), the QEMU process for a
 * VM. Read by `Backend.usage` after the instance exited and before it is destroyed. A figure the
 * backend cannot measure is null, with the reason in `missing`.
 */
export interface TaskUsage {
  /** CPU time of the instance, user + system (s). */
  cpuSeconds: number | null;
  /** User part (s), when the source splits it. */
  cpuUserSeconds: number | null;
  /** System part (s), when the source splits it. */
  cpuSystemSeconds: number | null;
  /** Peak memory of the instance (bytes): the cgroup's high-water mark, or the VMM's peak resident set (VmHWM). */
  peakMemoryBytes: number | null;
  /** Memory of the instance when its executor said ready (bytes): the baseline before the task's work. */
  readyMemoryBytes: number | null;
  /** Bytes the instance's host processes read through system calls (rchar of /proc/<pid>/io), at the executor's last line. */
  readBytes: number | null;
  /** Bytes read from block devices by the instance's cgroup (page-cache misses only). */
  blockReadBytes: number | null;
  /** How each figure was measured, e.g. `cgroup-v1 cpuacct.usage`, `/proc/<qemu pid>/status VmHWM`. */
  sources: Partial<Record<UsageField, string>>;
  /** Why a figure is null. */
  missing: Partial<Record<UsageField, string>>;
  /**
   * For figures read by polling (a VM's QEMU process is gone once it exits): ms from the last
   * reading to `exited`, i.e. how much of the end the figure may miss; null when read after exit.
   */
  lagMs: number | null;
  /** The executor's own view from inside, when its last message carried one. */
  guest: GuestUsage | null;
  /** Readings while the task ran (about 10 per second; thinned to at most 600). */
  timeline: UsagePoint[];
}

/** A usage record for a backend that measures nothing, with the reason for every figure. */
export function unmeasuredUsage(reason: string): TaskUsage {
  return {
    cpuSeconds: null, cpuUserSeconds: null, cpuSystemSeconds: null, peakMemoryBytes: null, readyMemoryBytes: null, readBytes: null,
    blockReadBytes: null, sources: {}, lagMs: null, guest: null, timeline: [],
    missing: { cpuSeconds: reason, peakMemoryBytes: reason, readyMemoryBytes: reason, readBytes: reason, blockReadBytes: reason },
  };
}

/** The same kind of instance started by the plain, independent tool, for a cross-check of isolab's own figure. */
export interface PlainCommand {
  /** What kind of cross-check this is: `docker-run`, `plain-qemu`. */
  kind: 'docker-run' | 'plain-qemu';
  /** The command (argv[0] is the program): `docker run ...`, `qemu-system-x86_64 ...`. */
  argv: string[];
  /** Text of the stdout line that marks the point compared (the executor's ready line, the guest's init marker). */
  marker: string;
  /** The phase isolab stamps at that point; the cross-check compares requested → it with spawn → marker. */
  isolabPhase: string;
  /** What is compared, in words. */
  what: string;
  /** Ends the instance and removes what it left (a container, temp files); never throws. */
  stop: () => Promise<void>;
}

/** A resource left behind by some isolab session, found by the reaper. */
export interface OwnedResource {
  /** Backend that owns it. */
  backend: string;
  /** Kind: container, domain, cgroup, process, file. */
  kind: string;
  /** Id or path (what removal uses). */
  id: string;
  /** Human name, when the id is not one (a container's name beside its id). */
  name?: string;
  /** Session that created it, if known. */
  session?: string;
}

/**
 * A task driver, after Nomad's: one per isolation technology. `S` is the type of the state its
 * handles carry; callers that hold many kinds of backend use `Backend` (state `unknown`).
 */
export interface Backend<S = unknown> {
  /** Name used on the command line: process, docker, gvisor, vm, or a variant such as docker:crun. */
  readonly name: string;
  /** What the backend is: isolation kind, boundary, engine, runtime, estimates (versions unresolved). */
  readonly descriptor: BackendDescriptor;
  /** Looks at the host; never throws. */
  fingerprint(): Promise<Fingerprint>;
  /** Starts the executor; resolves once the instance is running. */
  start(spec: TaskSpec, sink: TaskSink, signal?: AbortSignal): Promise<TaskHandle<S>>;
  /** Resolves when the instance ends (on its own, by stop, or at its timeout). */
  wait(handle: TaskHandle<S>): Promise<ExitResult>;
  /** Asks the instance to stop, then kills it after timeoutMs. */
  stop(handle: TaskHandle<S>, timeoutMs: number, signal?: NodeJS.Signals): Promise<void>;
  /** Removes everything the task created; safe to call twice. */
  destroy(handle: TaskHandle<S>): Promise<void>;
  /** Current usage. */
  stats(handle: TaskHandle<S>): Promise<TaskStats>;
  /**
   * The task's own resource accounting (CPU-seconds, peak memory, bytes read, a per-task timeline),
   * from the isolation layer. Call after `wait` resolved and before `destroy`; never throws (what
   * cannot be measured is null with the reason).
   */
  usage(handle: TaskHandle<S>): Promise<TaskUsage>;
  /**
   * Optional: the command that starts the same instance with the plain tool and no isolab code in
   * between (`docker run`, a bare `qemu-system-x86_64` with the same kernel, initramfs, disk and
   * accelerator), for the cross-checks; undefined when there is no such tool for this backend.
   */
  plainCommand?(spec: TaskSpec): Promise<PlainCommand | undefined>;
  /**
   * Optional, with `recover`: what a restarted agent needs to find the instance again (plain JSON),
   * for a task started with `outputDir`; undefined when the task cannot be recovered.
   */
  checkpoint?(handle: TaskHandle<S>): unknown;
  /**
   * Optional (Nomad's RecoverTask): re-attaches to an instance a previous agent process started,
   * from its checkpoint: its output is read again from the start into `sink`, and wait/stop/destroy
   * work as for a task this process started. Rejects when the instance cannot be found.
   */
  recover?(checkpoint: unknown, spec: TaskSpec, sink: TaskSink): Promise<TaskHandle<S>>;
  /** Everything this backend finds that an isolab session created. */
  listOwned(): Promise<OwnedResource[]>;
  /** Removes one owned resource found by listOwned. */
  removeOwned(r: OwnedResource): Promise<void>;
}

/** How the registry knows a backend: its static descriptor and a lazy factory (heavy clients load on first use). */
export interface BackendEntry {
  /** Static descriptor (versions unresolved). */
  descriptor: BackendDescriptor;
  /** Makes the backend. */
  create(): Promise<Backend>;
  /**
   * For a backend with variants (`docker:crun`): the entry of variant `v`, or undefined when there
   * is no such variant.
   */
  variant?(v: string): BackendEntry | undefined;
  /** Variant names this host seems to offer (for doctor), e.g. `docker:crun`; never throws. */
  discoverVariants?(): Promise<string[]>;
}
