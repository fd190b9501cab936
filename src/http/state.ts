import type { Master } from '../master/master.js';
import { NONE, add, subtract, type Resources } from '../master/resources.js';
import { TASK_STATES, type TaskState } from '../master/task-state.js';
import { max, min, percentile } from '../stats/index.js';

/** Allocation runs the timer metrics summarise (the newest). */
export const TIMER_WINDOW = 1000;

/** One task as /state and /tasks show it. */
export interface TaskView {
  /** Task id (unique within its framework). */
  id: string;
  /** Human name, if any. */
  name?: string;
  /** Owning framework. */
  frameworkId: string;
  /** Agent it runs (or ran) on. */
  agentId: string;
  /** Current state. */
  state: TaskState;
  /** Resources it holds. */
  resources: Resources;
  /** Backend that runs it. */
  backend: string;
  /** Clock time (ms) of the last status update, if any. */
  updatedAt?: number;
  /** Message of the last status update, e.g. why it failed. */
  message?: string;
}

/** Every task the master remembers (live and recently completed), optionally filtered. */
export function taskViews(master: Master, filter: { state?: TaskState; frameworkId?: string } = {}): TaskView[] {
  const out: TaskView[] = [];
  for (const rec of master.allTasks()) {
    if (filter.state && rec.state !== filter.state) continue;
    if (filter.frameworkId && rec.task.frameworkId !== filter.frameworkId) continue;
    const t = rec.task;
    const v: TaskView = { id: t.taskId, frameworkId: t.frameworkId, agentId: t.agentId, state: rec.state, resources: t.resources, backend: t.backend };
    if (t.name !== undefined) v.name = t.name;
    if (rec.last) v.updatedAt = rec.last.timestamp;
    if (rec.last?.message) v.message = rec.last.message;
    out.push(v);
  }
  return out;
}

/** The body of GET /state: agents, frameworks, tasks and outstanding offers, after Mesos' /state. */
export function masterState(master: Master): Record<string, unknown> {
  const now = master.clock.now();
  return {
    version: '0.1.0',
    startTime: master.startedAt / 1000,
    uptimeSeconds: (now - master.startedAt) / 1000,
    agents: master.agentList().map((a) => ({
      id: a.id, hostname: a.info.hostname, resources: a.info.resources, free: a.free, used: subtract(a.info.resources, a.free),
      backends: a.info.backends, registeredAt: a.registeredAt / 1000, tasks: a.tasks, missedPings: a.missedPings,
    })),
    frameworks: master.frameworkList().map((f) => ({
      id: f.id, name: f.name, weight: f.weight, dominantShare: f.share * f.weight, weightedShare: f.share, allocated: f.allocated,
      suppressed: f.suppressed, tasks: f.tasks, offers: f.offers, registeredAt: f.registeredAt / 1000,
    })),
    tasks: taskViews(master),
    offers: master.outstandingOffers().map((o) => ({
      id: o.id, frameworkId: o.frameworkId, agentId: o.agentId, hostname: o.hostname, resources: o.resources, createdAt: o.createdAt / 1000,
    })),
  };
}

/** The body of GET /metrics/snapshot: flat Mesos-style names → numbers. */
export function metricsSnapshot(master: Master): Record<string, number> {
  const c = master.counters;
  const agents = master.agentList();
  let total: Resources = { ...NONE };
  let free: Resources = { ...NONE };
  let disconnected = 0;
  for (const a of agents) {
    total = add(total, a.info.resources);
    free = add(free, a.free);
    if (a.missedPings > 0) disconnected++;
  }
  const used = subtract(total, free);
  const frameworks = master.frameworkList();
  const m: Record<string, number> = {
    'master/uptime_secs': (master.clock.now() - master.startedAt) / 1000,
    'master/elected': 1,
    'master/agents_active': agents.length - disconnected,
    'master/agents_disconnected': disconnected,
    'master/agent_registrations': c.agentsRegistered,
    'master/agent_removals': c.agentsRemoved,
    'master/agent_ping_timeouts': c.pingTimeouts,
    'master/frameworks_active': frameworks.filter((f) => !f.suppressed).length,
    'master/frameworks_suppressed': frameworks.filter((f) => f.suppressed).length,
    'master/framework_registrations': c.frameworksRegistered,
    'master/framework_removals': c.frameworksRemoved,
    'master/outstanding_offers': master.outstandingOfferCount,
    'master/offers_made': c.offers,
    'master/offers_accepted': c.accepted,
    'master/offers_declined': c.declined,
    'master/offers_rescinded': c.rescinded,
    'master/tasks_launched': c.launched,
    'master/status_updates': c.statusUpdates,
    'master/status_update_resends': c.statusUpdateResends,
    'master/status_update_acknowledgements': c.acknowledgements,
    'master/status_updates_unacknowledged': master.unacknowledgedUpdates,
    'master/invalid_status_updates': c.invalidUpdates,
    'master/cpus_total': total.cpus,
    'master/cpus_used': used.cpus,
    'master/cpus_percent': total.cpus > 0 ? used.cpus / total.cpus : 0,
    'master/mem_total': total.mem,
    'master/mem_used': used.mem,
    'master/mem_percent': total.mem > 0 ? used.mem / total.mem : 0,
    'allocator/allocation_runs': c.allocationRuns,
    'allocator/agents_free': master.allocator.freeAgents,
    'allocator/filters_active': master.allocator.stats().filters,
  };
  for (const s of TASK_STATES) m[`master/tasks_${s}`] = master.countTasks(s);
  const runs = c.allocationRunMs.slice(-TIMER_WINDOW);
  if (runs.length > 0) {
    m['allocator/allocation_run_ms'] = runs[runs.length - 1]!;
    m['allocator/allocation_run_ms/count'] = runs.length;
    m['allocator/allocation_run_ms/min'] = min(runs);
    m['allocator/allocation_run_ms/p50'] = percentile(runs, 50);
    m['allocator/allocation_run_ms/median'] = percentile(runs, 50);
    m['allocator/allocation_run_ms/p90'] = percentile(runs, 90);
    m['allocator/allocation_run_ms/p99'] = percentile(runs, 99);
    m['allocator/allocation_run_ms/max'] = max(runs);
  }
  return Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
