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

/** Receives an executor's output and the backend's start-up phases while a task runs. */
export interface TaskSink {
  /** One line the executor wrote on its output stream, without the line ending. */
  line(text: string): void;
  /** A start-up phase reached, with the clock time (ms since epoch, performance-based). */
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
