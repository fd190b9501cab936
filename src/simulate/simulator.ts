import { FakeClock, type Timer } from '../master/clock.js';
import { Master } from '../master/master.js';
import { NONE, add, type Resources } from '../master/resources.js';
import { isTerminal } from '../master/task-state.js';
import type { AgentDriver, FrameworkDriver, LaunchedTask, Offer, Scheduler, TaskLaunch, TaskStatus } from '../master/types.js';
import { max, mulberry32, percentile } from '../stats/index.js';
import type { FrameworkSpec, Scenario } from './scenario.js';

/** What one scenario framework did. */
export interface FrameworkResult {
  /** Tasks launched (accepted by the master). */
  launched: number;
  /** Tasks that finished. */
  finished: number;
  /** Tasks running at the end. */
  running: number;
  /** Time-weighted mean of running tasks over the second half of the simulated time. */
  meanRunning: number;
  /** Dominant share at the end: max over resources of allocated / cluster total (unweighted). */
  dominantShare: number;
  /** The framework's DRF weight. */
  weight: number;
}

/** The outcome of a simulation, as `isolab simulate --json` prints it. */
export interface SimulationResult {
  /** Size of what was simulated. */
  scenario: { agents: number; frameworks: number; seconds: number; allocationIntervalSeconds: number; seed: number; total: Resources };
  /** Per framework, keyed by name. */
  frameworks: Record<string, FrameworkResult>;
  /** The allocator: runs, their real duration (ms), offers made, declined and rescinded. */
  allocator: {
    runs: number;
    allocationMs: { median: number; p99: number; max: number };
    offers: number;
    declined: number;
    rescinded: number;
  };
  /** Tasks the master saw end, by state. */
  tasks: { launched: number; finished: number; failed: number; killed: number; lost: number };
  /** Real seconds for the whole simulation, set-up included. */
  wallSeconds: number;
}

/** Options of a simulation run. */
export interface SimulateOptions {
  /** Called with the simulated second every `progressEverySeconds` (for a progress line). */
  onProgress?: (simSecond: number, wallSeconds: number) => void;
  /** Period of progress calls in simulated seconds. Default 60. */
  progressEverySeconds?: number;
  /**
   * The clock allocation runs are timed with (ms); real time (performance.now) when omitted. The
   * benchmark can pass process CPU time, to see run times apart from a busy machine's scheduling.
   */
  runClock?: () => number;
}

interface SimTask {
  frameworkId: string;
  taskId: string;
  timer: Timer;
}

/** A simulated agent: a task is no process, only a timer on the virtual clock for the duration its framework drew. */
class SimAgent implements AgentDriver {
  private readonly tasks: SimTask[] = [];

  constructor(
    readonly id: string,
    private readonly master: Master,
    private readonly clock: FakeClock,
    private readonly uuid: () => string,
  ) {}

  launch(task: LaunchedTask): void {
    const t: SimTask = { frameworkId: task.frameworkId, taskId: task.taskId, timer: undefined as unknown as Timer };
    this.update(t, 'running');
    t.timer = this.clock.setTimer(task.payload as number, () => {
      this.remove(t);
      this.update(t, 'finished');
    });
    this.tasks.push(t);
  }

  kill(taskId: string): void {
    for (const t of [...this.tasks]) {
      if (t.taskId !== taskId) continue;
      t.timer.cancel();
      this.remove(t);
      this.update(t, 'killed');
    }
  }

  private remove(t: SimTask): void {
    const i = this.tasks.indexOf(t);
    if (i < 0) return;
    this.tasks[i] = this.tasks[this.tasks.length - 1]!;
    this.tasks.pop();
  }

  private update(t: SimTask, state: TaskStatus['state']): void {
    this.master.statusUpdate({ taskId: t.taskId, frameworkId: t.frameworkId, agentId: this.id, state, uuid: this.uuid(), timestamp: this.clock.now() });
  }
}

/** A scenario framework: launches as many pending tasks as fit in each offer, declines the rest. */
class SimFramework implements Scheduler {
  launched = 0;
  finished = 0;
  running = 0;
  private pending: number;
  private integral = 0;
  private lastChange = 0;
  private readonly draw: () => number;

  constructor(
    readonly spec: FrameworkSpec,
    private readonly clock: FakeClock,
    private readonly halfAt: number,
    private readonly refuseSeconds: number,
    random: () => number,
  ) {
    this.pending = spec.tasks;
    const d = spec.taskSeconds;
    this.draw = typeof d === 'number' ? () => d * 1000 : () => (d[0] + random() * (d[1] - d[0])) * 1000;
  }

  resourceOffers(driver: FrameworkDriver, offers: Offer[]): void {
    const { task } = this.spec;
    const filters = { refuseSeconds: this.refuseSeconds };
    for (const offer of offers) {
      const fit = Math.min(
        this.pending,
        task.cpus > 0 ? Math.floor(offer.resources.cpus / task.cpus + 1e-9) : Infinity,
        task.mem > 0 ? Math.floor(offer.resources.mem / task.mem + 1e-9) : Infinity,
      );
      if (fit <= 0) {
        driver.decline(offer.id, filters);
        continue;
      }
      const launches: TaskLaunch[] = new Array(fit);
      for (let i = 0; i < fit; i++) {
        launches[i] = { taskId: `${this.spec.name}-${this.launched + i}`, resources: task, backend: 'mock', payload: this.draw() };
      }
      this.pending -= fit;
      this.launched += fit;
      this.change(fit);
      driver.accept(offer.id, launches, filters);
    }
    if (this.pending === 0) driver.suppress();
  }

