import { Allocator } from './allocator.js';
import { RealClock, type Clock, type Timer } from './clock.js';
import { contains, subtract, type Resources } from './resources.js';
import type { Sorter } from './sorter.js';
import { canTransition, isTerminal, type TaskState } from './task-state.js';
import type {
  AgentDriver, AgentInfo, Filters, FrameworkDriver, LaunchedTask, Offer, Scheduler, TaskLaunch, TaskStatus,
} from './types.js';

/** Settings of a master. */
export interface MasterOptions {
  /** Time source; real time when omitted. */
  clock?: Clock;
  /** Period of allocation runs (ms). Default 1000. */
  allocationIntervalMs?: number;
  /**
   * Delay of the extra allocation run triggered by an event (resources freed, framework added,
   * revive), batching events that come together. Default 0; null turns event runs off.
   */
  eventAllocationDelayMs?: number | null;
  /** Offers not answered within this time are rescinded. Off when omitted. */
  offerTimeoutMs?: number;
  /** Refuse time of a decline without filters (s). Default 5, as in Mesos. */
  defaultRefuseSeconds?: number;
  /** Framework order; DRF when omitted. */
  sorter?: Sorter;
  /** Random source for agent order; Math.random when omitted. */
  random?: () => number;
  /** Measures allocation runs in real time (ms); performance.now when omitted. */
  realNow?: () => number;
  /** Agents that implement ping() are pinged this often (ms). Default 15000 (Mesos' agent_ping_timeout); null: never. */
  agentPingTimeoutMs?: number | null;
  /** An agent that missed this many pings in a row is removed. Default 5 (Mesos' max_agent_ping_timeouts). */
  maxAgentPingTimeouts?: number;
  /**
   * First resend delay of a status update the framework has not acknowledged (ms); doubles on each
   * resend up to `statusUpdateMaxRetryMs`. Default 10000 (Mesos). null: updates are sent once.
   */
  statusUpdateRetryMs?: number | null;
  /** Longest resend delay (ms). Default 600000 (Mesos: 10 minutes). */
  statusUpdateMaxRetryMs?: number;
  /** Terminal tasks kept per framework for /state and task(); older ones are forgotten. Default 1000. */
  maxCompletedTasksPerFramework?: number;
  /** Allocation-run durations kept for metrics (newest). Default 100000. */
  maxAllocationRunSamples?: number;
}

/** A task as the master's table holds it. */
export interface TaskRecord {
  /** The launch as the master handed it to the agent. */
  task: LaunchedTask;
  /** Current state. */
  state: TaskState;
  /** Last status update. */
  last?: TaskStatus;
}

interface FrameworkRecord {
  id: string;
  name: string;
  weight: number;
  scheduler: Scheduler;
  driver: FrameworkDriver;
  offers: number;
  live: number;
  registeredAt: number;
}

interface AgentRecord {
  id: string;
  info: AgentInfo;
  driver: AgentDriver;
  registeredAt: number;
  /** Outstanding offers on the agent: a few at most, so an array beats a Set. */
  offers: OfferRecord[];
  /** Non-terminal tasks on the agent. */
  live: TaskRecord[];
  pinged: boolean;
  ponged: boolean;
  misses: number;
}

interface OfferRecord {
  offer: Offer;
  agent: AgentRecord;
  timer?: Timer;
}

/** Where a task record keeps its agent's record, out of sight of JSON and of callers. */
const AGENT = Symbol('agent');

type TaskEntry = TaskRecord & { [AGENT]?: AgentRecord };

interface Unacked {
  status: TaskStatus;
  next: number;
  delay: number;
}

