import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/master/clock.js';
import { LIVE_STATES, Master } from '../../src/master/master.js';
import { isTerminal, TERMINAL_STATES, type TaskState } from '../../src/master/task-state.js';
import type { AgentDriver, AgentTaskReport, FrameworkDriver, LaunchedTask, Offer, Scheduler, TaskStatus } from '../../src/master/types.js';
import { mulberry32 } from '../../src/stats/index.js';

// A seeded, bounded property test: RUNS random runs of EVENTS random events each (register agents and
// frameworks, launch (some invalid), decline with filters, status updates (some bogus), kill, agent
// loss and return, agent removal, teardown, failover, suppress/revive, reconcile, time passing).
// After every event the master's books must balance.

const RUNS = 200;
const EVENTS = 200;
const EPS = 1e-6;

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T | undefined => (xs.length ? xs[Math.floor(r() * xs.length)] : undefined);

/** An agent the harness drives: it runs what it is given and reports what the harness says. */
class HarnessAgent implements AgentDriver {
  /** Tasks it runs: key → task and the last state it reported. */
  running = new Map<string, { task: LaunchedTask; state: TaskState }>();
  up = true;
  removed = false;
  constructor(
    readonly id: string,
    private readonly master: Master,
    readonly resources: { cpus: number; mem: number },
  ) {}
  launch(t: LaunchedTask): void {
    this.running.set(`${t.frameworkId}/${t.taskId}`, { task: t, state: 'staging' });
  }
  kill(taskId: string, frameworkId?: string): void {
    const key = `${frameworkId}/${taskId}`;
    const r = this.running.get(key);
    // Answers at once when reachable (a kill for a task it does not run is answered too).
    if (!this.up) return;
    this.running.delete(key);
    this.send({ taskId, frameworkId: frameworkId!, state: 'killed' }, r?.task.taskId ?? taskId);
  }
  ping(): void {
    if (this.up && !this.removed) this.master.pong(this.id);
  }
  shutdown(): void {
    this.removed = true;
    this.running.clear();
  }
  send(s: { taskId: string; frameworkId: string; state: TaskState }, _id?: string): void {
    if (!this.up || this.removed) return;
    this.master.statusUpdate({ ...s, agentId: this.id, uuid: `${this.id}-${Math.random()}`, timestamp: this.master.clock.now() });
  }
  report(): AgentTaskReport[] {
    return [...this.running.values()].map((r) => ({ taskId: r.task.taskId, frameworkId: r.task.frameworkId, state: r.state }));
  }
}

/** A framework the harness drives: it holds offers and acknowledges when the harness says. */
class HarnessFramework implements Scheduler {
  driver!: FrameworkDriver;
  offers = new Map<string, Offer>();
  pendingAcks: TaskStatus[] = [];
  errors: string[] = [];
  constructor(
    readonly id: string,
    private readonly r: Rand,
  ) {}
  registered(d: FrameworkDriver): void {
    this.driver = d;
  }
  resourceOffers(_d: FrameworkDriver, offers: Offer[]): void {
    for (const o of offers) this.offers.set(o.id, o);
  }
  offerRescinded(_d: FrameworkDriver, id: string): void {
    this.offers.delete(id);
  }
  statusUpdate(d: FrameworkDriver, s: TaskStatus): void {
    if (this.r() < 0.7) d.acknowledge(s);
    else this.pendingAcks.push(s);
  }
  error(_d: FrameworkDriver, m: string): void {
    this.errors.push(m);
  }
}

type Sum = { n: number; cpus: number; mem: number };
const sumBy = <T>(items: readonly T[], key: (x: T) => string, res: (x: T) => { cpus: number; mem: number }): Map<string, Sum> => {
  const m = new Map<string, Sum>();
  for (const x of items) {
    const k = key(x);
    const s = m.get(k) ?? { n: 0, cpus: 0, mem: 0 };
    s.n++;
    s.cpus += res(x).cpus;
    s.mem += res(x).mem;
    m.set(k, s);
  }
  return m;
};
const ZERO: Sum = { n: 0, cpus: 0, mem: 0 };

/** Cheap assertions for the hot loop (vitest's expect is too slow for 40,000 checks of every book). */
function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`books do not balance: ${what}`);
}

