import { max, min, percentile } from '../stats/index.js';
import { TASK_STATES, TERMINAL_STATES, type TerminalState } from './task-state.js';
import type { Master } from './master.js';

/** Counters behind /metrics/snapshot; the master increments them, views are computed from its tables. */
export interface MasterCounters {
  /** Allocation runs done. */
  allocationRuns: number;
  /** Real time of each allocation run (ms), oldest first; the newest `maxAllocationRunSamples`. */
  allocationRunMs: number[];
  /** Offers made. */
  offers: number;
  /** Offers declined (explicitly, or accepted with no valid task). */
  declined: number;
  /** Offers accepted with at least one task launched. */
  accepted: number;
  /** Offers rescinded (timeout, agent lost, framework disconnected or failed over). */
  rescinded: number;
  /** Tasks launched (sent to an agent). */
  launched: number;
  /** Tasks that reached each terminal state. */
  terminal: Record<TerminalState, number>;
  /** Status updates applied (Mesos' valid_status_updates). */
  statusUpdates: number;
  /** Status updates dropped: from the wrong agent, for unknown tasks, or not a valid transition. */
  invalidUpdates: number;
  /** Status updates sent again because the framework had not acknowledged them. */
  statusUpdateResends: number;
  /** Acknowledgements of the update that was waiting for one. */
  acknowledgements: number;
  /** Acknowledgements of nothing that was waiting (unknown, duplicate, out of order). */
  invalidAcknowledgements: number;
  /** Agents registered since start (re-registrations not counted). */
  agentsRegistered: number;
  /** Agents that re-registered (after a partition). */
  agentsReregistered: number;
  /** Agents removed (on request, or marked gone). */
  agentsRemoved: number;
  /** Agents marked unreachable after missed pings. */
  agentsUnreachable: number;
  /** Pings that went unanswered. */
  pingTimeouts: number;
  /** Frameworks registered since start (failovers not counted). */
  frameworksRegistered: number;
  /** Framework failovers (re-subscriptions with a known id). */
  frameworksReregistered: number;
  /** Frameworks torn down (on request, or after their failover timeout). */
  frameworksRemoved: number;
  /** Kills sent again because the agent had not answered. */
  killResends: number;
}

/** Fresh counters. */
export function newCounters(): MasterCounters {
  return {
    allocationRuns: 0, allocationRunMs: [], offers: 0, declined: 0, accepted: 0, rescinded: 0, launched: 0,
    terminal: Object.fromEntries(TERMINAL_STATES.map((s) => [s, 0])) as Record<TerminalState, number>,
    statusUpdates: 0, invalidUpdates: 0, statusUpdateResends: 0, acknowledgements: 0, invalidAcknowledgements: 0,
    agentsRegistered: 0, agentsReregistered: 0, agentsRemoved: 0, agentsUnreachable: 0, pingTimeouts: 0,
    frameworksRegistered: 0, frameworksReregistered: 0, frameworksRemoved: 0, killResends: 0,
  };
}

/** Allocation runs the timer metrics summarise (the newest). */
export const TIMER_WINDOW = 1000;

/**
 * Metric names that follow Mesos (apache/mesos docs/monitoring.md, allocator/mesos/metrics.cpp);
 * every other name in the snapshot is isolab's own, where Mesos has none.
 */
export const MESOS_METRIC_NAMES: readonly string[] = [
  'master/uptime_secs', 'master/elected',
  'master/frameworks_active', 'master/frameworks_connected', 'master/frameworks_disconnected', 'master/frameworks_inactive',
  'master/outstanding_offers',
  ...TASK_STATES.map((s) => `master/tasks_${s}`),
  'master/valid_status_updates', 'master/invalid_status_updates',
  'master/valid_status_update_acknowledgements', 'master/invalid_status_update_acknowledgements',
  'master/cpus_total', 'master/cpus_used', 'master/cpus_percent', 'master/mem_total', 'master/mem_used', 'master/mem_percent',
  'allocator/mesos/allocation_runs', 'allocator/mesos/allocation_run_ms',
  'allocator/mesos/resources/cpus/total', 'allocator/mesos/resources/cpus/offered_or_allocated',
  'allocator/mesos/resources/mem/total', 'allocator/mesos/resources/mem/offered_or_allocated',
  'allocator/mesos/offer_filters/roles/*/active',
];

