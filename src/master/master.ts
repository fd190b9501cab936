import { Allocator, type AgentHandle, type FrameworkHandle } from './allocator.js';
import { RealClock, type Clock, type Timer } from './clock.js';
import { AgentHealth } from './health.js';
import { KillRetries } from './kills.js';
import { OfferBook, type OfferEntry } from './offer-book.js';
import { newCounters, type MasterCounters } from './metrics.js';
import { DEFAULT_MIN_ALLOCATABLE, type MinAllocatable, type Resources } from './resources.js';
import type { Sorter } from './sorter.js';
import { StatusUpdateManager } from './status-updates.js';
import { canTransition, isTaskState, isTerminal, type LiveState, type StatusReason, type TaskState } from './task-state.js';
import type {
  AgentDriver, AgentInfo, AgentTaskReport, Filters, FrameworkDriver, FrameworkInfo, LaunchedTask, MasterLink, Offer, Scheduler,
  TaskLaunch, TaskRef, TaskStatus,
} from './types.js';
import { clip, invalidAgentInfo, invalidFrameworkInfo, validateOffers, validateTask } from './validation.js';
import type {
  AgentView, CompletedFrameworkView, FrameworkView, Page, ResourceTotals, TaskRecord, UnreachableAgentView,
} from './views.js';

export type {
  AgentView, CompletedFrameworkView, FrameworkView, Page, ResourceTotals, TaskRecord, UnreachableAgentView,
} from './views.js';

export type { MasterCounters } from './metrics.js';

/** Settings of a master. */
export interface MasterOptions {
  /** Time source; real time when omitted. */
  clock?: Clock;
  /** Period of allocation runs (ms). Default 1000. */
  allocationIntervalMs?: number;
  /**
   * Delay of the extra allocation run triggered by an event (agent or framework added, revive, a task
   * ended), batching events that come together. Default 0; null turns event runs off. Resources
   * coming back from declines, rescinds and unused parts of offers wait for the next periodic run,
   * as in Mesos.
   */
  eventAllocationDelayMs?: number | null;
  /** Offers not answered within this time are rescinded. Off when omitted. */
  offerTimeoutMs?: number;
  /** Refuse time of a decline without filters, or with a negative refuse time (s). Default 5, as in Mesos. */
  defaultRefuseSeconds?: number;
  /** Framework order; DRF when omitted. */
  sorter?: Sorter;
  /** Random source for agent order; Math.random when omitted. */
  random?: () => number;
  /** Measures allocation runs in real time (ms); performance.now when omitted. */
  realNow?: () => number;
  /** Agents that implement ping() are pinged this often (ms). Default 15000 (Mesos' agent_ping_timeout); null: never. */
  agentPingTimeoutMs?: number | null;
  /** An agent that missed this many pings in a row is unreachable. Default 5 (Mesos' max_agent_ping_timeouts). */
  maxAgentPingTimeouts?: number;
  /**
   * First resend delay of a status update the framework has not acknowledged (ms); doubles on each
   * resend up to `statusUpdateMaxRetryMs`. Default 10000 (Mesos). null: updates are sent once and
   * nothing waits for acknowledgements.
   */
  statusUpdateRetryMs?: number | null;
  /** Longest resend delay (ms). Default 600000 (Mesos: 10 minutes). */
  statusUpdateMaxRetryMs?: number;
  /**
   * First resend delay of a kill the agent has not answered (teardown, or a task an agent should
   * not run), doubling up to 60 s (ms). Default 5000; null: kills are sent once.
   */
  killRetryMs?: number | null;
  /** Terminal tasks kept per framework for /state and task(); older ones are forgotten. Default 1000. */
  maxCompletedTasksPerFramework?: number;
  /** Torn-down frameworks remembered (their ids cannot register again). Default 50, as in Mesos. */
  maxCompletedFrameworks?: number;
  /** Allocation-run durations kept for metrics (newest). Default 100000. */
  maxAllocationRunSamples?: number;
}

/** The agent record whose resources a task holds (none once terminal or unreachable); out of sight of JSON. */
const HOLDER = Symbol('holder');
/** Set when the framework asked to kill the task while its agent was unreachable. */
const KILL = Symbol('kill');

type TaskEntry = TaskRecord & { [HOLDER]?: AgentRecord; [KILL]?: boolean };

interface FrameworkRecord {
  id: string;
  /** The allocator's record of it. */
  handle: FrameworkHandle;
  name: string;
  weight: number;
  scheduler: Scheduler;
  driver: FrameworkDriver;
  /** Identifies the current registration: drivers of earlier ones are inert. */
  token: object;
  connected: boolean;
  failoverTimeoutMs: number;
  failoverTimer?: Timer;
  partitionAware: boolean;
  min: MinAllocatable;
  offers: number;
  live: number;
  usedCpus: number;
  usedMem: number;
  offeredCpus: number;
  offeredMem: number;
  registeredAt: number;
  reregisteredAt?: number;
  disconnectedAt?: number;
  /** Offers of the allocation run in progress, sent when it ends. */
  batch?: Offer[];
}

interface AgentRecord {
  id: string;
  /** The allocator's record of it. */
  slot: AgentHandle;
  info: AgentInfo;
  driver: AgentDriver;
  registeredAt: number;
  reregisteredAt?: number;
  /** Host name and backends, copied here so making an offer reads one object. */
  hostname: string;
  backends: string[];
  /** Number of outstanding offers on the agent. */
  offers: number;
  /** Tasks holding resources on the agent. */
  live: TaskEntry[];
  usedCpus: number;
  usedMem: number;
  offeredCpus: number;
  offeredMem: number;
}

interface UnreachableAgent {
  id: string;
  registeredAt: number;
  info: AgentInfo;
  driver: AgentDriver;
  since: number;
  /** Tasks of partition-aware frameworks, `unreachable` until the agent comes back or is gone. */
  tasks: TaskEntry[];
}

interface CompletedFramework {
  id: string;
  name: string;
  registeredAt: number;
  unregisteredAt: number;
}

/** An outstanding offer with its agent and framework records (its framework's offers are withdrawn before it leaves). */
type OfferRecord = OfferEntry<AgentRecord, FrameworkRecord>;

/** An agent's optional attributes and backend descriptors, copied when present. */
function extraInfo(info: AgentInfo): Pick<AgentInfo, 'attributes' | 'descriptors'> {
  const out: Pick<AgentInfo, 'attributes' | 'descriptors'> = {};
  if (info.attributes && typeof info.attributes === 'object') out.attributes = { ...info.attributes };
  if (info.descriptors && typeof info.descriptors === 'object') out.descriptors = { ...info.descriptors };
  return out;
}

/** The non-terminal states, whose counts are of tasks now. */
export const LIVE_STATES: readonly LiveState[] = ['staging', 'starting', 'running', 'killing', 'unreachable'];
const r3 = (x: number): number => Math.round(x * 1000) / 1000;

