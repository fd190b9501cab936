import type { Resources } from '../master/resources.js';
import type { ExecutorTask } from '../executor/protocol.js';

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

/** A started task; plain data plus the backend's own state. */
export interface TaskHandle {
  /** Task id. */
  taskId: string;
  /** Backend name. */
  backend: string;
  /** Backend's id for the instance: pid, container id, domain name. */
  instanceId: string;
  /** Limits as enforced. */
  limits: LimitsEnforced;
  /** Extra facts for results, e.g. the accelerator of a VM. */
  attributes: Record<string, string>;
  /** Backend-private state. */
  state: unknown;
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
  /** Host pids belonging to the instance, for PSS accounting. */
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

/** A task driver, after Nomad's: one per isolation technology. */
export interface Backend {
  /** Name used on the command line: process, docker, vm, mock. */
  readonly name: string;
  /** Looks at the host; never throws. */
  fingerprint(): Promise<Fingerprint>;
  /** Starts the executor; resolves once the instance is running. */
  start(spec: TaskSpec, sink: TaskSink, signal?: AbortSignal): Promise<TaskHandle>;
  /** Resolves when the instance ends (on its own, by stop, or at its timeout). */
  wait(handle: TaskHandle): Promise<ExitResult>;
  /** Asks the instance to stop, then kills it after timeoutMs. */
  stop(handle: TaskHandle, timeoutMs: number, signal?: NodeJS.Signals): Promise<void>;
  /** Removes everything the task created; safe to call twice. */
  destroy(handle: TaskHandle): Promise<void>;
  /** Current usage. */
  stats(handle: TaskHandle): Promise<TaskStats>;
  /** Everything this backend finds that an isolab session created. */
  listOwned(): Promise<OwnedResource[]>;
  /** Removes one owned resource found by listOwned. */
  removeOwned(r: OwnedResource): Promise<void>;
}
