import type { MinAllocatable, Resources } from './resources.js';
import type { StatusReason, TaskState } from './task-state.js';

// Everything here is plain, serialisable data or an interface of calls that take and return such data
// (ids, not object references), so that each interface can be served in-process or over HTTP.

/** Resources of one agent offered to one framework, after Mesos' Offer. */
export interface Offer {
  /** Unique offer id. */
  id: string;
  /** Framework the offer was made to. */
  frameworkId: string;
  /** Agent whose resources these are. */
  agentId: string;
  /** Host name of the agent. */
  hostname: string;
  /** The offered resources: free resources only. */
  resources: Resources;
  /** Backends the agent can run tasks on. */
  backends: string[];
  /** Clock time the offer was made (ms). */
  createdAt: number;
}

/** A task a framework launches on accepted offers (Mesos' TaskInfo). */
export interface TaskLaunch {
  /** Framework-chosen id, unique among the framework's live tasks; not empty. */
  taskId: string;
  /** Human name. */
  name?: string;
  /** Resources the task uses; taken from the offers. Every value finite and >= 0, some value > 0. */
  resources: Resources;
  /** Backend that runs the executor: process, docker, vm, mock. */
  backend: string;
  /** What the executor runs; opaque to the master. */
  payload: unknown;
  /** The agent kills the task after this long (ms). */
  timeoutMs?: number;
  /** Agent the task must run on (Mesos' TaskInfo.agent_id); when given it must be the offers' agent. */
  agentId?: string;
}

/** A task as the master hands it to an agent. */
export interface LaunchedTask extends TaskLaunch {
  /** Owning framework. */
  frameworkId: string;
  /** Agent it runs on. */
  agentId: string;
  /** First offer it was launched from. */
  offerId: string;
  /** Clock time of the offer (ms). */
  offeredAt: number;
  /** Clock time the framework accepted (ms). */
  acceptedAt: number;
}

/** A task state change, from agent to master to framework (Mesos' StatusUpdate). */
export interface TaskStatus {
  /** Task the update is about. */
  taskId: string;
  /** Owning framework. */
  frameworkId: string;
  /** Agent the task runs (or ran) on; empty when the task never reached one (e.g. `error`). */
  agentId: string;
  /** New state. */
  state: TaskState;
  /** Unique id of this update, for acknowledgement; empty when no acknowledgement is wanted (reconciliation). */
  uuid: string;
  /** Clock time the agent (or master) produced the update (ms). */
  timestamp: number;
  /** Human-readable detail, e.g. why it failed. */
  message?: string;
  /** Machine-readable cause, after Mesos' TaskStatus.Reason (e.g. `reconciliation`, `task_invalid`). */
  reason?: StatusReason | string;
  /** Result data from the executor (terminal updates). */
  data?: unknown;
}

/** Options of a decline or accept, after Mesos' Filters. */
export interface Filters {
  /**
   * Do not offer these resources on this agent again for this long (s). Default 5; negative or not a
   * number means the default; 0 means no filter; capped at 365 days. A filter lasts at least one
   * allocation interval, so it cannot expire before the next allocation run.
   */
  refuseSeconds?: number;
}

/** A task named in a reconciliation request. */
export interface TaskRef {
  /** Task id. */
  taskId: string;
  /** Agent the framework believes the task is on, if it knows. */
  agentId?: string;
}

/** What a framework can tell the master; given to the framework's scheduler callbacks. */
export interface FrameworkDriver {
  /** Id the master gave the framework. */
  readonly frameworkId: string;
  /**
   * Launches tasks on one or more offers of one agent (Mesos' ACCEPT with LAUNCH). Invalid tasks get an
   * `error` update; unused resources return to the pool, filtered for refuseSeconds.
   */
  accept(offerIds: string | readonly string[], tasks: TaskLaunch[], filters?: Filters): void;
  /** Returns offers' resources and hides them from this framework for refuseSeconds. */
  decline(offerIds: string | readonly string[], filters?: Filters): void;
  /** Stops offers until revive(). */
  suppress(): void;
  /** Resumes offers and clears filters. */
  revive(): void;
  /** Asks the agent to kill a task. */
  kill(taskId: string): void;
  /** Acknowledges a status update; the task's next update is sent only after this. */
  acknowledge(status: TaskStatus): void;
  /**
   * Asks for the latest state of the given tasks (explicit), or of all the framework's live tasks when
   * none are given (implicit). Answers are status updates with reason `reconciliation` and no uuid.
   */
  reconcile(tasks?: readonly TaskRef[]): void;
  /** Unregisters the framework: its offers are withdrawn, its tasks killed and their resources freed. */
  teardown(): void;
}