/**
 * Embedded Mesos-style master, the coordinator: it keeps agents, frameworks, outstanding offers and
 * the task table, and hands the rest to its parts: the allocator (with the sorter) decides offers,
 * the status update manager delivers updates in order until acknowledged, the health checker pings
 * agents, validation checks launches, metrics reads the counters. Every call takes and gives plain
 * data and ids, so frameworks and agents can reach it in-process or through an HTTP adapter.
 */
export class Master implements MasterLink {
  /** Time source. */
  readonly clock: Clock;
  /** The allocator deciding offers. */
  readonly allocator: Allocator;
  /** Counters for metrics. */
  readonly counters: MasterCounters = newCounters();
  /** Clock time the master was built (ms). */
  readonly startedAt: number;
  private readonly opts: MasterOptions;
  private readonly intervalMs: number;
  private readonly retryMs: number | null;
  private readonly keepCompleted: number;
  private readonly keepFrameworks: number;
  private readonly keepRunSamples: number;
  private readonly realNow: () => number;
  private readonly agents = new Map<string, AgentRecord>();
  private readonly unreachable = new Map<string, UnreachableAgent>();
  private readonly goneAgents = new Set<string>();
  private readonly frameworks = new Map<string, FrameworkRecord>();
  private readonly completedFrameworks = new Map<string, CompletedFramework>();
  private readonly offers = new OfferBook<AgentRecord, FrameworkRecord>();
  /** Task table: framework id → task id → record; a torn-down framework's tasks stay, terminal, while it is remembered. */
  private readonly tasks = new Map<string, Map<string, TaskEntry>>();
  private readonly completed = new Map<string, { recs: TaskEntry[]; head: number }>();
  private readonly liveStates: Record<LiveState, number> = { staging: 0, starting: 0, running: 0, killing: 0, unreachable: 0 };
  private readonly updates: StatusUpdateManager;
  private readonly health: AgentHealth;
  private readonly kills: KillRetries;
  private periodic?: Timer;
  private eventRun?: Timer;
  private stopped = false;
  private seq = 0;

  constructor(opts: MasterOptions = {}) {
    this.opts = opts;
    this.clock = opts.clock ?? new RealClock();
    this.startedAt = this.clock.now();
    this.intervalMs = opts.allocationIntervalMs ?? 1000;
    this.retryMs = opts.statusUpdateRetryMs === undefined ? 10_000 : opts.statusUpdateRetryMs;
    this.keepCompleted = opts.maxCompletedTasksPerFramework ?? 1000;
    this.keepFrameworks = opts.maxCompletedFrameworks ?? 50;
    this.keepRunSamples = opts.maxAllocationRunSamples ?? 100_000;
    this.realNow = opts.realNow ?? (() => performance.now());
    this.allocator = new Allocator({
      clock: this.clock, sorter: opts.sorter, random: opts.random, allocationIntervalMs: this.intervalMs,
      defaultRefuseSeconds: opts.defaultRefuseSeconds,
    });
    this.updates = new StatusUpdateManager({
      clock: this.clock, retryMs: this.retryMs, maxRetryMs: opts.statusUpdateMaxRetryMs ?? 600_000,
      deliver: (s) => this.deliver(s),
      onResend: () => void this.counters.statusUpdateResends++,
      onAcknowledged: () => void this.counters.acknowledgements++,
    });
    this.kills = new KillRetries({
      clock: this.clock, retryMs: opts.killRetryMs === undefined ? 5000 : opts.killRetryMs,
      send: (agentId, frameworkId, taskId) => {
        const agent = this.agents.get(agentId);
        agent?.driver.kill(taskId, frameworkId);
        return agent !== undefined;
      },
      onResend: () => void this.counters.killResends++,
    });
    const pingMs = opts.agentPingTimeoutMs === undefined ? 15_000 : opts.agentPingTimeoutMs;
    this.health = new AgentHealth({
      clock: this.clock, pingMs, maxMisses: opts.maxAgentPingTimeouts ?? 5,
      agents: () => this.pingTargets(),
      onUnreachable: (id, reason) => this.markUnreachable(id, reason),
      onMiss: () => void this.counters.pingTimeouts++,
    });
  }

  /** Starts periodic allocation runs and agent health checks. */
  start(): void {
    this.stopped = false;
    this.updates.restart();
    this.kills.start();
    if (this.periodic) return;
    const tick = (): void => {
      this.periodic = this.clock.setTimer(this.intervalMs, tick);
      this.allocate();
    };
    this.periodic = this.clock.setTimer(this.intervalMs, tick);
    this.health.start();
  }

  /** Stops every timer: allocation runs, pings, resends, offer timeouts, failover timeouts, kill retries. */
  stop(): void {
    this.stopped = true;
    for (const t of [this.periodic, this.eventRun]) t?.cancel();
    this.periodic = this.eventRun = undefined;
    this.kills.stop();
    this.health.stop();
    this.updates.stop();
    for (const o of this.offers.values()) o.timer?.cancel();
    for (const f of this.frameworks.values()) {
      f.failoverTimer?.cancel();
      f.failoverTimer = undefined;
    }
  }

  // ---- agents ----------------------------------------------------------------------------------

  /**
   * Registers an agent and returns its id. With the id of an unreachable agent this is its
   * re-registration after a partition: `info.tasks` says what it still has; tasks of
   * partition-aware frameworks come back, tasks the master no longer runs are killed, and its
   * unreachable tasks it does not report are `gone`. With the id and driver of a registered agent the
   * report is reconciled the same way. Throws on invalid info, a clash of ids, or an agent marked gone.
   */
  registerAgent(info: AgentInfo, driver: AgentDriver, id = `agent-${++this.seq}`): string {
    const bad = invalidAgentInfo(info);
    if (bad) throw new Error(`invalid agent info: ${bad}`);
    if (this.goneAgents.has(id)) {
      driver.shutdown?.(`agent ${id} was marked gone`);
      throw new Error(`agent ${id} was marked gone and cannot register again`);
    }
    const existing = this.agents.get(id);
    if (existing) {
      if (existing.driver !== driver) throw new Error(`agent ${id} already registered`);
      this.health.forget(id);
      this.reconcileReport(existing, info.tasks, []);
      return id;
    }
    const u = this.unreachable.get(id);
    if (u) this.unreachable.delete(id);
    const now = this.clock.now();
    const backends = [...info.backends];
    const rec: AgentRecord = {
      id, slot: { id }, info: { hostname: info.hostname, resources: { cpus: info.resources.cpus, mem: info.resources.mem }, backends, ...extraInfo(info) },
      driver, registeredAt: u ? u.registeredAt : now, hostname: info.hostname, backends, offers: 0, live: [], usedCpus: 0, usedMem: 0, offeredCpus: 0, offeredMem: 0,
    };
    if (u) rec.reregisteredAt = now;
    this.agents.set(id, rec);
    this.health.forget(id);
    rec.slot = this.allocator.addAgent(id, rec.info.resources, rec);
    if (u) this.counters.agentsReregistered++;
    else this.counters.agentsRegistered++;
    this.reconcileReport(rec, info.tasks, u?.tasks ?? []);
    this.requestAllocation();
    return id;
  }