/** Counters behind /metrics/snapshot. */
export interface MasterCounters {
  /** Allocation runs done. */
  allocationRuns: number;
  /** Real time of each allocation run (ms), oldest first; the newest `maxAllocationRunSamples`. */
  allocationRunMs: number[];
  /** Offers made. */
  offers: number;
  /** Offers declined. */
  declined: number;
  /** Offers accepted. */
  accepted: number;
  /** Offers rescinded. */
  rescinded: number;
  /** Tasks launched. */
  launched: number;
  /** Terminal tasks by state. */
  terminal: Record<'finished' | 'failed' | 'killed' | 'lost', number>;
  /** Status updates that were not valid transitions, ignored. */
  invalidUpdates: number;
  /** Status updates received from agents (and made by the master). */
  statusUpdates: number;
  /** Status updates sent again because the framework had not acknowledged them. */
  statusUpdateResends: number;
  /** Acknowledgements received. */
  acknowledgements: number;
  /** Agents registered since start. */
  agentsRegistered: number;
  /** Agents removed (missed pings or on request). */
  agentsRemoved: number;
  /** Pings that went unanswered. */
  pingTimeouts: number;
  /** Frameworks registered since start. */
  frameworksRegistered: number;
  /** Frameworks torn down. */
  frameworksRemoved: number;
}

/** A registered agent as agentList() describes it. */
export interface AgentView {
  /** Agent id. */
  id: string;
  /** What the agent registered with. */
  info: AgentInfo;
  /** Free resources (neither offered nor used). */
  free: Resources;
  /** Clock time of registration (ms). */
  registeredAt: number;
  /** Non-terminal tasks on the agent. */
  tasks: number;
  /** Pings missed in a row (0 when healthy). */
  missedPings: number;
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
  /** Offered plus used resources. */
  allocated: Resources;
  /** True while suppressed. */
  suppressed: boolean;
  /** Non-terminal tasks. */
  tasks: number;
  /** Outstanding offers. */
  offers: number;
  /** Clock time of registration (ms). */
  registeredAt: number;
}

/** Embedded Mesos-style master: agents, frameworks, offers, tasks. */
export class Master {
  /** Time source. */
  readonly clock: Clock;
  /** The allocator deciding offers. */
  readonly allocator: Allocator;
  /** Counters for metrics. */
  readonly counters: MasterCounters = {
    allocationRuns: 0, allocationRunMs: [], offers: 0, declined: 0, accepted: 0, rescinded: 0, launched: 0,
    terminal: { finished: 0, failed: 0, killed: 0, lost: 0 }, invalidUpdates: 0, statusUpdates: 0, statusUpdateResends: 0,
    acknowledgements: 0, agentsRegistered: 0, agentsRemoved: 0, pingTimeouts: 0, frameworksRegistered: 0, frameworksRemoved: 0,
  };
  /** Clock time the master was built (ms). */
  readonly startedAt: number;
  private readonly opts: MasterOptions;
  private readonly intervalMs: number;
  private readonly refuseSeconds: number;
  private readonly pingMs: number | null;
  private readonly maxMisses: number;
  private readonly retryMs: number | null;
  private readonly maxRetryMs: number;
  private readonly keepCompleted: number;
  private readonly keepRunSamples: number;
  private readonly realNow: () => number;
  private readonly agents = new Map<string, AgentRecord>();
  private readonly frameworks = new Map<string, FrameworkRecord>();
  private readonly offers = new Map<string, OfferRecord>();
  /** Task table: framework id → task id → record; outlives a torn-down framework until its tasks end. */
  private readonly tasks = new Map<string, Map<string, TaskRecord>>();
  private readonly completed = new Map<string, { recs: TaskRecord[]; head: number }>();
  private readonly liveStates: Record<'staging' | 'starting' | 'running', number> = { staging: 0, starting: 0, running: 0 };
  private readonly unacked = new Map<string, Unacked>();
  /** The update being delivered right now, and whether it was acknowledged during its delivery. */
  private deliveringUuid?: string;
  private deliveringAcked = false;
  private periodic?: Timer;
  private eventRun?: Timer;
  private pingTimer?: Timer;
  private ackTimer?: Timer;
  private seq = 0;

