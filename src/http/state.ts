import type { AgentView, FrameworkView, Master, Page, TaskRecord } from '../master/master.js';

export type { Page } from '../master/master.js';
import { formatMinAllocatable, type Resources } from '../master/resources.js';
import type { TaskState } from '../master/task-state.js';
import type { Offer } from '../master/types.js';

export { metricsSnapshot, TIMER_WINDOW } from '../master/metrics.js';

/** Default and largest number of items of each list in one /state or list answer. */
export const DEFAULT_LIMIT = 100;
/** Largest `limit` a list endpoint accepts. */
export const MAX_LIMIT = 10_000;

/** One task as /state and /tasks show it (Mesos' field names). */
export interface TaskView {
  /** Task id (unique within its framework). */
  id: string;
  /** Human name, if any. */
  name?: string;
  /** Owning framework. */
  framework_id: string;
  /** Agent it runs (or ran) on. */
  agent_id: string;
  /** Current state. */
  state: TaskState;
  /** Resources it holds (or held). */
  resources: Resources;
  /** Backend that runs it. */
  backend: string;
  /** Clock time (s) of the last status update, if any. */
  updated_time?: number;
  /** Reason of the last status update, after Mesos' TaskStatus.Reason. */
  reason?: string;
  /** Message of the last status update, shortened, with host paths hidden. */
  message?: string;
}


/**
 * A status message as the API shows it: first line only, without the executor's stderr (the agent
 * appends its last line to "executor exited with N: ..."), at most 160 characters, host paths
 * replaced by `<path>`. Full messages stay in the task's data and in logs, not in API bodies.
 */
export function publicMessage(message: string): string {
  const line = (message.split(/\r?\n/, 1)[0] ?? '').replace(/^(executor exited with -?\d+):.*$/, '$1');
  const hidden = line.replace(/(^|[\s"'=:(\[,])(?:~|\.{1,2})?\/[^\s"',:)\]]*/g, '$1<path>');
  return hidden.length > 160 ? `${hidden.slice(0, 157)}...` : hidden;
}

function taskView(rec: TaskRecord): TaskView {
  const t = rec.task;
  const v: TaskView = { id: t.taskId, framework_id: t.frameworkId, agent_id: t.agentId, state: rec.state, resources: t.resources, backend: t.backend };
  if (t.name !== undefined) v.name = t.name;
  if (rec.last) v.updated_time = rec.last.timestamp / 1000;
  if (rec.last?.reason) v.reason = String(rec.last.reason);
  if (rec.last?.message) v.message = publicMessage(rec.last.message);
  return v;
}

/** Tasks the master remembers (live and recently completed), filtered, one page of them; built lazily. */
export function taskPage(master: Master, page: Page, filter: { state?: TaskState; frameworkId?: string } = {}): { total: number; tasks: TaskView[] } {
  const tasks: TaskView[] = [];
  let total = 0;
  for (const rec of master.taskRecords()) {
    if (filter.state && rec.state !== filter.state) continue;
    if (filter.frameworkId && rec.task.frameworkId !== filter.frameworkId) continue;
    if (total >= page.offset && tasks.length < page.limit) tasks.push(taskView(rec));
    total++;
  }
  return { total, tasks };
}

/** Every task the master remembers, optionally filtered (all of them: use taskPage for the API). */
export function taskViews(master: Master, filter: { state?: TaskState; frameworkId?: string } = {}): TaskView[] {
  return taskPage(master, { offset: 0, limit: Number.MAX_SAFE_INTEGER }, filter).tasks;
}

/** One agent as /state and /agents show it. */
export function agentJson(a: AgentView): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: a.id, hostname: a.info.hostname, active: true, resources: a.info.resources, used_resources: a.used, offered_resources: a.offered,
    free_resources: a.free, used: a.used, backends: a.info.backends, registered_time: a.registeredAt / 1000, tasks: a.tasks,
    missed_pings: a.missedPings,
  };
  if (a.reregisteredAt !== undefined) out.reregistered_time = a.reregisteredAt / 1000;
  if (a.info.attributes) out.attributes = a.info.attributes;
  if (a.info.descriptors) out.backend_descriptors = a.info.descriptors;
  return out;
}

/** One framework as /state and /frameworks show it. */
export function frameworkJson(f: FrameworkView): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: f.id, name: f.name, role: '*', weight: f.weight, active: f.connected, connected: f.connected, suppressed: f.suppressed,
    failover_timeout: f.failoverTimeoutSeconds, partition_aware: f.partitionAware,
    min_allocatable_resources: formatMinAllocatable(f.minAllocatable), used_resources: f.used, offered_resources: f.offered,
    allocated_resources: f.allocated, dominant_share: f.share * f.weight, weighted_share: f.share, tasks: f.tasks, offers: f.offers,
    registered_time: f.registeredAt / 1000,
  };
  if (f.reregisteredAt !== undefined) out.reregistered_time = f.reregisteredAt / 1000;
  if (f.disconnectedAt !== undefined) out.disconnected_time = f.disconnectedAt / 1000;
  return out;
}

