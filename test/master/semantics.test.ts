import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/master/clock.js';
import { Master } from '../../src/master/master.js';
import { parseMinAllocatable } from '../../src/master/resources.js';
import type { FrameworkDriver, Scheduler, TaskStatus } from '../../src/master/types.js';
import { RecordingAgent as Agent, RecordingScheduler as Rec } from './fakes.js';

// Mesos semantics, on the fake clock, with the expected offers and updates written out.

function cluster(opts: ConstructorParameters<typeof Master>[0] = {}, agents = 1) {
  const clock = new FakeClock();
  const master = new Master({ clock, eventAllocationDelayMs: null, random: () => 0, ...opts });
  const drivers = Array.from({ length: agents }, (_, i) => {
    const a = new Agent();
    master.registerAgent({ hostname: `h${i}`, resources: { cpus: 4, mem: 4096 }, backends: ['mock'] }, a, `a${i}`);
    return a;
  });
  master.start();
  return { clock, master, drivers };
}

const task = (id: string, cpus = 1, mem = 512) => ({ taskId: id, resources: { cpus, mem }, backend: 'mock', payload: {} });
const times = (r: Rec) => r.offers.map((o) => o.createdAt / 1000);

describe('filters (refuse_seconds)', () => {
  function declining(refuseSeconds: number | undefined, opts: ConstructorParameters<typeof Master>[0] = {}) {
    const c = cluster(opts);
    const f = new Rec();
    f.onOffers = (d, o) => o.forEach((x) => d.decline(x.id, refuseSeconds === undefined ? undefined : { refuseSeconds }));
    c.master.registerFramework(f, { name: 'f' });
    return { ...c, f };
  }

  it('a negative refuse time means the default 5 s', () => {
    const { clock, f } = declining(-3);
    clock.advance(12_000);
    expect(times(f)).toEqual([1, 6, 11]); // declined at 1 s: hidden until 6 s; at 6 s: until 11 s
  });

  it('NaN means the default too', () => {
    const { clock, f } = declining(NaN);
    clock.advance(12_000);
    expect(times(f)).toEqual([1, 6, 11]);
  });

  it('0 means no filter: offered again at the next periodic run', () => {
    const { clock, f } = declining(0);
    clock.advance(3000);
    expect(times(f)).toEqual([1, 2, 3]);
  });

  it('is capped at 365 days', () => {
    const { clock, master, f } = declining(10 * 365 * 24 * 3600);
    clock.advance(1000);
    const [[, , , until]] = master.allocator.filterList() as [[string, string, unknown, number]];
    expect(until).toBe(1000 + 365 * 24 * 3600 * 1000);
    expect(times(f)).toEqual([1]);
  });

  it('lasts at least one allocation interval, so it cannot expire before the next run', () => {
    // Allocation every 10 s. The registration's event run offers at 0 s; declined for 1 s, the filter
    // lasts max(1 s, 10 s): an event run at 5 s still sees it; the periodic run at 10 s does not.
    const { clock, master, f } = declining(1, { allocationIntervalMs: 10_000, eventAllocationDelayMs: 0 });
    clock.advance(5000);
    master.requestAllocation(); // an event run at 5 s
    clock.advance(1);
    expect(times(f)).toEqual([0]);
    clock.advance(4999);
    expect(times(f)).toEqual([0, 10]);
  });

  it('a later filter does not replace an earlier one on the same (framework, agent)', () => {
    const { clock, master } = cluster();
    const f = new Rec();
    master.registerFramework(f, { name: 'f', id: 'f' });
    clock.advance(1000); // offer <4, 4096>
    f.driver.accept(f.offers[0]!.id, [task('a', 2, 2048)], { refuseSeconds: 600 }); // filter 1: <2, 2048> for 600 s
    clock.advance(1000); // nothing: the rest is filtered
    master.statusUpdate({ taskId: 'a', frameworkId: 'f', agentId: 'a0', state: 'finished', uuid: 'u', timestamp: 0 });
    clock.advance(1000); // 3 s: <4, 4096> is not inside filter 1: offered
    f.driver.accept(f.offers[1]!.id, [task('b', 2, 2048)], { refuseSeconds: 1 }); // filter 2: <2, 2048> for 1 s
    clock.advance(30_000); // filter 2 expired at 4 s; filter 1 still hides <2, 2048>
    expect(times(f)).toEqual([1, 3]);
    expect(master.allocator.filterList().map(([fid, aid, r]) => [fid, aid, r])).toEqual([['f', 'a0', { cpus: 2, mem: 2048 }]]);
  });

  it('revive clears every filter of the framework at once', () => {
    const { clock, master, f } = declining(3600);
    clock.advance(5000);
    f.driver.revive();
    expect(master.allocator.filterList()).toEqual([]);
    clock.advance(1000);
    expect(times(f)).toEqual([1, 6]);
  });
});