  constructor(opts: MasterOptions = {}) {
    this.opts = opts;
    this.clock = opts.clock ?? new RealClock();
    this.startedAt = this.clock.now();
    this.intervalMs = opts.allocationIntervalMs ?? 1000;
    this.refuseSeconds = opts.defaultRefuseSeconds ?? 5;
    this.pingMs = opts.agentPingTimeoutMs === undefined ? 15_000 : opts.agentPingTimeoutMs;
    this.maxMisses = opts.maxAgentPingTimeouts ?? 5;
    this.retryMs = opts.statusUpdateRetryMs === undefined ? 10_000 : opts.statusUpdateRetryMs;
    this.maxRetryMs = opts.statusUpdateMaxRetryMs ?? 600_000;
    this.keepCompleted = opts.maxCompletedTasksPerFramework ?? 1000;
    this.keepRunSamples = opts.maxAllocationRunSamples ?? 100_000;
    this.realNow = opts.realNow ?? (() => performance.now());
    this.allocator = new Allocator({ clock: this.clock, sorter: opts.sorter, random: opts.random });
  }

  /** Starts periodic allocation runs and agent health checks. */
  start(): void {
    if (this.periodic) return;
    const tick = (): void => {
      this.periodic = this.clock.setTimer(this.intervalMs, tick);
      this.allocate();
    };
    this.periodic = this.clock.setTimer(this.intervalMs, tick);
    if (this.pingMs !== null && this.pingMs > 0) {
      const ms = this.pingMs;
      const ping = (): void => {
        this.pingTimer = this.clock.setTimer(ms, ping);
        this.pingAgents();
      };
      this.pingTimer = this.clock.setTimer(ms, ping);
    }
  }

  /** Stops all timers. */
  stop(): void {
    for (const t of [this.periodic, this.eventRun, this.pingTimer, this.ackTimer]) t?.cancel();
    this.periodic = this.eventRun = this.pingTimer = this.ackTimer = undefined;
    for (const o of this.offers.values()) o.timer?.cancel();
  }

  /** Registers an agent; returns its id. */
  registerAgent(info: AgentInfo, driver: AgentDriver, id = `agent-${++this.seq}`): string {
    if (this.agents.has(id)) throw new Error(`agent ${id} already registered`);
    const rec: AgentRecord = {
      id, info: { ...info, resources: { ...info.resources } }, driver, registeredAt: this.clock.now(),
      offers: [], live: [], pinged: false, ponged: false, misses: 0,
    };
    this.agents.set(id, rec);
    this.counters.agentsRegistered++;
    this.allocator.addAgent(id, info.resources, rec);
    this.requestAllocation();
    return id;
  }

  /** An agent answered a ping. */
  pong(agentId: string): void {
    const a = this.agents.get(agentId);
    if (a) a.ponged = true;
  }

  /** Removes an agent: its offers are rescinded, its live tasks become `lost`, its resources leave. */
  removeAgent(agentId: string, reason: string): void {
    const a = this.agents.get(agentId);
    if (!a) return;
    for (const o of [...a.offers]) this.rescind(o.offer.id);
    for (const rec of [...a.live]) {
      this.statusUpdate({
        taskId: rec.task.taskId, frameworkId: rec.task.frameworkId, agentId, state: 'lost',
        uuid: this.uuid(), timestamp: this.clock.now(), message: `agent ${agentId} removed: ${reason}`,
      });
    }
    this.agents.delete(agentId);
    this.allocator.removeAgent(agentId);
    this.counters.agentsRemoved++;
    a.driver.shutdown?.(reason);
  }

