import { describe, expect, it } from 'vitest';
import { FakeClock } from './clock.js';
import { Master } from './master.js';
import { RecordingAgent as FakeAgent, RecordingScheduler as Recorder } from '../../test/master/fakes.js';
import type { LaunchedTask, TaskStatus } from './types.js';

function setup(opts: ConstructorParameters<typeof Master>[0] = {}) {
  const clock = new FakeClock();
  const master = new Master({ clock, allocationIntervalMs: 1000, eventAllocationDelayMs: null, ...opts });
  const agent = new FakeAgent();
  const agentId = master.registerAgent({ hostname: 'h', resources: { cpus: 4, mem: 4096 }, backends: ['mock'] }, agent, 'a1');
  master.start();
  return { clock, master, agent, agentId };
}

const finish = (m: Master, t: LaunchedTask, state: TaskStatus['state'] = 'finished') =>
  m.statusUpdate({ taskId: t.taskId, frameworkId: t.frameworkId, agentId: t.agentId, state, uuid: `${t.taskId}-${state}`, timestamp: 0 });

describe('Master offers', () => {
  it('offers an agent\'s free resources on each allocation run', () => {
    const { clock, master } = setup();
    const f = new Recorder();
    master.registerFramework(f, { name: 'f' });
    clock.advance(1000);
    expect(f.offers).toHaveLength(1);
    expect(f.offers[0]!.resources).toEqual({ cpus: 4, mem: 4096 });
    clock.advance(1000);
    expect(f.offers).toHaveLength(1); // still outstanding: offered resources are not free
  });

  it('offers only free resources, and returns them when tasks end', () => {
    const { clock, master, agent } = setup();
    const f = new Recorder();
    f.onOffers = (d, offers) => {
      if (f.offers.length === 1) d.accept(offers[0]!.id, [{ taskId: 't1', resources: { cpus: 3, mem: 1024 }, backend: 'mock', payload: {} }], { refuseSeconds: 0 });
    };
    master.registerFramework(f, { name: 'f' });
    clock.advance(1000);
    expect(agent.launched.map((t) => t.taskId)).toEqual(['t1']);
    clock.advance(1000);
    expect(f.offers[1]!.resources).toEqual({ cpus: 1, mem: 3072 }); // 4-3 cpus, 4096-1024 mem
    f.driver.decline(f.offers[1]!.id, { refuseSeconds: 0 });
    finish(master, agent.launched[0]!);
    clock.advance(1000);
    expect(f.offers[2]!.resources).toEqual({ cpus: 4, mem: 4096 });
  });

  it('hides declined resources until the filter expires on the clock', () => {
    const { clock, master } = setup();
    const f = new Recorder();
    f.onOffers = (d, offers) => d.decline(offers[0]!.id, { refuseSeconds: 5 });
    master.registerFramework(f, { name: 'f' });
    clock.advance(1000); // offer 1 at t=1s, declined until t=6s
    expect(f.offers).toHaveLength(1);
    clock.advance(4000); // t=5s: still filtered
    expect(f.offers).toHaveLength(1);
    clock.advance(1000); // t=6s: filter expired
    expect(f.offers).toHaveLength(2);
  });

  it('uses a 5 s filter for a decline without filters', () => {
    const { clock, master } = setup();
    const f = new Recorder();
    f.onOffers = (d, offers) => d.decline(offers[0]!.id);
    master.registerFramework(f, { name: 'f' });
    clock.advance(1000);
    clock.advance(4000);
    expect(f.offers).toHaveLength(1);
    clock.advance(1000);
    expect(f.offers).toHaveLength(2);
  });

  it('offers a filtered framework resources that are not contained in what it declined', () => {
    const { clock, master, agent } = setup();
    const f = new Recorder();
    let step = 0;
    f.onOffers = (d, offers) => {
      step++;
      if (step === 1) d.accept(offers[0]!.id, [{ taskId: 't1', resources: { cpus: 2, mem: 2048 }, backend: 'mock', payload: {} }], { refuseSeconds: 0 });
      else if (step === 2) d.decline(offers[0]!.id, { refuseSeconds: 60 }); // declines <2 cpus, 2048>
    };
    master.registerFramework(f, { name: 'f' });
    clock.advance(2000);
    expect(f.offers).toHaveLength(2);
    finish(master, agent.launched[0]!); // frees <2, 2048>: now <4, 4096> free, not inside the filter
    clock.advance(1000);
    expect(f.offers).toHaveLength(3);
    expect(f.offers[2]!.resources).toEqual({ cpus: 4, mem: 4096 });
  });

  it('sends no offers to a suppressed framework until revive', () => {
    const { clock, master } = setup();
    const f = new Recorder();
    master.registerFramework(f, { name: 'f' });
    f.driver.suppress();
    clock.advance(3000);
    expect(f.offers).toHaveLength(0);
    f.driver.revive();
    clock.advance(1000);
    expect(f.offers).toHaveLength(1);
  });

  it('reports tasks that do not fit the offer or ask for a backend the agent lacks as error, and launches the rest', () => {
    const { clock, master, agent } = setup();
    const f = new Recorder();
    f.onOffers = (d, offers) =>
      d.accept(offers[0]!.id, [
        { taskId: 'big', resources: { cpus: 8, mem: 1 }, backend: 'mock', payload: {} },
        { taskId: 'vm', resources: { cpus: 1, mem: 1 }, backend: 'vm', payload: {} },
        { taskId: 'ok', resources: { cpus: 1, mem: 1 }, backend: 'mock', payload: {} },
      ]);
    master.registerFramework(f, { name: 'f' });
    clock.advance(1000);
    expect(agent.launched.map((t) => t.taskId)).toEqual(['ok']);
    expect(f.updates.map((u) => [u.taskId, u.state, u.reason])).toEqual([
      ['big', 'error', 'task_invalid'],
      ['vm', 'error', 'task_invalid'],
    ]);
    expect(master.countTasks('error')).toBe(2);
  });

  it('ignores status updates that break the task-state table', () => {
    const { clock, master, agent } = setup();
    const f = new Recorder();
    f.onOffers = (d, o) => d.accept(o[0]!.id, [{ taskId: 't', resources: { cpus: 1, mem: 1 }, backend: 'mock', payload: {} }]);
    master.registerFramework(f, { name: 'f' });
    clock.advance(1000);
    const t = agent.launched[0]!;
    finish(master, t, 'running');
    finish(master, t, 'finished');
    finish(master, t, 'running');
    finish(master, t, 'failed');
    expect(f.updates.map((u) => u.state)).toEqual(['running', 'finished']);
    expect(master.counters.invalidUpdates).toBe(2);
  });

  it('rescinds an offer at its timeout and tells the framework', () => {
    const { clock, master } = setup({ offerTimeoutMs: 2500 });
    const f = new Recorder();
    master.registerFramework(f, { name: 'f' });
    clock.advance(1000);
    expect(f.offers).toHaveLength(1);
    clock.advance(2500);
    expect(f.rescinded).toEqual([f.offers[0]!.id]);
    expect(master.counters.rescinded).toBe(1);
    clock.advance(500);
    expect(f.offers).toHaveLength(2);
  });

  it('marks the tasks of a removed agent lost and tells the agent to shut down', () => {
    const { clock, master, agent } = setup();
    const f = new Recorder();
    f.onOffers = (d, o) => d.accept(o[0]!.id, [{ taskId: 't', resources: { cpus: 1, mem: 1 }, backend: 'mock', payload: {} }]);
    master.registerFramework(f, { name: 'f' });
    clock.advance(1000);
    expect(agent.launched).toHaveLength(1);
    master.removeAgent('a1', 'test');
    expect(f.updates.at(-1)!.state).toBe('lost');
    expect(master.agentList()).toHaveLength(0);
  });
});