  /** Where an agent id stands: registered, unreachable (it may come back), gone (it may not), or unknown. */
  agentStatus(agentId: string): 'registered' | 'unreachable' | 'gone' | 'unknown' {
    if (this.goneAgents.has(agentId)) return 'gone';
    if (this.agents.has(agentId)) return 'registered';
    return this.unreachable.has(agentId) ? 'unreachable' : 'unknown';
  }

  /** An agent answered a ping. */
  pong(agentId: string): void {
    if (this.agents.has(agentId)) this.health.pong(agentId);
  }

  /**
   * Removes an agent (on request): its offers are rescinded, its tasks become `lost` (or `gone` for
   * partition-aware frameworks), its resources leave, and it is told to shut down. Also ends an
   * unreachable agent's wait: its unreachable tasks are `gone`.
   */
  removeAgent(agentId: string, reason: string): void {
    this.retireAgent(agentId, reason, 'agent_removed');
  }

  /**
   * Mesos' MARK_AGENT_GONE: like removeAgent, and the agent can never register again under this id.
   */
  markAgentGone(agentId: string, reason = 'marked gone'): void {
    if (!this.agents.has(agentId) && !this.unreachable.has(agentId)) return;
    this.goneAgents.add(agentId);
    this.retireAgent(agentId, reason, 'agent_removed');
  }

  // ---- frameworks ------------------------------------------------------------------------------

  /**
   * Registers a framework scheduler and returns its driver. With the id of a registered framework this
   * is a failover: the new scheduler takes over its tasks (the old one, if still connected, gets
   * error('framework failed over')); its outstanding offers are rescinded and waiting status
   * updates are sent to the new one. With the id of a torn-down framework, the scheduler gets
   * error('framework … has been removed') and an inert driver, as in Mesos.
   */
  registerFramework(scheduler: Scheduler, info: FrameworkInfo): FrameworkDriver {
    const bad = invalidFrameworkInfo(info);
    if (bad) throw new Error(`invalid framework info: ${bad}`);
    const id = info.id;
    if (id !== undefined && this.completedFrameworks.has(id)) {
      const driver = this.makeDriver(id, {});
      scheduler.error?.(driver, `framework ${id} has been removed`);
      return driver;
    }
    if (id !== undefined) {
      const fw = this.frameworks.get(id);
      if (fw) return this.failover(fw, scheduler, info);
    }
    let fid = id;
    if (fid === undefined) do fid = `framework-${++this.seq}`; while (this.frameworks.has(fid) || this.completedFrameworks.has(fid));
    const token = {};
    const driver = this.makeDriver(fid, token);
    const min = info.minAllocatableResources ?? DEFAULT_MIN_ALLOCATABLE;
    const rec: FrameworkRecord = {
      id: fid, handle: { id: fid }, name: info.name, weight: info.weight ?? 1, scheduler, driver, token, connected: true,
      failoverTimeoutMs: (info.failoverTimeoutSeconds ?? 0) * 1000, partitionAware: info.partitionAware ?? false, min,
      offers: 0, live: 0, usedCpus: 0, usedMem: 0, offeredCpus: 0, offeredMem: 0, registeredAt: this.clock.now(),
    };
    this.frameworks.set(fid, rec);
    rec.handle = this.allocator.addFramework(fid, rec.weight, min, rec);
    this.counters.frameworksRegistered++;
    scheduler.registered?.(driver);
    this.requestAllocation();
    return driver;
  }

  /**
   * The framework's scheduler went away (its connection closed): its offers are rescinded and it gets
   * no offers or updates until it re-subscribes with its id. With a failover timeout of 0 it is torn
   * down at once; otherwise after the timeout.
   */
  disconnectFramework(frameworkId: string): void {
    const fw = this.frameworks.get(frameworkId);
    if (!fw || !fw.connected) return;
    fw.connected = false;
    fw.disconnectedAt = this.clock.now();
    this.withdrawOffers(fw, true);
    this.allocator.deactivate(frameworkId);
    if (fw.failoverTimeoutMs <= 0) {
      this.teardown(frameworkId);
      return;
    }
    fw.failoverTimer = this.clock.setTimer(fw.failoverTimeoutMs, () => {
      fw.failoverTimer = undefined;
      if (this.frameworks.get(frameworkId) === fw && !fw.connected) this.teardown(frameworkId);
    });
  }

  // ---- status updates --------------------------------------------------------------------------

  /**
   * Handles a status update from an agent. It is dropped (and counted invalid) when it is not about
   * a known task on that very agent, or is not a valid transition; an update from an agent that is
   * not registered is ignored. A terminal update frees the task's resources at once. The update is
   * then queued for the framework, after the task's earlier updates.
   */
  statusUpdate(status: TaskStatus): void {
    if (!status || typeof status !== 'object' || !isTaskState(status.state) || typeof status.taskId !== 'string'
      || typeof status.frameworkId !== 'string' || typeof status.agentId !== 'string') {
      this.counters.invalidUpdates++;
      return;
    }
    const agent = this.agents.get(status.agentId);
    if (!agent) return;
    const rec = this.tasks.get(status.frameworkId)?.get(status.taskId);
    if (isTerminal(status.state)) this.kills.answered(status.agentId, status.frameworkId, status.taskId);
    if (!rec || rec.task.agentId !== status.agentId) {
      this.counters.invalidUpdates++;
      if (!isTerminal(status.state) && !rec) this.killOn(agent, status.frameworkId, status.taskId);
      return;
    }
    if (rec.state === status.state) {
      if (rec[HOLDER] === agent || isTerminal(rec.state)) {
        this.counters.statusUpdates++;
        return;
      }
    }
    if (rec.state === 'killed' && status.state === 'killing') return; // the agent is carrying out a kill the master already counted (teardown)
    if (isTerminal(rec.state) || !canTransition(rec.state, status.state) || rec[HOLDER] !== agent) {
      this.counters.invalidUpdates++;
      if (isTerminal(rec.state) && !isTerminal(status.state)) this.killOn(agent, status.frameworkId, status.taskId);
      return;
    }
    this.apply(rec, status);
  }