describe('min_allocatable_resources per framework', () => {
  it('no offer smaller than the minimum goes to the framework; others still get it', () => {
    const { clock, master, drivers } = cluster();
    const big = new Rec();
    const any = new Rec();
    // big takes <3, 3584> on the first offer, leaving <1, 512>; any accepts nothing, declines with refuse 0.
    big.onOffers = (d, o) => {
      if (big.offers.length === 1) d.accept(o[0]!.id, [task('b1', 3, 3584)], { refuseSeconds: 0 });
    };
    any.onOffers = (d, o) => o.forEach((x) => d.decline(x.id, { refuseSeconds: 0 }));
    master.registerFramework(big, { name: 'big', id: 'big', minAllocatableResources: parseMinAllocatable('cpus:2;mem:1024') });
    clock.advance(1000); // 1 s: big alone, offered <4, 4096>, launches b1
    master.registerFramework(any, { name: 'any', id: 'any' }); // default cpus:0.01|mem:32
    clock.advance(3000);
    // <1, 512> is below big's minimum: never offered to big (although big's share is the lowest... no:
    // big holds 3/4, any 0), but offered to any at 2, 3 and 4 s.
    expect(big.offers.map((o) => o.resources)).toEqual([{ cpus: 4, mem: 4096 }]);
    expect(any.offers.map((o) => o.resources)).toEqual([{ cpus: 1, mem: 512 }, { cpus: 1, mem: 512 }, { cpus: 1, mem: 512 }]);
    expect(drivers[0]!.launched).toHaveLength(1);
  });

  it('resources no framework\'s minimum accepts are not offered at all (the agent leaves the run)', () => {
    const { clock, master } = cluster();
    const f = new Rec();
    f.onOffers = (d, o) => {
      if (f.offers.length === 1) d.accept(o[0]!.id, [task('x', 3, 1024)], { refuseSeconds: 0 });
    };
    master.registerFramework(f, { name: 'f', minAllocatableResources: parseMinAllocatable('cpus:2|mem:4096') });
    clock.advance(5000);
    expect(f.offers).toHaveLength(1); // <1, 3072> meets neither cpus:2 nor mem:4096
    expect(master.allocator.freeAgents).toBe(0);
  });

  it('the default is Mesos\' cpus:0.01|mem:32: a spare-memory offer is made', () => {
    const { clock, master } = cluster();
    const f = new Rec();
    f.onOffers = (d, o) => {
      if (f.offers.length === 1) d.accept(o[0]!.id, [task('x', 4, 1024)], { refuseSeconds: 0 });
      else o.forEach((x) => d.decline(x.id, { refuseSeconds: 0 }));
    };
    master.registerFramework(f, { name: 'f' });
    clock.advance(2000);
    expect(f.offers.map((o) => o.resources)).toEqual([{ cpus: 4, mem: 4096 }, { cpus: 0, mem: 3072 }]);
  });
});