  /** Registers a framework scheduler; returns its driver. */
  registerFramework(scheduler: Scheduler, opts: { name: string; weight?: number; id?: string }): FrameworkDriver {
    const id = opts.id ?? `framework-${++this.seq}`;
    if (this.frameworks.has(id)) throw new Error(`framework ${id} already registered`);
    const weight = opts.weight ?? 1;
    const driver = this.makeDriver(id);
    this.frameworks.set(id, { id, name: opts.name, weight, scheduler, driver, offers: 0, live: 0, registeredAt: this.clock.now() });
    this.allocator.addFramework(id, weight);
    this.counters.frameworksRegistered++;
    scheduler.registered?.(driver);
    this.requestAllocation();
    return driver;
  }

  /** Handles a status update from an agent (or the master itself for lost tasks). */
  statusUpdate(status: TaskStatus): void {
    const rec = this.tasks.get(status.frameworkId)?.get(status.taskId);
    if (!rec) return;
    if (isTerminal(rec.state) || (rec.state !== status.state && !canTransition(rec.state, status.state))) {
      if (!this.agents.has(status.agentId)) return; // a removed agent's last words
      this.counters.statusUpdates++;
      this.counters.invalidUpdates++;
      return;
    }
    this.counters.statusUpdates++;
    this.setState(rec, status.state);
    rec.last = status;
    if (isTerminal(status.state)) {
      this.counters.terminal[status.state as keyof MasterCounters['terminal']]++;
      this.allocator.recover(rec.task.frameworkId, rec.task.agentId, rec.task.resources);
      this.retire(rec);
      this.requestAllocation();
    }
    this.forward(status);
  }

  /** Runs one allocation now and sends the resulting offers. Its real duration is recorded. */
  allocate(): void {
    const t0 = this.realNow();
    const allocations = this.allocator.allocate();
    const byFramework = new Map<string, Offer[]>();
    const now = this.clock.now();
    for (const a of allocations) {
      const agent = (a.owner as AgentRecord | undefined) ?? this.agents.get(a.agentId)!;
      const offer: Offer = {
        id: `offer-${++this.seq}`, frameworkId: a.frameworkId, agentId: a.agentId, hostname: agent.info.hostname,
        resources: a.resources, backends: agent.info.backends, createdAt: now,
      };
      const rec: OfferRecord = { offer, agent };
      if (this.opts.offerTimeoutMs !== undefined) {
        rec.timer = this.clock.setTimer(this.opts.offerTimeoutMs, () => this.rescind(offer.id));
      }
      this.offers.set(offer.id, rec);
      agent.offers.push(rec);
      this.frameworks.get(a.frameworkId)!.offers++;
      let list = byFramework.get(a.frameworkId);
      if (!list) byFramework.set(a.frameworkId, (list = []));
      list.push(offer);
    }
    const ms = this.realNow() - t0;
    this.counters.allocationRuns++;
    this.counters.offers += allocations.length;
    const samples = this.counters.allocationRunMs;
    samples.push(ms);
    if (samples.length > this.keepRunSamples) samples.splice(0, samples.length - this.keepRunSamples);
    for (const [fid, list] of byFramework) {
      const fw = this.frameworks.get(fid);
      if (fw) fw.scheduler.resourceOffers(fw.driver, list);
    }
  }

  /** Schedules an event-triggered allocation run, batched. */
  requestAllocation(): void {
    const delay = this.opts.eventAllocationDelayMs === undefined ? 0 : this.opts.eventAllocationDelayMs;
    if (delay === null || this.eventRun) return;
    this.eventRun = this.clock.setTimer(delay, () => {
      this.eventRun = undefined;
      this.allocate();
    });
  }

  /** Withdraws an offer; its resources return and the framework is told. */
  rescind(offerId: string): void {
    const rec = this.takeOffer(offerId);
    if (!rec) return;
    this.counters.rescinded++;
    this.allocator.recover(rec.offer.frameworkId, rec.offer.agentId, rec.offer.resources);
    const fw = this.frameworks.get(rec.offer.frameworkId);
    fw?.scheduler.offerRescinded?.(fw.driver, offerId);
    this.requestAllocation();
  }