function same<T>(actual: T, expected: T, what: string): void {
  if (actual !== expected) throw new Error(`books do not balance: ${what}: ${String(actual)}, expected ${String(expected)}`);
}

function checkBooks(master: Master, agents: Map<string, HarnessAgent>, where: string): void {
  const views = master.agentList();
  const tasks = master.allTasks();
  const offers = master.outstandingOffers();
  const live = tasks.filter((t) => !isTerminal(t.state));
  const held = live.filter((t) => t.state !== 'unreachable');
  const heldByAgent = sumBy(held, (t) => t.task.agentId, (t) => t.task.resources);
  const heldByFramework = sumBy(held, (t) => t.task.frameworkId, (t) => t.task.resources);
  const liveByFramework = sumBy(live, (t) => t.task.frameworkId, (t) => t.task.resources);
  const offersByAgent = sumBy(offers, (o) => o.agentId, (o) => o.resources);
  const offersByFramework = sumBy(offers, (o) => o.frameworkId, (o) => o.resources);
  // 1. On every agent: used (tasks) + offered + free = total; nothing negative; used and offered = recount.
  for (const a of views) {
    const mine = heldByAgent.get(a.id) ?? ZERO;
    const offered = offersByAgent.get(a.id) ?? ZERO;
    same(a.tasks, mine.n, `${where}: ${a.id} task count`);
    for (const k of ['cpus', 'mem'] as const) {
      for (const part of [a.used, a.offered, a.free]) check(part[k] >= -EPS, `${where}: ${a.id} ${k} >= 0`);
      check(Math.abs(a.used[k] + a.offered[k] + a.free[k] - a.info.resources[k]) < EPS, `${where}: ${a.id} ${k} balance`);
      check(Math.abs(mine[k] - a.used[k]) < EPS, `${where}: ${a.id} used ${k}`);
      check(Math.abs(offered[k] - a.offered[k]) < EPS, `${where}: ${a.id} offered ${k}`);
    }
  }
  // 2. No task in two places: a held task is on a registered agent, which runs it; unreachable ones on none.
  const registered = new Set(views.map((a) => a.id));
  for (const t of held) {
    same(registered.has(t.task.agentId), true, `${where}: ${t.task.taskId} on a registered agent`);
    const runner = agents.get(t.task.agentId)!;
    same(runner.running.has(`${t.task.frameworkId}/${t.task.taskId}`) || !runner.up, true, `${where}: ${t.task.taskId} runs on its agent`);
  }
  for (const t of live) if (t.state === 'unreachable') same(registered.has(t.task.agentId), false, `${where}: unreachable ${t.task.taskId}`);
  const keys = live.map((t) => `${t.task.frameworkId}/${t.task.taskId}`);
  same(new Set(keys).size, keys.length, `${where}: live task ids unique`);
  // 3. Frameworks: no negative share; sorter allocation = used + offered = recount.
  for (const f of master.frameworkList()) {
    const used = heldByFramework.get(f.id) ?? ZERO;
    const offered = offersByFramework.get(f.id) ?? ZERO;
    check(f.share >= 0, `${where}: ${f.id} share`);
    same(f.tasks, (liveByFramework.get(f.id) ?? ZERO).n, `${where}: ${f.id} live tasks`);
    same(f.offers, offered.n, `${where}: ${f.id} offers`);
    for (const k of ['cpus', 'mem'] as const) {
      check(f.allocated[k] >= -EPS, `${where}: ${f.id} allocation ${k} >= 0`);
      check(Math.abs(f.used[k] - used[k]) < EPS, `${where}: ${f.id} used ${k}`);
      check(Math.abs(f.offered[k] - offered[k]) < EPS, `${where}: ${f.id} offered ${k}`);
      check(Math.abs(f.allocated[k] - used[k] - offered[k]) < EPS, `${where}: ${f.id} sorter allocation ${k}`);
    }
  }
  // 4. Counters equal a recount from the tables.
  for (const s of LIVE_STATES) same(master.countTasks(s), live.filter((t) => t.state === s).length, `${where}: tasks_${s}`);
  const ended = TERMINAL_STATES.filter((s) => s !== 'error').reduce((n, s) => n + master.countTasks(s), 0);
  same(master.counters.launched, live.length + ended, `${where}: launched = live + ended`);
  same(master.outstandingOfferCount, offers.length, `${where}: offers`);
  const t = master.resourceTotals();
  for (const k of ['cpus', 'mem'] as const) {
    check(Math.abs(t.used[k] - held.reduce((s, x) => s + x.task.resources[k], 0)) < EPS, `${where}: total used ${k}`);
  }
}