  /** Runs one allocation now and sends the resulting offers. Its real duration is recorded. */
  allocate(): void {
    const t0 = this.realNow();
    const batched: FrameworkRecord[] = [];
    const now = this.clock.now();
    const timeout = this.opts.offerTimeoutMs;
    let made = 0;
    this.allocator.allocate((f, a, resources) => {
      const agent = a.owner as AgentRecord;
      const fw = f.owner as FrameworkRecord;
      const frameworkId = fw.id;
      const offer: Offer = {
        id: this.offers.nextId(), frameworkId, agentId: agent.id, hostname: agent.hostname,
        resources, backends: agent.backends, createdAt: now,
      };
      this.offers.add(offer, agent, fw, timeout === undefined ? undefined : this.clock.setTimer(timeout, () => this.rescind(offer.id)));
      agent.offers++;
      agent.offeredCpus = r3(agent.offeredCpus + resources.cpus);
      agent.offeredMem = r3(agent.offeredMem + resources.mem);
      fw.offers++;
      fw.offeredCpus = r3(fw.offeredCpus + resources.cpus);
      fw.offeredMem = r3(fw.offeredMem + resources.mem);
      if (fw.batch) fw.batch.push(offer);
      else {
        fw.batch = [offer];
        batched.push(fw);
      }
      made++;
    });
    const ms = this.realNow() - t0;
    this.counters.allocationRuns++;
    this.counters.offers += made;
    const samples = this.counters.allocationRunMs;
    samples.push(ms);
    if (samples.length > this.keepRunSamples) samples.splice(0, samples.length - this.keepRunSamples);
    for (const fw of batched) {
      const list = fw.batch!;
      fw.batch = undefined;
      if (this.frameworks.get(fw.id) === fw && fw.connected) fw.scheduler.resourceOffers(fw.driver, list);
    }
  }

  /** Schedules an event-triggered allocation run, batched. Nothing after stop(). */
  requestAllocation(): void {
    const delay = this.opts.eventAllocationDelayMs === undefined ? 0 : this.opts.eventAllocationDelayMs;
    if (delay === null || this.eventRun || this.stopped) return;
    this.eventRun = this.clock.setTimer(delay, () => {
      this.eventRun = undefined;
      this.allocate();
    });
  }

  /** Withdraws an offer; its resources return (for the next run) and the framework is told. */
  rescind(offerId: string): void {
    const rec = this.takeOffer(offerId);
    if (!rec) return;
    this.counters.rescinded++;
    const fw = rec.fw;
    this.allocator.recover(fw.handle, rec.agent.slot, rec.offer.resources);
    if (fw?.connected) fw.scheduler.offerRescinded?.(fw.driver, offerId);
  }

  // ---- views -----------------------------------------------------------------------------------

  /** One task's record (live, or among the recently completed). */
  task(frameworkId: string, taskId: string): TaskRecord | undefined {
    return this.tasks.get(frameworkId)?.get(taskId);
  }

  /** Every task record: live ones and the recently completed. */
  allTasks(): TaskRecord[] {
    const out: TaskRecord[] = [];
    for (const rec of this.taskRecords()) out.push(rec);
    return out;
  }

  /** Every task record, lazily (live ones and the recently completed), framework by framework. */
  *taskRecords(): IterableIterator<TaskRecord> {
    for (const table of this.tasks.values()) yield* table.values();
  }

  /** Number of task records (live and recently completed). */
  get taskRecordCount(): number {
    let n = 0;
    for (const table of this.tasks.values()) n += table.size;
    return n;
  }

  /** Outstanding offers (one page of them when `page` is given). */
  outstandingOffers(page?: Page): Offer[] {
    return window(this.offers.values()[Symbol.iterator](), page, (o) => o.offer);
  }

  /** Number of outstanding offers. */
  get outstandingOfferCount(): number {
    return this.offers.size;
  }

  /** Number of registered agents. */
  get agentCount(): number {
    return this.agents.size;
  }

  /** Number of unreachable agents. */
  get unreachableAgentCount(): number {
    return this.unreachable.size;
  }

  /** Number of registered frameworks. */
  get frameworkCount(): number {
    return this.frameworks.size;
  }

  /** Number of remembered torn-down frameworks. */
  get completedFrameworkCount(): number {
    return this.completedFrameworks.size;
  }

  /** Status updates waiting for an acknowledgement (or for their turn). */
  get unacknowledgedUpdates(): number {
    return this.updates.pending;
  }

  /** Kills sent to agents and not answered yet. */
  get pendingKillCount(): number {
    return this.kills.size;
  }

  /** Registered agents with their totals, used, offered and free resources (one page of them when `page` is given). */
  agentList(page?: Page): AgentView[] {
    return window(this.agents.values(), page, (a) => this.agentView(a));
  }

  /** Unreachable agents. */
  unreachableAgentList(): UnreachableAgentView[] {
    return [...this.unreachable.values()].map((u) => ({ id: u.id, hostname: u.info.hostname, since: u.since, tasks: u.tasks.length }));
  }

  /** Registered frameworks with weights, shares and resources (one page of them when `page` is given). */
  frameworkList(page?: Page): FrameworkView[] {
    return window(this.frameworks.values(), page, (f) => this.frameworkView(f));
  }

  /** Torn-down frameworks the master still remembers, oldest first. */
  completedFrameworkList(): CompletedFrameworkView[] {
    return [...this.completedFrameworks.values()].map((c) => ({ ...c }));
  }

  /** Cluster-wide sums over registered agents. */
  resourceTotals(): ResourceTotals {
    const total = { cpus: 0, mem: 0 };
    const used = { cpus: 0, mem: 0 };
    const offered = { cpus: 0, mem: 0 };
    let missing = 0;
    for (const a of this.agents.values()) {
      total.cpus += a.info.resources.cpus;
      total.mem += a.info.resources.mem;
      used.cpus += a.usedCpus;
      used.mem += a.usedMem;
      offered.cpus += a.offeredCpus;
      offered.mem += a.offeredMem;
      if (this.health.misses(a.id) > 0) missing++;
    }
    const fix = (r: Resources): Resources => ({ cpus: r3(r.cpus), mem: r3(r.mem) });
    return {
      agents: this.agents.size, agentsMissingPings: missing, total: fix(total), used: fix(used), offered: fix(offered),
      free: { cpus: Math.max(0, r3(total.cpus - used.cpus - offered.cpus)), mem: Math.max(0, r3(total.mem - used.mem - offered.mem)) },
    };
  }

  /** Framework counts, in Mesos' terms: active = connected and not deactivated (suppressed ones included). */
  frameworkCounts(): { active: number; connected: number; disconnected: number; suppressed: number } {
    let connected = 0;
    let suppressed = 0;
    for (const f of this.frameworks.values()) {
      if (f.connected) connected++;
      if (this.allocator.isSuppressed(f.id)) suppressed++;
    }
    return { active: connected, connected, disconnected: this.frameworks.size - connected, suppressed };
  }