/** Callbacks of a framework scheduler (two-level scheduling: the framework picks tasks for offers). */
export interface Scheduler {
  /** The master accepted the framework (or its failover). */
  registered?(driver: FrameworkDriver): void;
  /** New offers; answer each with accept or decline. */
  resourceOffers(driver: FrameworkDriver, offers: Offer[]): void;
  /** An offer is no longer valid (timeout, agent lost, framework disconnected). */
  offerRescinded?(driver: FrameworkDriver, offerId: string): void;
  /** A task changed state. */
  statusUpdate(driver: FrameworkDriver, status: TaskStatus): void;
  /**
   * An agent was lost: it stopped answering (unreachable) or was removed (Mesos' FAILURE event with
   * an agent id). Every connected framework is told; its tasks there get their own updates.
   */
  agentLost?(driver: FrameworkDriver, agentId: string): void;
  /**
   * The master refused or ended this scheduler's registration (Mesos' ERROR event): e.g. the framework
   * was removed, or another scheduler failed over to its id. The driver is inert afterwards.
   */
  error?(driver: FrameworkDriver, message: string): void;
}

/** How a framework registers (after Mesos' FrameworkInfo). */
export interface FrameworkInfo {
  /** Human name. */
  name: string;
  /** Id to use; when the id belongs to a registered framework this is a failover (re-subscription). */
  id?: string;
  /** DRF weight. Default 1. */
  weight?: number;
  /**
   * How long the master keeps a disconnected framework's tasks for a re-subscription with the same id (s).
   * Default 0: a disconnected framework is torn down at once.
   */
  failoverTimeoutSeconds?: number;
  /** Mesos >= 1.9 `min_allocatable_resources`: smaller offers are not made to this framework. Default `cpus:0.01|mem:32`. */
  minAllocatableResources?: MinAllocatable;
  /**
   * Mesos' PARTITION_AWARE capability: the framework is told `unreachable` and `gone` where others are
   * told `lost`. Default false.
   */
  partitionAware?: boolean;
}

/** A task an agent reports when it (re-)registers. */
export interface AgentTaskReport {
  /** Task id. */
  taskId: string;
  /** Owning framework. */
  frameworkId: string;
  /** The task's latest state on the agent. */
  state: TaskState;
}

/** What the master can tell an agent (master → agent calls). */
export interface AgentDriver {
  /** Starts a task; the agent reports progress with status updates. */
  launch(task: LaunchedTask): void;
  /** Kills a task; the agent answers with a `killed` update (or another terminal one). */
  kill(taskId: string, frameworkId?: string): void;
  /**
   * Health check, after Mesos' PING: a live agent answers with `master.pong(agentId)`. Agents without
   * this method are not health-checked.
   */
  ping?(): void;
  /** The master removed the agent (on request): stop every task, report nothing more. */
  shutdown?(reason: string): void;
  /**
   * Asks for the latest state of these tasks: the agent answers each with a status update of its
   * current state (reason `reconciliation`), or `dropped` for a task it never started.
   */
  reconcile?(tasks: readonly { taskId: string; frameworkId: string }[]): void;
}

/** What an agent says about itself when registering. */
export interface AgentInfo {
  /** Host name, for display. */
  hostname: string;
  /** Total resources offered to the cluster. */
  resources: Resources;
  /** Backends this agent can run. */
  backends: string[];
  /** Facts about the agent's host (Mesos' agent attributes), e.g. `os`, `kernel`; shown in /state. */
  attributes?: Record<string, string>;
  /** Each backend's descriptor as the agent resolved it (kind, boundary, engine versions); opaque to the master. */
  descriptors?: Record<string, unknown>;
  /** On re-registration (after a partition): the tasks the agent has, with their latest state. */
  tasks?: AgentTaskReport[];
}

/**
 * What an agent can tell the master (agent → master calls). The master implements it in-process;
 * an HTTP client will implement it for agents in other processes.
 */
export interface MasterLink {
  /**
   * Registers an agent, or re-registers one whose id the master knows (after a partition, with
   * `info.tasks`); returns the agent id. The driver is how the master reaches the agent.
   */
  registerAgent(info: AgentInfo, driver: AgentDriver, id?: string): string;
  /** A task's status changed. */
  statusUpdate(status: TaskStatus): void;
  /** The answer to a ping. */
  pong(agentId: string): void;
}
