import type { MinAllocatable, Resources } from './resources.js';
import type { TaskState } from './task-state.js';
import type { AgentInfo, LaunchedTask, TaskStatus } from './types.js';

// What the master's views describe: plain data, for /state, metrics and tests.

/** A task as the master's table holds it. */
export interface TaskRecord {
  /** The launch as the master handed it to the agent. */
  task: LaunchedTask;
  /** Current state. */
  state: TaskState;
  /** Last status update. */
  last?: TaskStatus;
}

/** A registered agent as agentList() describes it. */
export interface AgentView {
  /** Agent id. */
  id: string;
  /** What the agent registered with. */
  info: AgentInfo;
  /** Free resources: neither offered nor used by tasks. */
  free: Resources;
  /** Resources used by the agent's tasks. */
  used: Resources;
  /** Resources in outstanding offers. */
  offered: Resources;
  /** Clock time of registration (ms). */
  registeredAt: number;
  /** Clock time of the last re-registration (ms), if any. */
  reregisteredAt?: number;
  /** Tasks holding resources on the agent. */
  tasks: number;
  /** Pings missed in a row (0 when healthy). */
  missedPings: number;
}

/** An unreachable agent as unreachableAgentList() describes it. */
export interface UnreachableAgentView {
  /** Agent id. */
  id: string;
  /** Host name. */
  hostname: string;
  /** Clock time it became unreachable (ms). */
  since: number;
  /** Its tasks in state `unreachable`. */
  tasks: number;
}

/** A registered framework as frameworkList() describes it. */
export interface FrameworkView {
  /** Framework id. */
  id: string;
  /** Name it registered with. */
  name: string;
  /** DRF weight. */
  weight: number;
  /** Weighted dominant share, as the sorter orders by. */
  share: number;
  /** Offered plus used resources (what the sorter counts). */
  allocated: Resources;
  /** Resources used by its tasks. */
  used: Resources;
  /** Resources in its outstanding offers. */
  offered: Resources;
  /** True while suppressed. */
  suppressed: boolean;
  /** True while its scheduler is connected (a disconnected framework waits for failover). */
  connected: boolean;
  /** Failover timeout (s). */
  failoverTimeoutSeconds: number;
  /** Partition-aware (sees `unreachable` and `gone`). */
  partitionAware: boolean;
  /** Its min_allocatable_resources. */
  minAllocatable: MinAllocatable;
  /** Non-terminal tasks (unreachable ones included). */
  tasks: number;
  /** Outstanding offers. */
  offers: number;
  /** Clock time of registration (ms). */
  registeredAt: number;
  /** Clock time of the last failover (ms), if any. */
  reregisteredAt?: number;
  /** Clock time it disconnected (ms), while disconnected. */
  disconnectedAt?: number;
}

/** A torn-down framework. */
export interface CompletedFrameworkView {
  /** Framework id. */
  id: string;
  /** Name. */
  name: string;
  /** Clock time of registration (ms). */
  registeredAt: number;
  /** Clock time of teardown (ms). */
  unregisteredAt: number;
}

/** A part of a list: skip `offset` items, return at most `limit`. */
export interface Page {
  /** Items to skip. */
  offset: number;
  /** Most items to return. */
  limit: number;
}

/** Cluster-wide resource sums, for metrics. */
export interface ResourceTotals {
  /** Registered agents. */
  agents: number;
  /** Registered agents that missed their last ping. */
  agentsMissingPings: number;
  /** Total resources of registered agents. */
  total: Resources;
  /** Used by tasks. */
  used: Resources;
  /** In outstanding offers. */
  offered: Resources;
  /** Neither. */
  free: Resources;
}