  /** Number of tasks in a state: non-terminal states count tasks now, terminal states count since start. */
  countTasks(state: TaskState): number {
    if (isTerminal(state)) return this.counters.terminal[state];
    return this.liveStates[state];
  }

  // ---- internals: task lifecycle -----------------------------------------------------------------

  /** Applies a valid update to a task record and queues it for the framework. */
  private apply(rec: TaskEntry, status: TaskStatus): void {
    if (isTerminal(rec.state)) return; // a terminal task never changes again (reentrant callers may race)
    this.counters.statusUpdates++;
    this.setState(rec, status.state);
    rec.last = status;
    if (isTerminal(status.state)) {
      this.counters.terminal[status.state]++;
      const freed = this.release(rec);
      this.retire(rec);
      if (freed) this.requestAllocation();
    }
    if (this.frameworks.has(rec.task.frameworkId)) this.updates.enqueue(status);
  }

  /** An update the master makes itself (lost, unreachable, gone, killed at teardown...). */
  private masterUpdate(rec: TaskEntry, state: TaskState, reason: StatusReason, message: string): void {
    this.apply(rec, {
      taskId: rec.task.taskId, frameworkId: rec.task.frameworkId, agentId: rec.task.agentId, state, uuid: this.uuid(),
      timestamp: this.clock.now(), message, reason,
    });
  }

  private setState(rec: TaskEntry, state: TaskState): void {
    const from = rec.state;
    if (!isTerminal(from)) this.liveStates[from]--;
    if (!isTerminal(state)) this.liveStates[state]++;
    rec.state = state;
  }

  /** Starts holding a task's resources on an agent. */
  private hold(rec: TaskEntry, agent: AgentRecord): void {
    const r = rec.task.resources;
    rec[HOLDER] = agent;
    agent.live.push(rec);
    agent.usedCpus = r3(agent.usedCpus + r.cpus);
    agent.usedMem = r3(agent.usedMem + r.mem);
    const fw = this.frameworks.get(rec.task.frameworkId);
    if (fw) {
      fw.usedCpus = r3(fw.usedCpus + r.cpus);
      fw.usedMem = r3(fw.usedMem + r.mem);
    }
  }

  /** Stops holding a task's resources: they go back to the allocator at once. Returns true when it held some. */
  private release(rec: TaskEntry): boolean {
    const agent = rec[HOLDER];
    if (!agent) return false;
    rec[HOLDER] = undefined;
    removeItem(agent.live, rec);
    const r = rec.task.resources;
    agent.usedCpus = Math.max(0, r3(agent.usedCpus - r.cpus));
    agent.usedMem = Math.max(0, r3(agent.usedMem - r.mem));
    const fw = this.frameworks.get(rec.task.frameworkId);
    if (fw) {
      fw.usedCpus = Math.max(0, r3(fw.usedCpus - r.cpus));
      fw.usedMem = Math.max(0, r3(fw.usedMem - r.mem));
    }
    this.allocator.recover(fw?.handle ?? rec.task.frameworkId, agent.slot, r);
    return true;
  }

  /** A task reached a terminal state: it leaves the live counts; the oldest completed ones are forgotten. */
  private retire(rec: TaskEntry): void {
    const fid = rec.task.frameworkId;
    const fw = this.frameworks.get(fid);
    if (fw) fw.live--;
    const table = this.tasks.get(fid);
    let ring = this.completed.get(fid);
    if (!ring) this.completed.set(fid, (ring = { recs: [], head: 0 }));
    if (ring.recs.length < this.keepCompleted) {
      ring.recs.push(rec);
      return;
    }
    if (this.keepCompleted <= 0) {
      table?.delete(rec.task.taskId);
      return;
    }
    const old = ring.recs[ring.head]!;
    if (table?.get(old.task.taskId) === old) table.delete(old.task.taskId);
    ring.recs[ring.head] = rec;
    ring.head = (ring.head + 1) % this.keepCompleted;
  }

  /** Hands an update to its framework; false when the framework cannot be reached now. */
  private deliver(status: TaskStatus): boolean {
    const fw = this.frameworks.get(status.frameworkId);
    if (!fw) return true;
    if (!fw.connected) return false;
    fw.scheduler.statusUpdate(fw.driver, status);
    return true;
  }

  /** Sends an update that needs no acknowledgement and is not kept (reconciliation, unknown tasks). */
  private tell(frameworkId: string, status: Omit<TaskStatus, 'uuid' | 'frameworkId' | 'timestamp'>): void {
    const fw = this.frameworks.get(frameworkId);
    if (!fw?.connected) return;
    fw.scheduler.statusUpdate(fw.driver, { ...status, frameworkId, uuid: '', timestamp: this.clock.now() });
  }

  /** The tasks an agent reported when (re-)registering, against what the master has. */
  private reconcileReport(agent: AgentRecord, reports: readonly AgentTaskReport[] | undefined, unreachableTasks: readonly TaskEntry[]): void {
    const reported = new Set<TaskEntry>();
    for (const rep of reports ?? []) {
      if (!rep || typeof rep.taskId !== 'string' || typeof rep.frameworkId !== 'string' || !isTaskState(rep.state)) continue;
      const rec = this.tasks.get(rep.frameworkId)?.get(rep.taskId);
      const ours = rec && rec.task.agentId === agent.id && this.frameworks.has(rep.frameworkId);
      if (!rec || !ours || isTerminal(rec.state)) {
        if (!isTerminal(rep.state)) this.killOn(agent, rep.frameworkId, rep.taskId);
        continue;
      }
      reported.add(rec);
      if (rec.state === 'unreachable') {
        if (!isTerminal(rep.state)) {
          if (!this.allocator.allocateUsed(rep.frameworkId, agent.id, rec.task.resources)) {
            this.masterUpdate(rec, 'lost', 'agent_reregistered', `agent ${agent.id} came back without room for the task`);
            this.killOn(agent, rep.frameworkId, rep.taskId);
            continue;
          }
          this.hold(rec, agent);
        }
        const to: TaskState = canTransition('unreachable', rep.state) ? rep.state : 'running';
        this.masterUpdate(rec, to, 'agent_reregistered', `agent ${agent.id} re-registered`);
        if (rec[KILL] && !isTerminal(rec.state)) this.killOn(agent, rep.frameworkId, rep.taskId);
      } else if (rec[HOLDER] === agent && rep.state !== rec.state && canTransition(rec.state, rep.state)) {
        this.apply(rec, {
          taskId: rec.task.taskId, frameworkId: rec.task.frameworkId, agentId: agent.id, state: rep.state, uuid: this.uuid(),
          timestamp: this.clock.now(), reason: 'agent_reregistered',
        });
      }
    }
    for (const rec of unreachableTasks) {
      if (rec.state === 'unreachable' && !reported.has(rec)) {
        this.masterUpdate(rec, 'gone', 'agent_restarted', `agent ${agent.id} re-registered without the task`);
      }
    }
    // Tasks the master has on a registered agent that re-registers without them (Mesos: unknown to the agent).
    if (!reports) return;
    for (const rec of [...agent.live]) {
      if (reported.has(rec)) continue;
      const pa = this.frameworks.get(rec.task.frameworkId)?.partitionAware;
      this.masterUpdate(rec, pa ? 'dropped' : 'lost', 'task_unknown', `agent ${agent.id} re-registered without the task`);
    }
  }

