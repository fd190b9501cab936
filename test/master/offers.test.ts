import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/master/clock.js';
import { Master } from '../../src/master/master.js';
import { RecordingAgent as Agent, RecordingScheduler as Recorder } from './fakes.js';

function cluster(agents: number, opts: ConstructorParameters<typeof Master>[0] = {}) {
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

describe('offer timeout', () => {
  it('rescinds an unanswered offer, tells the framework, and offers the resources again', () => {
    const { clock, master } = cluster(1, { offerTimeoutMs: 2500 });
    const f = new Recorder();
    master.registerFramework(f, { name: 'f' });
    clock.advance(1000); // offer at 1 s
    clock.advance(2499);
    expect(f.rescinded).toEqual([]);
    clock.advance(1); // 3.5 s: timed out
    expect(f.rescinded).toEqual([f.offers[0]!.id]);
    expect(master.outstandingOffers()).toEqual([]);
    expect(master.counters.rescinded).toBe(1);
    clock.advance(500); // next run at 4 s: re-offered (a rescind sets no filter)
    expect(f.offers).toHaveLength(2);
    expect(f.offers[1]!.resources).toEqual({ cpus: 4, mem: 4096 });
    // Accepting the rescinded offer launches nothing; the task is an error (Mesos: TASK_ERROR, invalid offers).
    f.driver.accept(f.offers[0]!.id, [task('late')]);
    expect(f.updates.map((u) => [u.taskId, u.state, u.reason, u.message])).toEqual([
      ['late', 'error', 'invalid_offers', `offer ${f.offers[0]!.id} is no longer valid`],
    ]);
  });

  it('is off by default', () => {
    const { clock, master } = cluster(1);
    const f = new Recorder();
    master.registerFramework(f, { name: 'f' });
    clock.advance(600_000);
    expect(f.offers).toHaveLength(1);
    expect(master.counters.rescinded).toBe(0);
  });
});

describe('decline filters', () => {
  it('are held per agent: a decline on one agent hides nothing on another', () => {
    const { clock, master } = cluster(2);
    const f = new Recorder();
    let declined = false;
    f.onOffers = (d, offers) => {
      for (const o of offers) {
        if (o.agentId === 'a0' && !declined) {
          declined = true;
          d.decline(o.id, { refuseSeconds: 30 });
        }
      }
    };
    master.registerFramework(f, { name: 'f' });
    clock.advance(1000); // both agents offered; a0 declined for 30 s, a1 held
    f.driver.decline(f.offers.find((o) => o.agentId === 'a1')!.id, { refuseSeconds: 0 });
    clock.advance(1000); // a1 comes back at once (no filter); a0 stays hidden
    expect(f.offers.slice(2).map((o) => o.agentId)).toEqual(['a1']);
  });

  it('hide declined resources from the decliner only: another framework gets them', () => {
    const { clock, master } = cluster(1);
    const a = new Recorder();
    const b = new Recorder();
    a.onOffers = (d, offers) => offers.forEach((o) => d.decline(o.id, { refuseSeconds: 60 }));
    master.registerFramework(a, { name: 'a', id: 'a' });
    clock.advance(1000); // a is alone: offered, declines
    master.registerFramework(b, { name: 'b', id: 'b' });
    clock.advance(1000);
    expect(a.offers).toHaveLength(1);
    expect(b.offers).toHaveLength(1);
  });

  it('are cleared by revive', () => {
    const { clock, master } = cluster(1);
    const f = new Recorder();
    f.onOffers = (d, offers) => offers.forEach((o) => d.decline(o.id, { refuseSeconds: 3600 }));
    master.registerFramework(f, { name: 'f' });
    clock.advance(10_000);
    expect(f.offers).toHaveLength(1);
    f.driver.revive();
    clock.advance(1000);
    expect(f.offers).toHaveLength(2);
  });
});

describe('suppress and revive', () => {
  it('a suppressed framework gets nothing and the others get everything; revive brings it back', () => {
    const { clock, master } = cluster(2);
    const a = new Recorder();
    const b = new Recorder();
    b.onOffers = (d, offers) => offers.forEach((o) => d.decline(o.id, { refuseSeconds: 0 }));
    master.registerFramework(a, { name: 'a', id: 'a' });
    master.registerFramework(b, { name: 'b', id: 'b' });
    a.driver.suppress();
    clock.advance(5000);
    expect(a.offers).toHaveLength(0);
    expect(b.offers.length).toBeGreaterThanOrEqual(2 * 5); // both agents, every run
    expect(master.frameworkList().find((f) => f.id === 'a')!.suppressed).toBe(true);
    a.driver.revive();
    clock.advance(1000);
    // First agent: shares a 0 = b 0, tie by name -> a (now 4/8 = 0.5); second agent: b (0) < a -> b.
    expect(a.offers).toHaveLength(1);
    expect(b.offers.slice(10)).toHaveLength(1);
  });
});

describe('weights', () => {
  it('order offers by weighted dominant share', () => {
    const { clock, master, drivers } = cluster(4);
    const a = new Recorder();
    const b = new Recorder();
    // Each takes whole agents (4 CPUs of the 16) with one task.
    for (const r of [a, b]) r.onOffers = (d, offers) => offers.forEach((o, i) => d.accept(o.id, [task(`${r === a ? 'a' : 'b'}-${r.offers.length}-${i}`, 4, 4096)]));
    master.registerFramework(a, { name: 'a', id: 'a', weight: 1 });
    master.registerFramework(b, { name: 'b', id: 'b', weight: 3 });
    clock.advance(1000);
    // Agents go one by one to the lowest weighted share (ties by name):
    // a0 -> a (a 0 = b 0);   a: 4/16 / 1 = 0.25
    // a1 -> b (b 0 < 0.25);  b: 4/16 / 3 = 0.083
    // a2 -> b (0.083 < 0.25); b: 8/16 / 3 = 0.167
    // a3 -> b (0.167 < 0.25); b: 12/16 / 3 = 0.25
    // so b (weight 3) holds 3 agents and a holds 1: the 3:1 of the weights.
    expect(a.offers).toHaveLength(1);
    expect(b.offers).toHaveLength(3);
    expect(drivers.reduce((n, d) => n + d.launched.length, 0)).toBe(4);
    const shares = Object.fromEntries(master.frameworkList().map((f) => [f.id, f.share]));
    expect(shares).toEqual({ a: 0.25, b: 0.25 });
  });
});

describe('resources', () => {
  it('a framework teardown returns its offers and kills its tasks', () => {
    const { clock, master, drivers } = cluster(1);
    const f = new Recorder();
    f.onOffers = (d, offers) => {
      if (f.offers.length === 1) d.accept(offers[0]!.id, [task('t', 1, 512)], { refuseSeconds: 0 });
    };
    master.registerFramework(f, { name: 'f', id: 'f' });
    clock.advance(2000); // accept at 1 s; the second offer (of the rest) is held
    expect(master.outstandingOffers()).toHaveLength(1);
    f.driver.teardown();
    expect(master.outstandingOffers()).toHaveLength(0);
    expect(master.frameworkList()).toHaveLength(0);
    expect(drivers[0]!.killed).toEqual(['t']);
    // Mesos' removeFramework: the task is killed (reason framework_removed) and its resources are
    // recovered at once, before the agent answers: the agent is whole again.
    expect(master.task('f', 't')!.state).toBe('killed');
    expect(master.task('f', 't')!.last!.reason).toBe('framework_removed');
    expect(master.agentList()[0]!.free).toEqual({ cpus: 4, mem: 4096 });
    expect(master.pendingKillCount).toBe(1);
    master.statusUpdate({ taskId: 't', frameworkId: 'f', agentId: 'a0', state: 'killed', uuid: 'k', timestamp: 0 });
    expect(master.pendingKillCount).toBe(0); // the agent answered: no more kills
    expect(master.agentList()[0]!.free).toEqual({ cpus: 4, mem: 4096 });
  });

  it('an agent\'s resources leave the pool when it is removed', () => {
    const { clock, master } = cluster(2);
    const f = new Recorder();
    master.registerFramework(f, { name: 'f', id: 'f' });
    clock.advance(1000); // f holds both agents: share 8/8 = 1
    expect(master.frameworkList()[0]!.share).toBe(1);
    master.removeAgent('a1', 'test');
    // The offer on a1 is rescinded, a1's 4 CPUs leave the total: f holds 4 of 4 -> 1.
    expect(f.rescinded).toHaveLength(1);
    expect(master.frameworkList()[0]!.allocated).toEqual({ cpus: 4, mem: 4096 });
    expect(master.agentList().map((a) => a.id)).toEqual(['a0']);
  });
});
