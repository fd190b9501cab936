import { describe, expect, it } from 'vitest';
import { masterState, metricsSnapshot } from '../../src/http/state.js';
import { FakeClock } from '../../src/master/clock.js';
import { Master } from '../../src/master/master.js';
import type { AgentDriver, FrameworkDriver, LaunchedTask, Offer, Scheduler, TaskStatus } from '../../src/master/types.js';
import { RecordingAgent as Agent, RecordingScheduler as Rec } from './fakes.js';

// One test per defect reproduced in review (shared/repro/master/bugN-*.mjs), each failing on the code
// before the fix. Offers and updates are written out beside the expectations.

const mock = (taskId: string, cpus: number, mem: number) => ({ taskId, resources: { cpus, mem }, backend: 'mock', payload: 0 });

function cluster(opts: ConstructorParameters<typeof Master>[0] = {}, cpus = 4, mem = 4096) {
  const clock = new FakeClock();
  const master = new Master({ clock, eventAllocationDelayMs: null, ...opts });
  const agent = new Agent();
  master.registerAgent({ hostname: 'h', resources: { cpus, mem }, backends: ['mock'] }, agent, 'a1');
  master.start();
  return { clock, master, agent };
}

describe('review defects (regressions)', () => {
  it('bug1: a torn-down framework id cannot register again; the old task is not charged to anyone', () => {
    const { clock, master } = cluster();
    const f1 = new Rec();
    f1.onOffers = (d, o) => {
      if (f1.offers.length === 1) d.accept(o[0]!.id, [mock('t', 2, 2048)], { refuseSeconds: 0 });
    };
    master.registerFramework(f1, { name: 'f', id: 'f' });
    clock.advance(1000); // 1 s: offer <4, 4096>, t launched <2, 2048>
    f1.driver.teardown(); // t killed (framework_removed), its resources back at once
    expect(master.agentList()[0]!.free).toEqual({ cpus: 4, mem: 4096 });
    const errors: string[] = [];
    const f2: Scheduler = { resourceOffers: () => errors.push('offered'), statusUpdate: (_d, s) => errors.push(`update ${s.taskId}`), error: (_d, m) => errors.push(m) };
    master.registerFramework(f2, { name: 'f', id: 'f' });
    clock.advance(1000);
    master.statusUpdate({ taskId: 't', frameworkId: 'f', agentId: 'a1', state: 'killed', uuid: 'k', timestamp: 0 }); // the old kill's answer
    expect(errors).toEqual(['framework f has been removed']);
    expect(master.frameworkList()).toEqual([]);
    expect(master.agentList()[0]!.free).toEqual({ cpus: 4, mem: 4096 });
  });

  it('bug2: a launch reusing a live task id is error; the running task is untouched', () => {
    const { clock, master, agent } = cluster();
    const f = new Rec();
    f.onOffers = (d, o) => d.accept(o[0]!.id, [mock('t', 1, 512)], { refuseSeconds: 0 });
    master.registerFramework(f, { name: 'f', id: 'f' });
    clock.advance(1000); // offer 1 <4, 4096>: t launched
    master.statusUpdate({ taskId: 't', frameworkId: 'f', agentId: 'a1', state: 'running', uuid: 'r', timestamp: 0 });
    clock.advance(1000); // offer 2 <3, 3584>: the framework launches "t" again
    expect(f.updates.map((u) => `${u.taskId}:${u.state}`)).toEqual(['t:running', 't:error']);
    expect(f.updates[1]!.message).toMatch(/duplicate task id/);
    expect(master.task('f', 't')!.state).toBe('running');
    expect(master.countTasks('lost')).toBe(0);
    expect(agent.launched).toHaveLength(1);
    expect(master.agentList()[0]!.free).toEqual({ cpus: 3, mem: 3584 }); // the second offer came back whole
  });

  it('bug3: cpus_used and /state "used" count tasks, not outstanding offers', () => {
    const { clock, master } = cluster();
    master.registerFramework(new Rec(), { name: 'idle', id: 'f' }); // holds its offer, runs nothing
    clock.advance(1000);
    const s = metricsSnapshot(master);
    expect(s['master/outstanding_offers']).toBe(1);
    expect(s['master/cpus_used']).toBe(0);
    expect(s['master/cpus_percent']).toBe(0);
    expect((masterState(master).agents as { used: unknown }[])[0]!.used).toEqual({ cpus: 0, mem: 0 });
  });

  it('bug4: teardown recovers resources at once and resends kills until the agent answers', () => {
    const { clock, master, agent } = cluster({ killRetryMs: 5000 });
    const f = new Rec();
    f.onOffers = (d, o) => {
      if (f.offers.length === 1) d.accept(o[0]!.id, [mock('t', 3, 3072)]);
    };
    master.registerFramework(f, { name: 'f', id: 'f' });
    clock.advance(1000);
    f.driver.teardown();
    expect(master.agentList()[0]!.free).toEqual({ cpus: 4, mem: 4096 });
    expect(agent.killed).toEqual(['t']); // sent at teardown
    clock.advance(5000 + 10_000 + 20_000); // resent after 5, 10 and 20 s (back-off doubles)
    expect(agent.killed).toEqual(['t', 't', 't', 't']);
    master.statusUpdate({ taskId: 't', frameworkId: 'f', agentId: 'a1', state: 'killed', uuid: 'k', timestamp: 0 });
    clock.advance(600_000);
    expect(agent.killed).toHaveLength(4); // answered: no more kills
    expect(master.task('f', 't')!.state).toBe('killed');
  });

  it('bug5: every filter on a (framework, agent) is kept until it expires', () => {
    const { clock, master } = cluster({}, 8, 8192);
    const f = new Rec();
    let step = 0;
    f.onOffers = (d, o) => {
      step++;
      if (step === 1) d.accept(o[0]!.id, [mock('t1', 4, 4096)], { refuseSeconds: 0 });
      else if (step === 2) d.decline(o[0]!.id, { refuseSeconds: 600 });
      else if (step === 3) d.accept(o[0]!.id, [mock('t2', 4, 4096)], { refuseSeconds: 1 });
    };
    master.registerFramework(f, { name: 'f', id: 'f' });
    clock.advance(2000); // 1 s: <8, 8192>, t1 takes half; 2 s: <4, 4096> declined for 600 s
    master.statusUpdate({ taskId: 't1', frameworkId: 'f', agentId: 'a1', state: 'finished', uuid: 'x', timestamp: 0 });
    clock.advance(1000); // 3 s: <8, 8192> is not inside the 600-s filter: offered; t2 takes half, 1-s filter on <4, 4096>
    clock.advance(10_000); // 4..13 s: the 1-s filter expired, but the 600-s one still hides <4, 4096>
    expect(f.offers.map((o) => [o.createdAt / 1000, o.resources.cpus])).toEqual([[1, 8], [2, 4], [3, 8]]);
  });

  it('bug6: declines with refuse 0 wait for the next periodic run (no loop with event delay 0)', () => {
    const clock = new FakeClock();
    const master = new Master({ clock, agentPingTimeoutMs: null }); // event allocation delay 0 (the default)
    master.registerAgent({ hostname: 'h', resources: { cpus: 4, mem: 4096 }, backends: ['mock'] }, new Agent(), 'a1');
    master.start();
    const f = new Rec();
    f.onOffers = (d, o) => {
      if (f.offers.length > 1000) throw new Error('offer loop');
      for (const x of o) d.decline(x.id, { refuseSeconds: 0 });
    };
    master.registerFramework(f, { name: 'f' });
    clock.advance(3000);
    // 0 s: the registration's event run; then one offer per periodic run at 1, 2 and 3 s.
    expect(f.offers.map((o) => o.createdAt)).toEqual([0, 1000, 2000, 3000]);
    expect(master.counters.allocationRuns).toBe(4);
  });

  it('bug7: one resend timer per update; nothing is resent after stop()', () => {
    const clock = new FakeClock();
    const master = new Master({ clock, eventAllocationDelayMs: null, agentPingTimeoutMs: null, statusUpdateRetryMs: 1000 });
    let launched: LaunchedTask | undefined;
    const agent: AgentDriver = {
      launch(t) {
        launched = t;
        master.statusUpdate({ taskId: t.taskId, frameworkId: t.frameworkId, agentId: 'a1', state: 'running', uuid: 'run', timestamp: clock.now() });
      },
      kill(id) {
        master.statusUpdate({ taskId: id, frameworkId: launched!.frameworkId, agentId: 'a1', state: 'killed', uuid: 'kill', timestamp: clock.now() });
      },
    };
    master.registerAgent({ hostname: 'h', resources: { cpus: 4, mem: 4096 }, backends: ['mock'] }, agent, 'a1');
    master.start();
    const seen = new Map<string, number>();
    let done = false;
    master.registerFramework({
      resourceOffers(d: FrameworkDriver, o: Offer[]) {
        if (!done) {
          done = true;
          d.accept(o[0]!.id, [mock('t', 1, 1)]);
        }
      },
      statusUpdate(d: FrameworkDriver, s: TaskStatus) { // never acknowledges; kills the task when `running` is resent
        seen.set(s.uuid, (seen.get(s.uuid) ?? 0) + 1);
        if (s.state === 'running' && seen.get(s.uuid) === 2) d.kill('t');
      },
    }, { name: 'f', id: 'f' });
    clock.advance(30_000);
    // running sent at 1 s, resent at 2, 4, 8, 16 s (back-off doubling): one chain. `killed` waits behind it.
    expect(master.counters.statusUpdateResends).toBe(4);
    expect(seen.get('kill')).toBeUndefined();
    master.stop();
    const before = master.counters.statusUpdateResends;
    expect(clock.nextAt()).toBeUndefined();
    clock.advance(600_000);
    expect(master.counters.statusUpdateResends - before).toBe(0);
  });

  it('bug8: an update from another agent than the task\'s is dropped', () => {
    const clock = new FakeClock();
    const master = new Master({ clock, eventAllocationDelayMs: null });
    master.registerAgent({ hostname: 'h1', resources: { cpus: 4, mem: 4096 }, backends: ['mock'] }, new Agent(), 'a1');
    master.registerAgent({ hostname: 'h2', resources: { cpus: 4, mem: 4096 }, backends: ['mock'] }, new Agent(), 'a2');
    master.start();
    const f = new Rec();
    let n = 0;
    f.onOffers = (d, o) => {
      for (const x of o) if (x.agentId === 'a1' && !n++) d.accept(x.id, [mock('t', 1, 1)]);
    };
    master.registerFramework(f, { name: 'f', id: 'f' });
    clock.advance(1000);
    master.statusUpdate({ taskId: 't', frameworkId: 'f', agentId: 'a2', state: 'finished', uuid: 'spoof', timestamp: 0 });
    expect(master.task('f', 't')!.state).toBe('staging');
    expect(master.counters.invalidUpdates).toBe(1);
    expect(f.updates).toEqual([]);
  });

  it('bug9: negative task resources are error and never change the agent', () => {
    const { clock, master } = cluster();
    const f = new Rec();
    f.onOffers = (d, o) => {
      if (f.offers.length === 1) d.accept(o[0]!.id, [mock('big', 4, 4096), mock('neg', -2, -2048)], { refuseSeconds: 0 });
      else d.decline(o[0]!.id, { refuseSeconds: 0 });
    };
    master.registerFramework(f, { name: 'f', id: 'f' });
    clock.advance(1000); // offer <4, 4096>: big launched; neg is error
    expect(master.agentList()[0]!.free).toEqual({ cpus: 0, mem: 0 });
    expect(f.updates.map((u) => `${u.taskId}:${u.state}`)).toEqual(['neg:error']);
    for (const id of ['big', 'neg']) master.statusUpdate({ taskId: id, frameworkId: 'f', agentId: 'a1', state: 'finished', uuid: id, timestamp: 0 });
    clock.advance(1000);
    expect(master.agentList()[0]!.free).toEqual({ cpus: 4, mem: 4096 });
    expect(f.offers.at(-1)!.resources).toEqual({ cpus: 4, mem: 4096 });
  });
});