  /** Health checks found an agent silent: offers rescinded, resources gone, tasks unreachable (partition-aware) or lost. */
  private markUnreachable(agentId: string, reason: string): void {
    const a = this.agents.get(agentId);
    if (!a) return;
    this.rescindOffersOn(a);
    const u: UnreachableAgent = { id: agentId, registeredAt: a.registeredAt, info: a.info, driver: a.driver, since: this.clock.now(), tasks: [] };
    const message = `agent ${agentId} unreachable: ${reason}`;
    for (const rec of [...a.live]) {
      const fw = this.frameworks.get(rec.task.frameworkId);
      if (fw?.partitionAware) {
        this.release(rec);
        u.tasks.push(rec);
        this.masterUpdate(rec, 'unreachable', 'agent_unreachable', message);
      } else this.masterUpdate(rec, 'lost', 'agent_unreachable', message);
    }
    this.agents.delete(agentId);
    this.allocator.removeAgent(agentId);
    this.unreachable.set(agentId, u);
    this.counters.agentsUnreachable++;
    this.tellAgentLost(agentId);
  }

  /** Tells every connected framework that an agent was lost (Mesos' FAILURE event). */
  private tellAgentLost(agentId: string): void {
    for (const fw of [...this.frameworks.values()]) if (fw.connected) fw.scheduler.agentLost?.(fw.driver, agentId);
  }

  /** Removes a registered or unreachable agent for good (removeAgent, markAgentGone). */
  private retireAgent(agentId: string, reason: string, why: StatusReason): void {
    const a = this.agents.get(agentId);
    const message = `agent ${agentId} removed: ${reason}`;
    if (a) {
      this.rescindOffersOn(a);
      for (const rec of [...a.live]) {
        const fw = this.frameworks.get(rec.task.frameworkId);
        this.masterUpdate(rec, fw?.partitionAware ? 'gone' : 'lost', why, message);
      }
      this.agents.delete(agentId);
      this.allocator.removeAgent(agentId);
      this.health.forget(agentId);
      this.counters.agentsRemoved++;
      this.kills.forgetAgent(agentId);
      a.driver.shutdown?.(reason);
      this.tellAgentLost(agentId);
      return;
    }
    const u = this.unreachable.get(agentId);
    if (!u) return;
    for (const rec of u.tasks) if (rec.state === 'unreachable') this.masterUpdate(rec, 'gone', why, message);
    this.unreachable.delete(agentId);
    this.kills.forgetAgent(agentId);
    this.counters.agentsRemoved++;
  }

  private *pingTargets(): IterableIterator<{ id: string; ping?: () => void }> {
    for (const a of this.agents.values()) {
      const d = a.driver;
      yield { id: a.id, ping: d.ping ? () => d.ping!() : undefined };
    }
  }

  // ---- internals: kills --------------------------------------------------------------------------

  /** Sends a kill and keeps resending it (with back-off) until the agent answers with a terminal update. */
  private killOn(agent: AgentRecord, frameworkId: string, taskId: string): void {
    this.kills.kill(agent.id, frameworkId, taskId);
  }

  // ---- internals: offers -----------------------------------------------------------------------

  /** Removes an outstanding offer from the books (resources not yet recovered); returns it with its records. */
  private takeOffer(offerId: string): OfferRecord | undefined {
    const offer = this.offers.take(offerId);
    if (!offer) return undefined;
    const a = this.offers.takenAgent!;
    const fw = this.offers.takenFw!;
    this.offers.takenTimer?.cancel();
    this.unbook(offer, a, fw);
    return { offer, agent: a, fw };
  }

  /** Takes an offer's resources off its agent's and framework's offered sums. */
  private unbook(offer: Offer, a: AgentRecord, fw: FrameworkRecord): void {
    const r = offer.resources;
    a.offeredCpus = Math.max(0, r3(a.offeredCpus - r.cpus));
    a.offeredMem = Math.max(0, r3(a.offeredMem - r.mem));
    a.offers--;
    fw.offers--;
    fw.offeredCpus = Math.max(0, r3(fw.offeredCpus - r.cpus));
    fw.offeredMem = Math.max(0, r3(fw.offeredMem - r.mem));
  }

  /** Rescinds every outstanding offer on an agent (it is leaving): a scan, as agents leave rarely. */
  private rescindOffersOn(a: AgentRecord): void {
    if (a.offers === 0) return;
    for (const o of this.offers.values()) if (o.agent === a) this.rescind(o.offer.id);
  }

  /** Takes back all of a framework's offers; tells it when `rescinded` and it is connected. */
  private withdrawOffers(fw: FrameworkRecord, rescinded: boolean): void {
    if (fw.offers === 0) return;
    for (const o of this.offers.values()) {
      const offerId = o.offer.id;
      if (o.offer.frameworkId !== fw.id) continue;
      this.takeOffer(offerId);
      if (rescinded) this.counters.rescinded++;
      this.allocator.recover(fw.handle, o.agent.slot, o.offer.resources);
    }
  }