describe('teardown', () => {
  it('removes the tasks (killed, framework_removed), recovers their resources at once, withdraws offers, and resends kills until answered', () => {
    const { clock, master, drivers } = cluster({ killRetryMs: 1000 }, 2);
    const f = new Rec();
    f.onOffers = (d, o) => {
      if (f.offers.length <= 2) for (const x of o) d.accept(x.id, [task(`t-${x.agentId}`, 2, 1024)], { refuseSeconds: 0 });
    };
    master.registerFramework(f, { name: 'f', id: 'f' });
    clock.advance(2000); // 1 s: both agents, one task each; 2 s: the rest <2, 3072> of each offered and held
    expect(master.outstandingOfferCount).toBe(2);
    f.driver.teardown();
    expect(master.outstandingOfferCount).toBe(0);
    expect(master.agentList().map((a) => a.free)).toEqual([{ cpus: 4, mem: 4096 }, { cpus: 4, mem: 4096 }]);
    expect(master.allTasks().map((t) => [t.task.taskId, t.state, t.last?.reason]).sort()).toEqual([
      ['t-a0', 'killed', 'framework_removed'], ['t-a1', 'killed', 'framework_removed'],
    ]);
    expect(master.countTasks('killed')).toBe(2);
    expect(master.completedFrameworkList().map((c) => c.id)).toEqual(['f']);
    // a0 answers at once (killing, then killed: expected, not invalid); a1 never does: its kill is resent after 1, 2, 4 s...
    master.statusUpdate({ taskId: 't-a0', frameworkId: 'f', agentId: 'a0', state: 'killing', uuid: 'k0', timestamp: 0 });
    master.statusUpdate({ taskId: 't-a0', frameworkId: 'f', agentId: 'a0', state: 'killed', uuid: 'k', timestamp: 0 });
    expect(master.counters.invalidUpdates).toBe(0);
    clock.advance(7000);
    expect(drivers[0]!.killed).toEqual(['t-a0']);
    expect(drivers[1]!.killed).toEqual(['t-a1', 't-a1', 't-a1', 't-a1']);
    expect(master.counters.killResends).toBe(3);
    expect(f.updates).toEqual([]); // a torn-down framework is told nothing more
  });
});

describe('framework failover', () => {
  function running(failoverTimeoutSeconds?: number) {
    const c = cluster();
    const f = new Rec();
    f.onOffers = (d, o) => {
      if (f.offers.length === 1) d.accept(o[0]!.id, [task('t')], { refuseSeconds: 0 });
    };
    c.master.registerFramework(f, { name: 'f', id: 'f', failoverTimeoutSeconds });
    c.clock.advance(2000); // 1 s: t launched; 2 s: the rest <3, 3584> offered and held
    c.master.statusUpdate({ taskId: 't', frameworkId: 'f', agentId: 'a0', state: 'running', uuid: 'r', timestamp: 0 });
    return { ...c, f };
  }

  it('a disconnected framework\'s offers are rescinded; it re-subscribes within the timeout and adopts its running tasks', () => {
    const { clock, master, f } = running(60);
    master.disconnectFramework('f');
    expect(master.outstandingOfferCount).toBe(0);
    expect(master.frameworkList()[0]).toMatchObject({ connected: false, tasks: 1 });
    clock.advance(30_000); // no offers while disconnected
    expect(f.offers).toHaveLength(2);
    master.statusUpdate({ taskId: 't', frameworkId: 'f', agentId: 'a0', state: 'finished', uuid: 'fin', timestamp: 0 }); // held for it
    const g = new Rec();
    master.registerFramework(g, { name: 'f', id: 'f' });
    expect(g.updates.map((u) => `${u.taskId}:${u.state}`)).toEqual(['t:finished']); // the waiting update, to the new scheduler
    clock.advance(1000);
    expect(g.offers.map((o) => o.resources)).toEqual([{ cpus: 4, mem: 4096 }]);
    expect(master.frameworkList()[0]).toMatchObject({ id: 'f', connected: true });
    expect(master.counters.frameworksReregistered).toBe(1);
  });

  it('past the failover timeout it is torn down', () => {
    const { clock, master, f } = running(60);
    master.disconnectFramework('f');
    clock.advance(59_999);
    expect(master.frameworkList()).toHaveLength(1);
    clock.advance(1);
    expect(master.frameworkList()).toHaveLength(0);
    expect(master.task('f', 't')!.state).toBe('killed');
    const late: string[] = [];
    master.registerFramework({ resourceOffers: () => {}, statusUpdate: () => {}, error: (_d, m) => late.push(m) }, { name: 'f', id: 'f' });
    expect(late).toEqual(['framework f has been removed']);
    expect(f.updates.map((u) => u.state)).toEqual(['running']);
  });

  it('with the default timeout of 0 a disconnect tears the framework down at once', () => {
    const { master } = running();
    master.disconnectFramework('f');
    expect(master.frameworkList()).toHaveLength(0);
    expect(master.task('f', 't')!.state).toBe('killed');
  });

  it('a scheduler that fails over a connected one takes over; the old one gets an error and its driver is inert', () => {
    const { clock, master, f } = running(60);
    const errors: string[] = [];
    f.error = (_d: FrameworkDriver, m: string) => errors.push(m);
    const old = f.driver;
    const g = new Rec();
    master.registerFramework(g, { name: 'f', id: 'f' });
    expect(errors).toEqual(['framework failed over']);
    expect(master.outstandingOfferCount).toBe(0); // offers made to the old scheduler were rescinded
    old.kill('t');
    old.teardown();
    expect(master.frameworkList()).toHaveLength(1); // the old driver does nothing
    clock.advance(1000);
    expect(g.offers).toHaveLength(1);
    g.driver.kill('t');
    master.statusUpdate({ taskId: 't', frameworkId: 'f', agentId: 'a0', state: 'killed', uuid: 'k', timestamp: 0 });
    expect(g.updates.map((u) => `${u.taskId}:${u.state}`)).toEqual(['t:killed']);
  });
});