  /** One task's record (live, or among the recently completed). */
  task(frameworkId: string, taskId: string): TaskRecord | undefined {
    return this.tasks.get(frameworkId)?.get(taskId);
  }

  /** Every task record: live ones and the recently completed. */
  allTasks(): TaskRecord[] {
    const out: TaskRecord[] = [];
    for (const table of this.tasks.values()) for (const rec of table.values()) out.push(rec);
    return out;
  }

  /** Outstanding offers. */
  outstandingOffers(): Offer[] {
    return [...this.offers.values()].map((o) => o.offer);
  }

  /** Number of outstanding offers. */
  get outstandingOfferCount(): number {
    return this.offers.size;
  }

  /** Number of registered agents. */
  get agentCount(): number {
    return this.agents.size;
  }

  /** Number of registered frameworks. */
  get frameworkCount(): number {
    return this.frameworks.size;
  }

  /** Status updates sent to frameworks and not yet acknowledged. */
  get unacknowledgedUpdates(): number {
    return this.unacked.size;
  }

  /** Registered agents with their totals and free resources. */
  agentList(): AgentView[] {
    return [...this.agents.values()].map((a) => ({
      id: a.id, info: a.info, free: this.allocator.available(a.id), registeredAt: a.registeredAt, tasks: a.live.length, missedPings: a.misses,
    }));
  }

  /** Registered frameworks with weights and dominant shares. */
  frameworkList(): FrameworkView[] {
    return [...this.frameworks.values()].map((f) => ({
      id: f.id, name: f.name, weight: f.weight, share: this.allocator.order.share(f.id),
      allocated: this.allocator.order.allocation(f.id), suppressed: this.allocator.isSuppressed(f.id),
      tasks: f.live, offers: f.offers, registeredAt: f.registeredAt,
    }));
  }

  /** Number of tasks in a state: live states count tasks now, terminal states count since start. */
  countTasks(state: TaskState): number {
    if (state === 'staging' || state === 'starting' || state === 'running') return this.liveStates[state];
    return this.counters.terminal[state];
  }

  private setState(rec: TaskRecord, state: TaskState): void {
    const from = rec.state;
    if (from === 'staging' || from === 'starting' || from === 'running') this.liveStates[from]--;
    if (state === 'staging' || state === 'starting' || state === 'running') this.liveStates[state]++;
    rec.state = state;
  }