  private accept(frameworkId: string, offerIds: string | readonly string[], launches: TaskLaunch[], filters?: Filters): void {
    const ids = typeof offerIds === 'string' ? [offerIds] : Array.isArray(offerIds) ? (offerIds as string[]) : [];
    const list = Array.isArray(launches) ? launches : [];
    const offerError = validateOffers(ids, {
      frameworkId, offer: (id) => this.offers.get(id), agentRegistered: (id) => this.agents.has(id),
    });
    if (offerError) {
      for (const id of new Set(ids)) {
        const rec = this.offers.entry(id);
        if (rec && rec.offer.frameworkId === frameworkId) {
          this.takeOffer(id);
          this.counters.declined++;
          this.allocator.recover(frameworkId, rec.agent.slot, rec.offer.resources);
        }
      }
      for (const l of list) this.error(frameworkId, l, 'invalid_offers', offerError);
      return;
    }
    const recs = ids.map((id) => this.takeOffer(id)!);
    const agent = recs[0]!.agent;
    let cpus = 0;
    let mem = 0;
    for (const r of recs) {
      cpus += r.offer.resources.cpus;
      mem += r.offer.resources.mem;
    }
    let table = this.tasks.get(frameworkId);
    if (!table) this.tasks.set(frameworkId, (table = new Map()));
    const live = table;
    const accepted: LaunchedTask[] = [];
    const now = this.clock.now();
    const first = recs[0]!.offer;
    const ctx = {
      agentId: agent.id, backends: agent.backends, remaining: { cpus: r3(cpus), mem: r3(mem) } as Resources, seen: new Set<string>(),
      isLive: (id: string): boolean => {
        const t = live.get(id);
        return t !== undefined && !isTerminal(t.state);
      },
    };
    for (const l of list) {
      const problem = validateTask(l, ctx);
      if (typeof l?.taskId === 'string') ctx.seen.add(l.taskId);
      if (problem) {
        this.error(frameworkId, l, 'task_invalid', problem);
        continue;
      }
      const res = { cpus: l.resources.cpus ?? 0, mem: l.resources.mem ?? 0 };
      ctx.remaining = { cpus: Math.max(0, r3(ctx.remaining.cpus - res.cpus)), mem: Math.max(0, r3(ctx.remaining.mem - res.mem)) };
      accepted.push({
        taskId: l.taskId, name: l.name, resources: res, backend: l.backend, payload: l.payload, timeoutMs: l.timeoutMs,
        frameworkId, agentId: agent.id, offerId: first.id, offeredAt: first.createdAt, acceptedAt: now,
      });
    }
    if (accepted.length > 0) this.counters.accepted += recs.length;
    else this.counters.declined += recs.length;
    const fw = this.frameworks.get(frameworkId)!;
    const remaining = ctx.remaining;
    if (remaining.cpus > 0 || remaining.mem > 0) {
      this.allocator.recover(fw.handle, agent.slot, remaining);
      this.allocator.addFilter(fw.handle, agent.slot, remaining, filters?.refuseSeconds);
    }
    const entries: TaskEntry[] = [];
    for (const t of accepted) {
      const rec: TaskEntry = { task: t, state: 'staging' };
      this.liveStates.staging++;
      const old = table.get(t.taskId);
      if (old) this.forgetCompleted(old);
      table.set(t.taskId, rec);
      fw.live++;
      this.hold(rec, agent);
      this.counters.launched++;
      entries.push(rec);
    }
    for (const rec of entries) {
      if (rec.state !== 'staging' || rec[HOLDER] !== agent) continue;
      try {
        agent.driver.launch(rec.task);
      } catch (err) {
        if (rec.state === 'staging') this.masterUpdate(rec, 'dropped', 'task_killed_during_launch', `launch did not reach agent ${agent.id}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  /** Reports an invalid launch as `error` (Mesos' TASK_ERROR); nothing else changes. */
  private error(frameworkId: string, l: TaskLaunch, reason: StatusReason, message: string): void {
    const taskId = typeof l?.taskId === 'string' ? l.taskId : '';
    this.counters.terminal.error++;
    if (!this.frameworks.has(frameworkId)) return;
    this.updates.enqueue({ taskId, frameworkId, agentId: '', state: 'error', uuid: this.uuid(), timestamp: this.clock.now(), message, reason });
  }

  /** A completed record replaced by a new launch of the same id leaves the completed ring. */
  private forgetCompleted(old: TaskEntry): void {
    const ring = this.completed.get(old.task.frameworkId);
    if (!ring) return;
    const i = ring.recs.indexOf(old);
    if (i < 0) return;
    ring.recs.splice(i, 1);
    if (ring.head > i) ring.head--;
    if (ring.head >= ring.recs.length) ring.head = 0;
  }

  private decline(frameworkId: string, offerIds: string | readonly string[], filters?: Filters): void {
    if (typeof offerIds === 'string') this.declineOne(frameworkId, offerIds, filters);
    else if (Array.isArray(offerIds)) for (const id of offerIds) this.declineOne(frameworkId, id, filters);
  }

  private declineOne(frameworkId: string, offerId: string, filters?: Filters): void {
    const offer = this.offers.get(offerId);
    if (!offer || offer.frameworkId !== frameworkId) return;
    this.offers.take(offerId);
    const agent = this.offers.takenAgent!;
    const fw = this.offers.takenFw!;
    this.offers.takenTimer?.cancel();
    this.unbook(offer, agent, fw);
    this.counters.declined++;
    const r = offer.resources;
    this.allocator.recover(fw.handle, agent.slot, r);
    this.allocator.addFilter(fw.handle, agent.slot, r, filters?.refuseSeconds);
  }


  private kill(frameworkId: string, taskId: string): void {
    const rec = this.tasks.get(frameworkId)?.get(taskId);
    if (!rec) {
      const fw = this.frameworks.get(frameworkId);
      this.tell(frameworkId, {
        taskId, agentId: '', state: fw?.partitionAware ? 'gone' : 'lost', reason: 'task_unknown', message: `kill: task ${clip(taskId)} is unknown`,
      });
      return;
    }
    if (isTerminal(rec.state)) return;
    const agent = rec[HOLDER];
    if (agent) this.killOn(agent, frameworkId, taskId);
    else rec[KILL] = true;
  }

  private reconcile(frameworkId: string, refs?: readonly TaskRef[]): void {
    const fw = this.frameworks.get(frameworkId);
    if (!fw) return;
    const table = this.tasks.get(frameworkId);
    const answer = (rec: TaskRecord): void =>
      this.tell(frameworkId, {
        taskId: rec.task.taskId, agentId: rec.task.agentId, state: rec.state, reason: 'reconciliation',
        message: rec.last?.message, data: isTerminal(rec.state) ? rec.last?.data : undefined,
      });
    if (!refs || refs.length === 0) {
      for (const rec of table?.values() ?? []) if (!isTerminal(rec.state)) answer(rec);
      return;
    }
    const ask = new Map<AgentRecord, { taskId: string; frameworkId: string }[]>();
    for (const ref of refs) {
      const taskId = typeof ref?.taskId === 'string' ? ref.taskId : '';
      const rec = table?.get(taskId);
      if (rec) {
        answer(rec);
        // A task still staging or killing may have an update in flight: ask its agent too.
        const agent = rec[HOLDER];
        if (agent && (rec.state === 'staging' || rec.state === 'killing')) {
          const list = ask.get(agent) ?? [];
          list.push({ taskId, frameworkId });
          ask.set(agent, list);
        }
        continue;
      }
      const agentId = typeof ref?.agentId === 'string' ? ref.agentId : '';
      const state: TaskState = this.unreachable.has(agentId)
        ? (fw.partitionAware ? 'unreachable' : 'lost')
        : fw.partitionAware && (this.agents.has(agentId) || this.goneAgents.has(agentId)) ? 'gone' : 'lost';
      this.tell(frameworkId, { taskId, agentId, state, reason: 'reconciliation', message: `task ${clip(taskId)} is unknown` });
    }
    for (const [agent, list] of ask) agent.driver.reconcile?.(list);
  }

  /** A framework re-subscribed with its id. */
  private failover(fw: FrameworkRecord, scheduler: Scheduler, info: FrameworkInfo): FrameworkDriver {
    const old = { scheduler: fw.scheduler, driver: fw.driver, connected: fw.connected };
    fw.failoverTimer?.cancel();
    fw.failoverTimer = undefined;
    this.withdrawOffers(fw, true);
    fw.token = {};
    fw.driver = this.makeDriver(fw.id, fw.token);
    fw.scheduler = scheduler;
    fw.connected = true;
    fw.disconnectedAt = undefined;
    fw.reregisteredAt = this.clock.now();
    fw.name = info.name;
    if (info.failoverTimeoutSeconds !== undefined) fw.failoverTimeoutMs = info.failoverTimeoutSeconds * 1000;
    if (info.partitionAware !== undefined) fw.partitionAware = info.partitionAware;
    if (info.weight !== undefined && info.weight !== fw.weight) {
      fw.weight = info.weight;
      this.allocator.setWeight(fw.id, info.weight);
    }
    if (info.minAllocatableResources !== undefined) {
      fw.min = info.minAllocatableResources;
      this.allocator.setMinAllocatable(fw.id, fw.min);
    }
    this.allocator.activate(fw.id);
    this.counters.frameworksReregistered++;
    if (old.connected && old.scheduler !== scheduler) old.scheduler.error?.(old.driver, 'framework failed over');
    scheduler.registered?.(fw.driver);
    this.updates.resume(fw.id);
    this.requestAllocation();
    return fw.driver;
  }

  /**
   * Removes a framework (Mesos' removeFramework): offers withdrawn, every live task `killed` with reason
   * `framework_removed` and its resources recovered at once; kills go to the agents and are resent
   * until they answer.
   */
  private teardown(frameworkId: string): void {
    const fw = this.frameworks.get(frameworkId);
    if (!fw) return;
    fw.failoverTimer?.cancel();
    fw.connected = false;
    this.withdrawOffers(fw, false);
    this.updates.dropFramework(frameworkId);
    for (const rec of [...(this.tasks.get(frameworkId)?.values() ?? [])]) {
      if (isTerminal(rec.state)) continue;
      const agent = rec[HOLDER];
      this.masterUpdate(rec, 'killed', 'framework_removed', `framework ${frameworkId} removed`);
      if (agent) this.killOn(agent, frameworkId, rec.task.taskId);
    }
    this.updates.dropFramework(frameworkId);
    this.frameworks.delete(frameworkId);
    this.allocator.removeFramework(frameworkId);
    this.completedFrameworks.set(frameworkId, { id: frameworkId, name: fw.name, registeredAt: fw.registeredAt, unregisteredAt: this.clock.now() });
    while (this.completedFrameworks.size > this.keepFrameworks) {
      const oldest = this.completedFrameworks.keys().next().value!;
      this.completedFrameworks.delete(oldest);
      this.tasks.delete(oldest);
      this.completed.delete(oldest);
    }
    this.counters.frameworksRemoved++;
  }

  private uuid(): string {
    return `master-${this.startedAt.toString(36)}-${(++this.seq).toString(36)}`;
  }

  private makeDriver(frameworkId: string, token: object): FrameworkDriver {
    /** Runs a call only while this driver belongs to the framework's current, connected registration. */
    const current = (): boolean => {
      const fw = this.frameworks.get(frameworkId);
      return fw !== undefined && fw.token === token && fw.connected;
    };
    return {
      frameworkId,
      accept: (offerIds, tasks, filters) => {
        if (current()) this.accept(frameworkId, offerIds, tasks, filters);
      },
      decline: (offerIds, filters) => {
        if (current()) this.decline(frameworkId, offerIds, filters);
      },
      suppress: () => {
        if (current()) this.allocator.suppress(frameworkId);
      },
      revive: () => {
        if (!current()) return;
        this.allocator.revive(frameworkId);
        this.requestAllocation();
      },
      kill: (taskId) => {
        if (current()) this.kill(frameworkId, taskId);
      },
      acknowledge: (status) => {
        if (!current() || !status || typeof status.uuid !== 'string' || status.uuid === '') return;
        if (this.updates.acknowledge(frameworkId, String(status.taskId), status.uuid)) return;
        this.counters.invalidAcknowledgements++;
      },
      reconcile: (tasks) => {
        if (current()) this.reconcile(frameworkId, tasks);
      },
      teardown: () => {
        const fw = this.frameworks.get(frameworkId);
        if (fw && fw.token === token) this.teardown(frameworkId);
      },
    };
  }

  private agentView(a: AgentRecord): AgentView {
    const v: AgentView = {
      id: a.id, info: a.info, free: this.allocator.available(a.id), used: { cpus: a.usedCpus, mem: a.usedMem },
      offered: { cpus: a.offeredCpus, mem: a.offeredMem }, registeredAt: a.registeredAt, tasks: a.live.length, missedPings: this.health.misses(a.id),
    };
    if (a.reregisteredAt !== undefined) v.reregisteredAt = a.reregisteredAt;
    return v;
  }

  private frameworkView(f: FrameworkRecord): FrameworkView {
    const v: FrameworkView = {
      id: f.id, name: f.name, weight: f.weight, share: this.allocator.order.share(f.id), allocated: this.allocator.order.allocation(f.id),
      used: { cpus: f.usedCpus, mem: f.usedMem }, offered: { cpus: f.offeredCpus, mem: f.offeredMem },
      suppressed: this.allocator.isSuppressed(f.id), connected: f.connected, failoverTimeoutSeconds: f.failoverTimeoutMs / 1000,
      partitionAware: f.partitionAware, minAllocatable: f.min, tasks: f.live, offers: f.offers, registeredAt: f.registeredAt,
    };
    if (f.reregisteredAt !== undefined) v.reregisteredAt = f.reregisteredAt;
    if (f.disconnectedAt !== undefined) v.disconnectedAt = f.disconnectedAt;
    return v;
  }
}

/** Maps the items of one page of an iteration (all of them without a page), skipping the rest unmapped. */
function window<T, U>(items: IterableIterator<T>, page: Page | undefined, map: (x: T) => U): U[] {
  const out: U[] = [];
  const from = page?.offset ?? 0;
  const limit = page?.limit ?? Infinity;
  let i = 0;
  for (const x of items) {
    if (out.length >= limit) break;
    if (i++ >= from) out.push(map(x));
  }
  return out;
}

/** Removes one item from a small array by swapping in the last. */
function removeItem<T>(list: T[], item: T): void {
  const i = list.indexOf(item);
  if (i < 0) return;
  list[i] = list[list.length - 1]!;
  list.pop();
}