/** One outstanding offer. */
export function offerJson(o: Offer): Record<string, unknown> {
  return { id: o.id, framework_id: o.frameworkId, agent_id: o.agentId, hostname: o.hostname, resources: o.resources, created_time: o.createdAt / 1000 };
}

function slice<T>(items: readonly T[], page: Page): { total: number; items: T[] } {
  return { total: items.length, items: items.slice(page.offset, page.offset + page.limit) };
}

/** A page of registered agents. */
export function agentPage(master: Master, page: Page): { total: number; agents: Record<string, unknown>[] } {
  return { total: master.agentCount, agents: master.agentList(page).map(agentJson) };
}

/** A page of registered frameworks. */
export function frameworkPage(master: Master, page: Page): { total: number; frameworks: Record<string, unknown>[] } {
  return { total: master.frameworkCount, frameworks: master.frameworkList(page).map(frameworkJson) };
}

/** A page of outstanding offers. */
export function offerPage(master: Master, page: Page): { total: number; offers: Record<string, unknown>[] } {
  return { total: master.outstandingOfferCount, offers: master.outstandingOffers(page).map(offerJson) };
}

/**
 * The body of GET /state, after Mesos' /state with isolab's names where Mesos has none. Bounded:
 * each list (agents, frameworks, tasks, offers) holds at most `limit` items (default 100), and
 * `*_total` says how many there are; /agents, /frameworks, /tasks and /offers page through the rest.
 * Agents' `used_resources` are their tasks' resources only; `offered_resources` is separate.
 */
export function masterState(master: Master, opts: { limit?: number } = {}): Record<string, unknown> {
  const page = { offset: 0, limit: opts.limit ?? DEFAULT_LIMIT };
  const now = master.clock.now();
  const agents = agentPage(master, page);
  const frameworks = frameworkPage(master, page);
  const tasks = taskPage(master, page);
  const offers = offerPage(master, page);
  const unreachable = slice(master.unreachableAgentList(), page);
  const completed = slice(master.completedFrameworkList(), page);
  return {
    version: '0.1.0',
    start_time: master.startedAt / 1000,
    elected_time: master.startedAt / 1000,
    uptime_seconds: (now - master.startedAt) / 1000,
    activated_agents: master.agentCount,
    unreachable_agents_total: unreachable.total,
    agents_total: agents.total,
    frameworks_total: frameworks.total,
    completed_frameworks_total: completed.total,
    tasks_total: tasks.total,
    offers_total: offers.total,
    limit: page.limit,
    truncated: [agents, frameworks, tasks, offers, unreachable, completed].some((l) => l.total > page.limit),
    agents: agents.agents,
    unreachable_agents: unreachable.items.map((u) => ({ id: u.id, hostname: u.hostname, unreachable_time: u.since / 1000, tasks: u.tasks })),
    frameworks: frameworks.frameworks,
    completed_frameworks: completed.items.map((c) => ({ id: c.id, name: c.name, registered_time: c.registeredAt / 1000, unregistered_time: c.unregisteredAt / 1000 })),
    tasks: tasks.tasks,
    offers: offers.offers,
  };
}
