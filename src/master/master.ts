import { randomUUID } from 'node:crypto';
import { Allocator } from './allocator.js';
import { RealClock, type Clock, type Timer } from './clock.js';
import { add, contains, subtract, NONE, type Resources } from './resources.js';
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
  offers: Set<string>;
}

interface AgentRecord {
  id: string;
  info: AgentInfo;
  driver: AgentDriver;
  registeredAt: number;
}

interface OfferRecord {
  offer: Offer;
  timer?: Timer;
}

/** Counters behind /metrics/snapshot. */
export interface MasterCounters {
  /** Allocation runs done. */
  allocationRuns: number;
  /** Real time of each allocation run (ms), oldest first. */
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
    terminal: { finished: 0, failed: 0, killed: 0, lost: 0 }, invalidUpdates: 0,
  };
  private readonly opts: Required<Pick<MasterOptions, 'allocationIntervalMs' | 'defaultRefuseSeconds'>> & MasterOptions;
  private readonly realNow: () => number;
  private readonly agents = new Map<string, AgentRecord>();
  private readonly frameworks = new Map<string, FrameworkRecord>();
  private readonly offers = new Map<string, OfferRecord>();
  private readonly tasks = new Map<string, TaskRecord>();
  private periodic?: Timer;
  private eventRun?: Timer;
  private seq = 0;

  constructor(opts: MasterOptions = {}) {
    this.clock = opts.clock ?? new RealClock();
    this.opts = { allocationIntervalMs: 1000, defaultRefuseSeconds: 5, ...opts };
    this.realNow = opts.realNow ?? (() => performance.now());
    this.allocator = new Allocator({ clock: this.clock, sorter: opts.sorter, random: opts.random });
  }

  /** Starts periodic allocation runs. */
  start(): void {
    if (this.periodic) return;
    const tick = (): void => {
      this.periodic = this.clock.setTimer(this.opts.allocationIntervalMs, tick);
      this.allocate();
    };
    this.periodic = this.clock.setTimer(this.opts.allocationIntervalMs, tick);
  }

  /** Stops all timers. */
  stop(): void {
    this.periodic?.cancel();
    this.periodic = undefined;
    this.eventRun?.cancel();
    this.eventRun = undefined;
    for (const o of this.offers.values()) o.timer?.cancel();
  }

  /** Registers an agent; returns its id. */
  registerAgent(info: AgentInfo, driver: AgentDriver, id = `agent-${++this.seq}`): string {
    if (this.agents.has(id)) throw new Error(`agent ${id} already registered`);
    this.agents.set(id, { id, info: { ...info, resources: { ...info.resources } }, driver, registeredAt: this.clock.now() });
    this.allocator.addAgent(id, info.resources);
    this.requestAllocation();
    return id;
  }

  /** Removes an agent: its offers are rescinded and its live tasks become `lost`. */
  removeAgent(agentId: string, reason: string): void {
    const a = this.agents.get(agentId);
    if (!a) return;
    for (const [offerId, o] of this.offers) if (o.offer.agentId === agentId) this.rescind(offerId);
    for (const rec of this.tasks.values()) {
      if (rec.task.agentId === agentId && !isTerminal(rec.state)) {
        this.statusUpdate({
          taskId: rec.task.taskId, frameworkId: rec.task.frameworkId, agentId, state: 'lost',
          uuid: randomUUID(), timestamp: this.clock.now(), message: `agent ${agentId} removed: ${reason}`,
        });
      }
    }
    this.agents.delete(agentId);
    this.allocator.removeAgent(agentId);
  }

  /** Registers a framework scheduler; returns its driver. */
  registerFramework(scheduler: Scheduler, opts: { name: string; weight?: number; id?: string }): FrameworkDriver {
    const id = opts.id ?? `framework-${++this.seq}`;
    if (this.frameworks.has(id)) throw new Error(`framework ${id} already registered`);
    const weight = opts.weight ?? 1;
    const driver = this.makeDriver(id);
    this.frameworks.set(id, { id, name: opts.name, weight, scheduler, driver, offers: new Set() });
    this.allocator.addFramework(id, weight);
    scheduler.registered?.(driver);
    this.requestAllocation();
    return driver;
  }

  /** Handles a status update from an agent (or the master itself for lost tasks). */
  statusUpdate(status: TaskStatus): void {
    const rec = this.tasks.get(taskKey(status.frameworkId, status.taskId));
    if (!rec) return;
    if (rec.state !== status.state && !canTransition(rec.state, status.state)) {
      this.counters.invalidUpdates++;
      return;
    }
    if (rec.state === status.state && status.state !== 'running' && status.state !== 'starting' && status.state !== 'staging') {
      this.counters.invalidUpdates++;
      return;
    }
    rec.state = status.state;
    rec.last = status;
    if (isTerminal(status.state)) {
      this.counters.terminal[status.state as keyof MasterCounters['terminal']]++;
      this.allocator.recover(rec.task.frameworkId, rec.task.agentId, rec.task.resources);
      this.requestAllocation();
    }
    const fw = this.frameworks.get(status.frameworkId);
    fw?.scheduler.statusUpdate(fw.driver, status);
  }

  /** Runs one allocation now and sends the resulting offers. */
  allocate(): void {
    const t0 = this.realNow();
    const allocations = this.allocator.allocate();
    const ms = this.realNow() - t0;
    this.counters.allocationRuns++;
    this.counters.allocationRunMs.push(ms);
    const byFramework = new Map<string, Offer[]>();
    for (const a of allocations) {
      const agent = this.agents.get(a.agentId)!;
      const offer: Offer = {
        id: `offer-${++this.seq}`, frameworkId: a.frameworkId, agentId: a.agentId, hostname: agent.info.hostname,
        resources: a.resources, backends: agent.info.backends, createdAt: this.clock.now(),
      };
      const rec: OfferRecord = { offer };
      if (this.opts.offerTimeoutMs !== undefined) {
        rec.timer = this.clock.setTimer(this.opts.offerTimeoutMs, () => this.rescind(offer.id));
      }
      this.offers.set(offer.id, rec);
      this.frameworks.get(a.frameworkId)!.offers.add(offer.id);
      this.counters.offers++;
      let list = byFramework.get(a.frameworkId);
      if (!list) byFramework.set(a.frameworkId, (list = []));
      list.push(offer);
    }
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

  /** One task's record. */
  task(frameworkId: string, taskId: string): TaskRecord | undefined {
    return this.tasks.get(taskKey(frameworkId, taskId));
  }

  /** Every task record. */
  allTasks(): TaskRecord[] {
    return [...this.tasks.values()];
  }

  /** Outstanding offers. */
  outstandingOffers(): Offer[] {
    return [...this.offers.values()].map((o) => o.offer);
  }

  /** Registered agents with their totals and free resources. */
  agentList(): { id: string; info: AgentInfo; free: Resources; registeredAt: number }[] {
    return [...this.agents.values()].map((a) => ({ id: a.id, info: a.info, free: this.allocator.available(a.id), registeredAt: a.registeredAt }));
  }

  /** Registered frameworks with weights and dominant shares. */
  frameworkList(): { id: string; name: string; weight: number; share: number; allocated: Resources; suppressed: boolean }[] {
    return [...this.frameworks.values()].map((f) => ({
      id: f.id, name: f.name, weight: f.weight, share: this.allocator.order.share(f.id),
      allocated: this.allocator.order.allocation(f.id), suppressed: this.allocator.isSuppressed(f.id),
    }));
  }

  /** Number of tasks in a state. */
  countTasks(state: TaskState): number {
    let n = 0;
    for (const t of this.tasks.values()) if (t.state === state) n++;
    return n;
  }

  private takeOffer(offerId: string): OfferRecord | undefined {
    const rec = this.offers.get(offerId);
    if (!rec) return undefined;
    this.offers.delete(offerId);
    rec.timer?.cancel();
    this.frameworks.get(rec.offer.frameworkId)?.offers.delete(offerId);
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
    const agent = this.agents.get(offer.agentId);
    let remaining = offer.resources;
    const accepted: LaunchedTask[] = [];
    const now = this.clock.now();
    for (const l of launches) {
      const problem = this.tasks.has(taskKey(frameworkId, l.taskId)) && !isTerminal(this.tasks.get(taskKey(frameworkId, l.taskId))!.state)
        ? `task ${l.taskId} is already running`
        : !contains(remaining, l.resources) ? `task ${l.taskId} needs more than the offer has left`
        : !offer.backends.includes(l.backend) ? `agent ${offer.agentId} cannot run backend ${l.backend}`
        : undefined;
      if (problem || !agent) {
        this.dropTask(frameworkId, l, problem ?? `agent ${offer.agentId} is gone`, offer.agentId);
        continue;
      }
      remaining = subtract(remaining, l.resources);
      accepted.push({ ...l, frameworkId, agentId: offer.agentId, offerId, offeredAt: offer.createdAt, acceptedAt: now });
    }
    this.counters.accepted++;
    if (remaining.cpus > 0 || remaining.mem > 0) {
      this.allocator.recover(frameworkId, offer.agentId, remaining);
      this.allocator.addFilter(frameworkId, offer.agentId, remaining, filters?.refuseSeconds ?? this.opts.defaultRefuseSeconds);
      this.requestAllocation();
    }
    for (const t of accepted) {
      this.tasks.set(taskKey(frameworkId, t.taskId), { task: t, state: 'staging' });
      this.counters.launched++;
      agent!.driver.launch(t);
    }
  }

  private dropTask(frameworkId: string, l: TaskLaunch, message: string, agentId = ''): void {
    const fw = this.frameworks.get(frameworkId);
    fw?.scheduler.statusUpdate(fw.driver, {
      taskId: l.taskId, frameworkId, agentId, state: 'lost', uuid: randomUUID(), timestamp: this.clock.now(), message,
    });
  }

  private decline(frameworkId: string, offerId: string, filters?: Filters): void {
    const rec = this.offers.get(offerId);
    if (!rec || rec.offer.frameworkId !== frameworkId) return;
    this.takeOffer(offerId);
    this.counters.declined++;
    this.allocator.recover(frameworkId, rec.offer.agentId, rec.offer.resources);
    this.allocator.addFilter(frameworkId, rec.offer.agentId, rec.offer.resources, filters?.refuseSeconds ?? this.opts.defaultRefuseSeconds);
    this.requestAllocation();
  }

  private teardown(frameworkId: string): void {
    const fw = this.frameworks.get(frameworkId);
    if (!fw) return;
    for (const offerId of [...fw.offers]) {
      const rec = this.takeOffer(offerId);
      if (rec) this.allocator.recover(frameworkId, rec.offer.agentId, rec.offer.resources);
    }
    for (const rec of this.tasks.values()) {
      if (rec.task.frameworkId === frameworkId && !isTerminal(rec.state)) this.agents.get(rec.task.agentId)?.driver.kill(rec.task.taskId);
    }
    this.frameworks.delete(frameworkId);
    this.allocator.removeFramework(frameworkId);
    this.requestAllocation();
  }

  private makeDriver(frameworkId: string): FrameworkDriver {
    return {
      frameworkId,
      accept: (offerId, tasks, filters) => this.accept(frameworkId, offerId, tasks, filters),
      decline: (offerId, filters) => this.decline(frameworkId, offerId, filters),
      suppress: () => this.allocator.suppress(frameworkId),
      revive: () => {
        this.allocator.revive(frameworkId);
        this.requestAllocation();
      },
      kill: (taskId) => {
        const rec = this.tasks.get(taskKey(frameworkId, taskId));
        if (rec && !isTerminal(rec.state)) this.agents.get(rec.task.agentId)?.driver.kill(taskId);
      },
      acknowledge: () => {},
      teardown: () => this.teardown(frameworkId),
    };
  }
}

function taskKey(frameworkId: string, taskId: string): string {
  return `${frameworkId}\u0000${taskId}`;
}

/** Sum of the resources of a list of launches. */
export function sumResources(list: { resources: Resources }[]): Resources {
  return list.reduce((acc, l) => add(acc, l.resources), { ...NONE });
}