  /** A task reached a terminal state: it leaves the live indexes; the oldest completed ones are forgotten. */
  private retire(rec: TaskRecord): void {
    const agent = (rec as TaskEntry)[AGENT];
    if (agent) removeItem(agent.live, rec);
    const fw = this.frameworks.get(rec.task.frameworkId);
    if (fw) fw.live--;
    const fid = rec.task.frameworkId;
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

  /** Sends an update to its framework and keeps it until acknowledged. */
  private forward(status: TaskStatus): void {
    const fw = this.frameworks.get(status.frameworkId);
    if (!fw) return;
    const outerUuid = this.deliveringUuid;
    const outerAcked = this.deliveringAcked;
    this.deliveringUuid = status.uuid;
    this.deliveringAcked = false;
    let acked: boolean;
    try {
      fw.scheduler.statusUpdate(fw.driver, status);
    } finally {
      acked = this.deliveringAcked;
      this.deliveringUuid = outerUuid;
      this.deliveringAcked = outerAcked;
    }
    if (acked || this.retryMs === null || this.retryMs <= 0 || !this.frameworks.has(status.frameworkId)) return;
    this.unacked.set(status.uuid, { status, next: this.clock.now() + this.retryMs, delay: this.retryMs });
    if (!this.ackTimer) this.ackTimer = this.clock.setTimer(this.retryMs, () => this.resendUnacked());
  }

  private resendUnacked(): void {
    this.ackTimer = undefined;
    const now = this.clock.now();
    const due: Unacked[] = [];
    for (const [uuid, u] of this.unacked) {
      if (!this.frameworks.has(u.status.frameworkId)) this.unacked.delete(uuid);
      else if (u.next <= now) due.push(u);
    }
    for (const u of due) {
      if (!this.unacked.has(u.status.uuid)) continue;
      u.delay = Math.min(u.delay * 2, this.maxRetryMs);
      u.next = now + u.delay;
      this.counters.statusUpdateResends++;
      const fw = this.frameworks.get(u.status.frameworkId)!;
      fw.scheduler.statusUpdate(fw.driver, u.status);
    }
    if (this.unacked.size > 0 && this.retryMs) {
      let next = Infinity;
      for (const u of this.unacked.values()) next = Math.min(next, u.next);
      this.ackTimer = this.clock.setTimer(Math.max(0, next - now), () => this.resendUnacked());
    }
  }

  private acknowledge(frameworkId: string, status: TaskStatus): void {
    if (this.deliveringUuid === status.uuid && !this.deliveringAcked) {
      this.deliveringAcked = true;
      this.counters.acknowledgements++;
      return;
    }
    const u = this.unacked.get(status.uuid);
    if (!u || u.status.frameworkId !== frameworkId) return;
    this.unacked.delete(status.uuid);
    this.counters.acknowledgements++;
  }

  /** One health-check round: agents that did not answer the previous ping miss one; too many misses remove them. */
  private pingAgents(): void {
    const gone: AgentRecord[] = [];
    for (const a of this.agents.values()) {
      if (!a.driver.ping) continue;
      if (a.pinged && !a.ponged) {
        a.misses++;
        this.counters.pingTimeouts++;
        if (a.misses >= this.maxMisses) {
          gone.push(a);
          continue;
        }
      } else if (a.pinged) a.misses = 0;
      a.pinged = true;
      a.ponged = false;
      a.driver.ping();
    }
    for (const a of gone) this.removeAgent(a.id, `no answer to ${a.misses} pings (${this.pingMs} ms each)`);
  }

  private takeOffer(offerId: string): OfferRecord | undefined {
    const rec = this.offers.get(offerId);
    if (!rec) return undefined;
    this.offers.delete(offerId);
    rec.timer?.cancel();
    const fw = this.frameworks.get(rec.offer.frameworkId);
    if (fw) fw.offers--;
    removeItem(rec.agent.offers, rec);
    return rec;
  }

  private accept(frameworkId: string, offerId: string, launches: TaskLaunch[], filters?: Filters): void {
    const rec = this.offers.get(offerId);
    if (!rec || rec.offer.frameworkId !== frameworkId) {
      for (const l of launches) this.dropTask(frameworkId, l, `offer ${offerId} is no longer valid`);
      return;
    }
    this.takeOffer(offerId);
    const { offer } = rec;
    const agent: AgentRecord | undefined = rec.agent;
    const fw = this.frameworks.get(frameworkId);
    let table = this.tasks.get(frameworkId);
    if (!table) this.tasks.set(frameworkId, (table = new Map()));
    let remaining = offer.resources;
    const accepted: LaunchedTask[] = [];
    const now = this.clock.now();
    for (const l of launches) {
      const old = table.get(l.taskId);
      const problem = old && !isTerminal(old.state)
        ? `task ${l.taskId} is already running`
        : !contains(remaining, l.resources) ? `task ${l.taskId} needs more than the offer has left`
        : !offer.backends.includes(l.backend) ? `agent ${offer.agentId} cannot run backend ${l.backend}`
        : undefined;
      if (problem || !agent) {
        this.dropTask(frameworkId, l, problem ?? `agent ${offer.agentId} is gone`, offer.agentId);
        continue;
      }
      remaining = subtract(remaining, l.resources);
      accepted.push({
        taskId: l.taskId, name: l.name, resources: l.resources, backend: l.backend, payload: l.payload, timeoutMs: l.timeoutMs,
        frameworkId, agentId: offer.agentId, offerId, offeredAt: offer.createdAt, acceptedAt: now,
      });
    }
    if (accepted.length > 0) this.counters.accepted++;
    else this.counters.declined++;
    if (remaining.cpus > 0 || remaining.mem > 0) {
      this.allocator.recover(frameworkId, offer.agentId, remaining);
      this.allocator.addFilter(frameworkId, offer.agentId, remaining, filters?.refuseSeconds ?? this.refuseSeconds);
      this.requestAllocation();
    }
    for (const t of accepted) {
      const record: TaskEntry = { task: t, state: 'staging', [AGENT]: agent };
      this.liveStates.staging++;
      table.set(t.taskId, record);
      agent!.live.push(record);
      if (fw) fw.live++;
      this.counters.launched++;
    }
    for (const t of accepted) agent!.driver.launch(t);
  }

  private dropTask(frameworkId: string, l: TaskLaunch, message: string, agentId = ''): void {
    this.forward({ taskId: l.taskId, frameworkId, agentId, state: 'lost', uuid: this.uuid(), timestamp: this.clock.now(), message });
  }

  private decline(frameworkId: string, offerId: string, filters?: Filters): void {
    const rec = this.offers.get(offerId);
    if (!rec || rec.offer.frameworkId !== frameworkId) return;
    this.takeOffer(offerId);
    this.counters.declined++;
    this.allocator.recover(frameworkId, rec.offer.agentId, rec.offer.resources);
    this.allocator.addFilter(frameworkId, rec.offer.agentId, rec.offer.resources, filters?.refuseSeconds ?? this.refuseSeconds);
    this.requestAllocation();
  }

  private teardown(frameworkId: string): void {
    const fw = this.frameworks.get(frameworkId);
    if (!fw) return;
    for (const [offerId, o] of [...this.offers]) {
      if (o.offer.frameworkId !== frameworkId) continue;
      this.takeOffer(offerId);
      this.allocator.recover(frameworkId, o.offer.agentId, o.offer.resources);
    }
    for (const rec of this.tasks.get(frameworkId)?.values() ?? []) {
      if (!isTerminal(rec.state)) this.agents.get(rec.task.agentId)?.driver.kill(rec.task.taskId);
    }
    this.frameworks.delete(frameworkId);
    this.allocator.removeFramework(frameworkId);
    for (const [uuid, u] of this.unacked) if (u.status.frameworkId === frameworkId) this.unacked.delete(uuid);
    this.counters.frameworksRemoved++;
    this.requestAllocation();
  }

  private uuid(): string {
    return `master-${this.startedAt.toString(36)}-${(++this.seq).toString(36)}`;
  }

  private makeDriver(frameworkId: string): FrameworkDriver {
    return {
      frameworkId,
      accept: (offerId, tasks, filters) => this.accept(frameworkId, offerId, tasks, filters),
      decline: (offerId, filters) => this.decline(frameworkId, offerId, filters),
      suppress: () => {
        if (this.frameworks.has(frameworkId)) this.allocator.suppress(frameworkId);
      },
      revive: () => {
        if (!this.frameworks.has(frameworkId)) return;
        this.allocator.revive(frameworkId);
        this.requestAllocation();
      },
      kill: (taskId) => {
        const rec = this.tasks.get(frameworkId)?.get(taskId);
        if (rec && !isTerminal(rec.state)) this.agents.get(rec.task.agentId)?.driver.kill(taskId);
      },
      acknowledge: (status) => this.acknowledge(frameworkId, status),
      teardown: () => this.teardown(frameworkId),
    };
  }
}

/** Removes one item from a small array by swapping in the last. */
function removeItem<T>(list: T[], item: T): void {
  const i = list.indexOf(item);
  if (i < 0) return;
  list[i] = list[list.length - 1]!;
  list.pop();
}