  statusUpdate(driver: FrameworkDriver, status: TaskStatus): void {
    driver.acknowledge(status);
    if (!isTerminal(status.state)) return;
    this.change(-1);
    if (status.state === 'finished') {
      this.finished++;
      return;
    }
    this.pending++;
    driver.revive();
  }

  /** Mean running tasks over [halfAt, endAt]. */
  meanRunning(endAt: number): number {
    this.change(0, endAt);
    return endAt > this.halfAt ? this.integral / (endAt - this.halfAt) : this.running;
  }

  private change(delta: number, now = this.clock.now()): void {
    const from = Math.max(this.lastChange, this.halfAt);
    if (now > from) this.integral += this.running * (now - from);
    this.lastChange = now;
    this.running += delta;
  }
}

/** Runs a scenario on virtual time: the real master, allocator and DRF sorter, simulated agents. No sleeping. */
export function simulate(s: Scenario, opts: SimulateOptions = {}): SimulationResult {
  const wall0 = performance.now();
  const clock = new FakeClock();
  const master = new Master({
    clock, allocationIntervalMs: s.allocationIntervalSeconds * 1000, eventAllocationDelayMs: null, agentPingTimeoutMs: null,
    offerTimeoutMs: s.offerTimeoutSeconds === undefined ? undefined : s.offerTimeoutSeconds * 1000,
    defaultRefuseSeconds: s.refuseSeconds, random: mulberry32(s.seed), maxCompletedTasksPerFramework: 100, realNow: opts.runClock,
  });
  let uuids = 0;
  const uuid = (): string => `sim-${(++uuids).toString(36)}`;
  let total: Resources = { ...NONE };
  let agents = 0;
  for (const g of s.agents) {
    for (let i = 0; i < g.count; i++) {
      const id = `agent-${++agents}`;
      master.registerAgent({ hostname: `sim-${agents}`, resources: g.resources, backends: ['mock'] }, new SimAgent(id, master, clock, uuid), id);
    }
    total = add(total, { cpus: g.resources.cpus * g.count, mem: g.resources.mem * g.count });
  }
  const endAt = s.seconds * 1000;
  const halfAt = endAt / 2;
  const sims = s.frameworks.map((spec, i) => new SimFramework(spec, clock, halfAt, s.refuseSeconds, mulberry32(mix(s.seed, i + 1))));
  for (const sim of sims) {
    const register = (): void =>
      void master.registerFramework(sim, {
        name: sim.spec.name, id: sim.spec.name, weight: sim.spec.weight, minAllocatableResources: sim.spec.minAllocatableResources,
      });
    if (sim.spec.startSeconds > 0) clock.setTimer(sim.spec.startSeconds * 1000, register);
    else register();
  }
  master.start();
  const step = (opts.progressEverySeconds ?? 60) * 1000;
  while (clock.now() < endAt) {
    const next = Math.min(endAt, clock.now() + step);
    clock.advance(next - clock.now());
    opts.onProgress?.(clock.now() / 1000, (performance.now() - wall0) / 1000);
  }
  master.stop();
  const frameworks: Record<string, FrameworkResult> = {};
  const registered = new Set(master.frameworkList().map((f) => f.id));
  for (const sim of sims) {
    const alloc = registered.has(sim.spec.name) ? master.allocator.order.allocation(sim.spec.name) : { ...NONE };
    frameworks[sim.spec.name] = {
      launched: sim.launched, finished: sim.finished, running: sim.running, meanRunning: round(sim.meanRunning(endAt), 3),
      dominantShare: round(Math.max(total.cpus > 0 ? alloc.cpus / total.cpus : 0, total.mem > 0 ? alloc.mem / total.mem : 0), 6),
      weight: sim.spec.weight,
    };
  }
  const runs = master.counters.allocationRunMs;
  const c = master.counters;
  return {
    scenario: { agents, frameworks: s.frameworks.length, seconds: s.seconds, allocationIntervalSeconds: s.allocationIntervalSeconds, seed: s.seed, total },
    frameworks,
    allocator: {
      runs: c.allocationRuns,
      allocationMs: runs.length ? { median: round(percentile(runs, 50), 3), p99: round(percentile(runs, 99), 3), max: round(max(runs), 3) } : { median: 0, p99: 0, max: 0 },
      offers: c.offers, declined: c.declined, rescinded: c.rescinded,
    },
    tasks: { launched: c.launched, finished: c.terminal.finished, failed: c.terminal.failed, killed: c.terminal.killed, lost: c.terminal.lost },
    wallSeconds: round((performance.now() - wall0) / 1000, 3),
  };
}

function mix(seed: number, i: number): number {
  let h = (seed ^ Math.imul(i, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  return (h ^ (h >>> 13)) >>> 0;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