describe('reconciliation', () => {
  function withTasks(partitionAware = false) {
    const c = cluster();
    const f = new Rec();
    f.onOffers = (d, o) => {
      if (f.offers.length === 1) d.accept(o[0]!.id, [task('a'), task('b'), task('c')], { refuseSeconds: 0 });
    };
    c.master.registerFramework(f, { name: 'f', id: 'f', partitionAware });
    c.clock.advance(1000);
    const up = (id: string, state: TaskStatus['state']) => c.master.statusUpdate({ taskId: id, frameworkId: 'f', agentId: 'a0', state, uuid: `${id}-${state}`, timestamp: 0 });
    up('a', 'running');
    up('b', 'running');
    up('b', 'finished');
    f.updates = [];
    return { ...c, f };
  }

  it('implicit: the latest state of every live task, with reason reconciliation and no uuid', () => {
    const { f } = withTasks();
    f.driver.reconcile();
    expect(f.updates.map((u) => [u.taskId, u.state, u.reason, u.uuid])).toEqual([
      ['a', 'running', 'reconciliation', ''],
      ['c', 'staging', 'reconciliation', ''],
    ]);
  });

  it('explicit: the named tasks, finished ones included; unknown ones are lost (gone when partition-aware and the agent is known)', () => {
    const { f } = withTasks();
    f.driver.reconcile([{ taskId: 'b' }, { taskId: 'a', agentId: 'a0' }, { taskId: 'zz', agentId: 'a0' }]);
    expect(f.updates.map((u) => [u.taskId, u.state, u.reason])).toEqual([
      ['b', 'finished', 'reconciliation'], ['a', 'running', 'reconciliation'], ['zz', 'lost', 'reconciliation'],
    ]);
    const pa = withTasks(true);
    pa.f.driver.reconcile([{ taskId: 'zz', agentId: 'a0' }, { taskId: 'yy', agentId: 'nowhere' }]);
    expect(pa.f.updates.map((u) => [u.taskId, u.state])).toEqual([['zz', 'gone'], ['yy', 'lost']]);
  });

  it('explicit reconciliation of a task still staging also asks its agent, whose answer is applied', () => {
    const { master, drivers, f } = withTasks();
    const asked: { taskId: string; frameworkId: string }[][] = [];
    drivers[0]!.reconcile = (tasks) => {
      asked.push([...tasks]);
      // The agent had started c; its earlier update was lost.
      master.statusUpdate({ taskId: 'c', frameworkId: 'f', agentId: 'a0', state: 'running', uuid: 'c-r', timestamp: 0, reason: 'reconciliation' });
    };
    f.driver.reconcile([{ taskId: 'c' }, { taskId: 'a' }]);
    expect(asked).toEqual([[{ taskId: 'c', frameworkId: 'f' }]]); // a is running: nothing to ask
    expect(f.updates.map((u) => [u.taskId, u.state, u.uuid === '' ? 'no uuid' : 'uuid'])).toEqual([
      ['c', 'staging', 'no uuid'], ['a', 'running', 'no uuid'], ['c', 'running', 'uuid'],
    ]);
    expect(master.task('f', 'c')!.state).toBe('running');
  });

  it('reconciliation answers need no acknowledgement', () => {
    const { master, f } = withTasks();
    const before = master.unacknowledgedUpdates;
    f.driver.reconcile();
    expect(master.unacknowledgedUpdates).toBe(before);
  });
});