const r3 = (x: number): number => Math.round(x * 1000) / 1000;

/**
 * The body of GET /metrics/snapshot: flat names → numbers, sorted. Mesos' names where Mesos has the
 * metric (agents are "agents", never "slaves"); `used` counts tasks only, `offered` is separate.
 */
export function metricsSnapshot(master: Master): Record<string, number> {
  const c = master.counters;
  const t = master.resourceTotals();
  const fw = master.frameworkCounts();
  const m: Record<string, number> = {
    'master/uptime_secs': (master.clock.now() - master.startedAt) / 1000,
    'master/elected': 1,
    'master/agents_active': t.agents,
    'master/agents_connected': t.agents,
    'master/agents_disconnected': t.agentsMissingPings,
    'master/agents_unreachable': master.unreachableAgentCount,
    'master/agent_registrations': c.agentsRegistered,
    'master/agent_reregistrations': c.agentsReregistered,
    'master/agent_removals': c.agentsRemoved,
    'master/agent_unreachable_completed': c.agentsUnreachable,
    'master/agent_ping_timeouts': c.pingTimeouts,
    'master/frameworks_active': fw.active,
    'master/frameworks_connected': fw.connected,
    'master/frameworks_disconnected': fw.disconnected,
    'master/frameworks_inactive': fw.connected - fw.active,
    'master/frameworks_suppressed': fw.suppressed,
    'master/frameworks_completed': master.completedFrameworkCount,
    'master/framework_registrations': c.frameworksRegistered,
    'master/framework_reregistrations': c.frameworksReregistered,
    'master/framework_removals': c.frameworksRemoved,
    'master/outstanding_offers': master.outstandingOfferCount,
    'master/offers_made': c.offers,
    'master/offers_accepted': c.accepted,
    'master/offers_declined': c.declined,
    'master/offers_rescinded': c.rescinded,
    'master/tasks_launched': c.launched,
    'master/task_kill_resends': c.killResends,
    'master/valid_status_updates': c.statusUpdates,
    'master/invalid_status_updates': c.invalidUpdates,
    'master/valid_status_update_acknowledgements': c.acknowledgements,
    'master/invalid_status_update_acknowledgements': c.invalidAcknowledgements,
    'master/status_update_resends': c.statusUpdateResends,
    'master/status_updates_unacknowledged': master.unacknowledgedUpdates,
    'master/cpus_total': t.total.cpus,
    'master/cpus_used': t.used.cpus,
    'master/cpus_offered': t.offered.cpus,
    'master/cpus_percent': t.total.cpus > 0 ? t.used.cpus / t.total.cpus : 0,
    'master/mem_total': t.total.mem,
    'master/mem_used': t.used.mem,
    'master/mem_offered': t.offered.mem,
    'master/mem_percent': t.total.mem > 0 ? t.used.mem / t.total.mem : 0,
    'allocator/mesos/allocation_runs': c.allocationRuns,
    'allocator/mesos/resources/cpus/total': t.total.cpus,
    'allocator/mesos/resources/cpus/offered_or_allocated': r3(t.used.cpus + t.offered.cpus),
    'allocator/mesos/resources/mem/total': t.total.mem,
    'allocator/mesos/resources/mem/offered_or_allocated': r3(t.used.mem + t.offered.mem),
    'allocator/mesos/offer_filters/roles/*/active': master.allocator.stats().filters,
    'allocator/agents_free': master.allocator.freeAgents,
  };
  for (const s of TASK_STATES) m[`master/tasks_${s}`] = master.countTasks(s);
  const runs = c.allocationRunMs.slice(-TIMER_WINDOW);
  if (runs.length > 0) {
    const p = 'allocator/mesos/allocation_run_ms';
    m[p] = runs[runs.length - 1]!;
    m[`${p}/count`] = runs.length;
    m[`${p}/min`] = min(runs);
    m[`${p}/max`] = max(runs);
    for (const [name, q] of [['p50', 50], ['p90', 90], ['p95', 95], ['p99', 99], ['p999', 99.9], ['p9999', 99.99]] as const) {
      m[`${p}/${name}`] = percentile(runs, q);
    }
  }
  return Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
