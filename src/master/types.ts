import type { Resources } from './resources.js';
import type { TaskState } from './task-state.js';

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

/** A task a framework launches on an accepted offer. */
export interface TaskLaunch {
  /** Framework-chosen id, unique within the framework. */
  taskId: string;
  /** Human name. */
  name?: string;
  /** Resources the task uses; taken from the offer. */
  resources: Resources;
  /** Backend that runs the executor: process, docker, vm, mock. */
  backend: string;
  /** What the executor runs; opaque to the master. */
  payload: unknown;
  /** The agent kills the task after this long (ms). */
  timeoutMs?: number;
}

/** A task as the master hands it to an agent. */
export interface LaunchedTask extends TaskLaunch {
  /** Owning framework. */
  frameworkId: string;
  /** Agent it runs on. */
  agentId: string;
  /** Offer it was launched from. */
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
  /** Agent the task ran on. */
  agentId: string;
  /** New state. */
  state: TaskState;
  /** Unique id of this update, for acknowledgement. */
  uuid: string;
  /** Clock time the agent (or master) produced the update (ms). */
  timestamp: number;
  /** Human-readable reason, e.g. for failed or lost. */
  message?: string;
  /** Result data from the executor (terminal updates). */
  data?: unknown;
}

/** Options of a decline or accept, after Mesos' Filters. */
export interface Filters {
  /** Do not offer these resources on this agent again for this long. Default 5 s. */
  refuseSeconds?: number;
}

/** What a framework can tell the master; given to the framework's scheduler callbacks. */
export interface FrameworkDriver {
  /** Id the master gave the framework. */
  readonly frameworkId: string;
  /** Launches tasks on an offer; unused resources return to the pool, filtered for refuseSeconds. */
  accept(offerId: string, tasks: TaskLaunch[], filters?: Filters): void;
  /** Returns an offer's resources and hides them from this framework for refuseSeconds. */
  decline(offerId: string, filters?: Filters): void;
  /** Stops offers until revive(). */
  suppress(): void;
  /** Resumes offers and clears filters. */
  revive(): void;
  /** Asks the agent to kill a task. */
  kill(taskId: string): void;
  /** Acknowledges a status update so the master stops resending it. */
  acknowledge(status: TaskStatus): void;
  /** Unregisters the framework; its tasks are killed and offers rescinded. */
  teardown(): void;
}

/** Callbacks of a framework scheduler (two-level scheduling: the framework picks tasks for offers). */
export interface Scheduler {
  /** The master accepted the framework. */
  registered?(driver: FrameworkDriver): void;
  /** New offers; answer each with accept or decline. */
  resourceOffers(driver: FrameworkDriver, offers: Offer[]): void;
  /** An offer is no longer valid (timeout, agent lost). */
  offerRescinded?(driver: FrameworkDriver, offerId: string): void;
  /** A task changed state. */
  statusUpdate(driver: FrameworkDriver, status: TaskStatus): void;
}

/** What the master can tell an agent. */
export interface AgentDriver {
  /** Starts a task; the agent reports progress with status updates. */
  launch(task: LaunchedTask): void;
  /** Kills a task; the agent answers with a `killed` update. */
  kill(taskId: string): void;
  /**
   * Health check, after Mesos' PING: a live agent answers with `master.pong(agentId)`. Agents without
   * this method are not health-checked.
   */
  ping?(): void;
  /** The master removed the agent (missed pings, or on request): stop every task, report nothing more. */
  shutdown?(reason: string): void;
}

/** What an agent says about itself when registering. */
export interface AgentInfo {
  /** Host name, for display. */
  hostname: string;
  /** Total resources offered to the cluster. */
  resources: Resources;
  /** Backends this agent can run. */
  backends: string[];
}