describe('status updates per task, in order', () => {
  /** A scheduler that acknowledges only when told to. */
  class Lazy implements Scheduler {
    got: TaskStatus[] = [];
    driver!: FrameworkDriver;
    onOffers?: (d: FrameworkDriver, o: import('../../src/master/types.js').Offer[]) => void;
    registered(d: FrameworkDriver): void {
      this.driver = d;
    }
    resourceOffers(d: FrameworkDriver, o: import('../../src/master/types.js').Offer[]): void {
      this.onOffers?.(d, o);
    }
    statusUpdate(_d: FrameworkDriver, s: TaskStatus): void {
      this.got.push(s);
    }
    ack(i: number): void {
      this.driver.acknowledge(this.got[i]!);
    }
  }

  it('the next update of a task is sent only after the previous one was acknowledged; other tasks do not wait', () => {
    const { clock, master } = cluster({ statusUpdateRetryMs: 10_000 });
    const f = new Lazy();
    f.onOffers = (d, o) => {
      if (f.got.length === 0 && !master.task('f', 'a')) d.accept(o[0]!.id, [task('a'), task('b')], { refuseSeconds: 0 });
      else o.forEach((x) => d.decline(x.id, { refuseSeconds: 3600 }));
    };
    master.registerFramework(f, { name: 'f', id: 'f' });
    clock.advance(1000);
    const up = (id: string, state: TaskStatus['state']) => master.statusUpdate({ taskId: id, frameworkId: 'f', agentId: 'a0', state, uuid: `${id}-${state}`, timestamp: 0 });
    up('a', 'running');
    up('a', 'finished'); // waits behind a:running
    up('b', 'running'); // another task: sent at once
    expect(f.got.map((s) => s.uuid)).toEqual(['a-running', 'b-running']);
    // The terminal update freed a's resources already, although the framework has not seen it.
    expect(master.agentList()[0]!.used).toEqual({ cpus: 1, mem: 512 });
    f.driver.acknowledge({ ...f.got[0]!, uuid: 'a-finished' }); // not the one waiting: ignored
    expect(master.counters.invalidAcknowledgements).toBe(1);
    expect(f.got).toHaveLength(2);
    f.ack(0); // a-running acknowledged: a-finished goes out now
    expect(f.got.map((s) => s.uuid)).toEqual(['a-running', 'b-running', 'a-finished']);
    clock.advance(10_000); // b-running and a-finished unacknowledged: resent once each, at 11 s
    expect(f.got.map((s) => s.uuid).slice(3).sort()).toEqual(['a-finished', 'b-running']);
    expect(master.counters.statusUpdateResends).toBe(2);
    f.ack(2);
    f.ack(1);
    clock.advance(600_000);
    expect(master.unacknowledgedUpdates).toBe(0);
    expect(f.got).toHaveLength(5);
  });
});