function run(seed: number, tally: Record<string, number>): void {
  const r = mulberry32(seed);
  const clock = new FakeClock();
  const master = new Master({
    clock, random: r, eventAllocationDelayMs: r() < 0.5 ? null : 0, agentPingTimeoutMs: 1000, maxAgentPingTimeouts: 2,
    statusUpdateRetryMs: pick(r, [null, 500, 2000]), killRetryMs: 1000, offerTimeoutMs: r() < 0.3 ? 3000 : undefined,
    maxCompletedTasksPerFramework: 5,
  });
  const agents = new Map<string, HarnessAgent>();
  const frameworks = new Map<string, HarnessFramework>();
  let nAgents = 0;
  let nFrameworks = 0;
  let nTasks = 0;
  master.start();
  const addAgent = (): void => {
    const id = `a${++nAgents}`;
    const a = new HarnessAgent(id, master, { cpus: pick(r, [1, 2, 4, 8])!, mem: pick(r, [512, 1024, 4096])! });
    master.registerAgent({ hostname: id, resources: a.resources, backends: ['mock'] }, a, id);
    agents.set(id, a);
  };
  const addFramework = (): void => {
    const id = `f${++nFrameworks}`;
    const f = new HarnessFramework(id, r);
    master.registerFramework(f, { name: id, id, weight: pick(r, [1, 1, 2, 0.5]), failoverTimeoutSeconds: pick(r, [0, 30]), partitionAware: r() < 0.5 });
    frameworks.set(id, f);
  };
  addAgent();
  addFramework();
  const events: [number, (where: string) => void][] = [
    [8, () => clock.advance(Math.floor(r() * 2500))],
    [1, () => nAgents < 6 && addAgent()],
    [1, () => nFrameworks < 5 && addFramework()],
    [10, () => {
      const f = pick(r, [...frameworks.values()]);
      const o = f && pick(r, [...f.offers.values()]);
      if (!f || !o) return;
      f.offers.delete(o.id);
      const n = Math.floor(r() * 4);
      const launches = Array.from({ length: n }, () => {
        const bad = r() < 0.1;
        return {
          taskId: r() < 0.05 ? 't1' : `t${++nTasks}`,
          resources: bad ? { cpus: -1, mem: 1 } : { cpus: pick(r, [0.5, 1, 2])!, mem: pick(r, [64, 256, 1024])! },
          backend: r() < 0.05 ? 'vm' : 'mock', payload: {},
        };
      });
      f.driver.accept(r() < 0.05 ? [o.id, 'offer-x'] : o.id, launches, { refuseSeconds: pick(r, [-1, 0, 0.5, 5, 1e9]) });
    }],
    [6, () => {
      const f = pick(r, [...frameworks.values()]);
      const o = f && pick(r, [...f.offers.values()]);
      if (!f || !o) return;
      f.offers.delete(o.id);
      f.driver.decline(o.id, { refuseSeconds: pick(r, [-1, 0, 0.5, 5, 1e9]) });
    }],
    [12, () => {
      const a = pick(r, [...agents.values()].filter((x) => !x.removed));
      const t = a && pick(r, [...a.running.values()]);
      if (!a || !t) return;
      const next = pick(r, ['starting', 'running', 'running', 'finished', 'failed', 'staging'] as const)!;
      t.state = next;
      if (isTerminal(next)) a.running.delete(`${t.task.frameworkId}/${t.task.taskId}`);
      a.send({ taskId: t.task.taskId, frameworkId: t.task.frameworkId, state: next });
    }],
    [2, () => {
      // Bogus: an update from the wrong agent, or for an unknown task.
      const a = pick(r, [...agents.values()]);
      const t = pick(r, master.allTasks());
      if (a && t) a.send({ taskId: r() < 0.5 ? t.task.taskId : 'nope', frameworkId: t.task.frameworkId, state: pick(r, ['running', 'finished'] as const)! });
    }],
    [4, () => {
      const f = pick(r, [...frameworks.values()]);
      const t = f && pick(r, master.allTasks().filter((x) => x.task.frameworkId === f.id));
      if (f && t) f.driver.kill(t.task.taskId);
    }],
    [4, () => {
      const f = pick(r, [...frameworks.values()]);
      const s = f?.pendingAcks.shift();
      if (f && s) f.driver.acknowledge(s);
    }],
    [2, () => {
      const a = pick(r, [...agents.values()].filter((x) => x.up && !x.removed));
      if (a) a.up = false; // partitioned: pings unanswered, updates lost
    }],
    [2, () => {
      const a = pick(r, [...agents.values()].filter((x) => !x.up && !x.removed));
      if (!a) return;
      a.up = true;
      // Back from a partition, the agent re-registers with what it runs (the master may have marked it unreachable).
      master.registerAgent({ hostname: a.id, resources: a.resources, backends: ['mock'], tasks: a.report() }, a, a.id);
    }],
    [1, () => {
      const a = pick(r, [...agents.values()].filter((x) => !x.removed));
      if (a) master.removeAgent(a.id, 'test');
    }],
    [1, () => {
      const f = pick(r, [...frameworks.values()]);
      if (!f) return;
      f.driver.teardown();
      frameworks.delete(f.id);
    }],
    [2, () => {
      const f = pick(r, [...frameworks.values()]);
      if (!f) return;
      master.disconnectFramework(f.id);
      f.offers.clear();
      if (r() < 0.7) {
        const g = new HarnessFramework(f.id, r);
        master.registerFramework(g, { name: f.id, id: f.id });
        if (g.errors.length > 0) frameworks.delete(f.id);
        else frameworks.set(f.id, g);
      }
    }],
    [2, () => {
      const f = pick(r, [...frameworks.values()]);
      if (!f) return;
      if (r() < 0.5) f.driver.suppress();
      else f.driver.revive();
    }],
    [1, () => {
      const f = pick(r, [...frameworks.values()]);
      if (f) f.driver.reconcile(r() < 0.5 ? undefined : [{ taskId: `t${Math.floor(r() * nTasks)}` }]);
    }],
  ];
  const total = events.reduce((n, [w]) => n + w, 0);
  for (let i = 0; i < EVENTS; i++) {
    let x = r() * total;
    const [, ev] = events.find(([w]) => (x -= w) < 0) ?? events[0]!;
    const where = `seed ${seed} event ${i}`;
    ev(where);
    // Frameworks forget offers the master no longer has (rescinded, timed out, withdrawn at failover).
    const outstanding = new Set(master.outstandingOffers().map((o) => o.id));
    for (const f of frameworks.values()) for (const id of f.offers.keys()) if (!outstanding.has(id)) f.offers.delete(id);
    checkBooks(master, agents, where);
  }
  const c = master.counters;
  const seen: Record<string, number> = {
    error: c.terminal.error, lost: c.terminal.lost, gone: c.terminal.gone, dropped: c.terminal.dropped, killed: c.terminal.killed,
    unreachable: c.agentsUnreachable, reregistered: c.agentsReregistered, removedAgents: c.agentsRemoved,
    failovers: c.frameworksReregistered, teardowns: c.frameworksRemoved, invalidUpdates: c.invalidUpdates, killResends: c.killResends,
    rescinded: c.rescinded, resends: c.statusUpdateResends,
  };
  for (const [k, v] of Object.entries(seen)) tally[k] = (tally[k] ?? 0) + v;
  master.stop();
}

describe(`property: the master's books balance after every event (${RUNS} seeded runs x ${EVENTS} events)`, () => {
  it('allocated + offered + free = total on every agent; no negative share; no task in two places; counters = recount', { timeout: 600_000 }, () => {
    const tally: Record<string, number> = {};
    for (let seed = 1; seed <= RUNS; seed++) run(seed, tally);
    // The runs went through every path the properties are about.
    for (const [k, v] of Object.entries(tally)) expect(v, `${k} happened`).toBeGreaterThan(0);
  });
});
