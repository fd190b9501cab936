import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/master/clock.js';
import { Master } from '../../src/master/master.js';
import type { TaskLaunch } from '../../src/master/types.js';
import { RecordingAgent as Agent, RecordingScheduler as Rec } from './fakes.js';

// Every launch is validated as Mesos' validation.cpp does; a failure is `error` (TASK_ERROR) with a
// reason, the offers' resources go back, and nothing else changes.

function setup() {
  const clock = new FakeClock();
  const master = new Master({ clock, eventAllocationDelayMs: null, random: () => 0 });
  const a1 = new Agent();
  const a2 = new Agent();
  master.registerAgent({ hostname: 'h1', resources: { cpus: 4, mem: 4096 }, backends: ['mock'] }, a1, 'a1');
  master.registerAgent({ hostname: 'h2', resources: { cpus: 4, mem: 4096 }, backends: ['mock', 'docker'] }, a2, 'a2');
  master.start();
  const f = new Rec();
  master.registerFramework(f, { name: 'f', id: 'f' });
  clock.advance(1000); // 1 s: f is offered both agents, <4, 4096> each, and holds the offers
  const offerOn = (agentId: string) => f.offers.find((o) => o.agentId === agentId)!.id;
  return { clock, master, a1, a2, f, offerOn };
}

const t = (taskId: string, cpus = 1, mem = 256, backend = 'mock'): TaskLaunch => ({ taskId, resources: { cpus, mem }, backend, payload: {} });

/** Launches on a1's offer and returns the updates the framework got, as "task:state:reason". */
function launch(tasks: TaskLaunch[], offerIds?: (o: (a: string) => string) => string | string[]) {
  const s = setup();
  s.f.driver.accept(offerIds ? offerIds(s.offerOn) : s.offerOn('a1'), tasks);
  const updates = s.f.updates.map((u) => `${u.taskId}:${u.state}:${u.reason}`);
  return { ...s, updates };
}

describe('launch validation', () => {
  const invalid: [string, TaskLaunch, RegExp][] = [
    ['negative cpus', t('x', -1, 1), /cpus is negative/],
    ['negative mem', t('x', 1, -5), /mem is negative/],
    ['NaN cpus', t('x', NaN, 1), /cpus is not a finite number/],
    ['infinite mem', t('x', 1, Infinity), /mem is not a finite number/],
    ['no resources at all', t('x', 0, 0), /empty/],
    ['more than the offer', t('x', 5, 1), /needs cpus:5;mem:1 but the offers have cpus:4;mem:4096 left/],
    ['an empty task id', t('', 1, 1), /task id is empty/],
    ['a backend the agent does not have', t('x', 1, 1, 'vm'), /has no backend vm/],
    ['another agent named in the task', { ...t('x'), agentId: 'a2' }, /names agent a2/],
  ];
  for (const [what, task, message] of invalid) {
    it(`${what}: error (task_invalid); the offer's resources go back whole; nothing launched`, () => {
      const { master, a1, f, updates } = launch([task]);
      expect(updates).toEqual([`${task.taskId}:error:task_invalid`]);
      expect(f.updates[0]!.message).toMatch(message);
      expect(a1.launched).toEqual([]);
      expect(master.agentList().find((a) => a.id === 'a1')).toMatchObject({ free: { cpus: 4, mem: 4096 }, used: { cpus: 0, mem: 0 }, offered: { cpus: 0, mem: 0 } });
      expect(master.countTasks('error')).toBe(1);
      expect(master.countTasks('staging')).toBe(0);
      expect(master.allTasks()).toEqual([]);
    });
  }

  it('resources are checked cumulatively: valid tasks use the offer up, the one that no longer fits is error', () => {
    // offer <4, 4096>: a <2, 1024> ok (left <2, 3072>), b <2, 1024> ok (left <0, 2048>), c <1, 1> does not fit.
    const { a1, updates } = launch([t('a', 2, 1024), t('b', 2, 1024), t('c', 1, 1)]);
    expect(updates).toEqual(['c:error:task_invalid']);
    expect(a1.launched.map((x) => x.taskId)).toEqual(['a', 'b']);
  });

  it('a duplicate task id within one accept: the second is error', () => {
    const { a1, updates } = launch([t('a'), t('a')]);
    expect(updates).toEqual(['a:error:task_invalid']);
    expect(a1.launched.map((x) => x.taskId)).toEqual(['a']);
  });

  it('a duplicate of a live task id is error; the id of a finished task can be used again', () => {
    const s = setup();
    s.f.driver.accept(s.offerOn('a1'), [t('a')]);
    s.f.driver.accept(s.offerOn('a2'), [t('a')]);
    expect(s.f.updates.map((u) => `${u.taskId}:${u.state}`)).toEqual(['a:error']);
    s.master.statusUpdate({ taskId: 'a', frameworkId: 'f', agentId: 'a1', state: 'finished', uuid: 'u', timestamp: 0 });
    s.clock.advance(1000); // a2's offer came back (the invalid accept) and a1's <1, 256>: both offered at 2 s
    s.f.driver.accept(s.f.offers.at(-1)!.id, [t('a')]);
    expect(s.master.task('f', 'a')!.state).toBe('staging');
  });

  it('an unknown offer: error (invalid_offers) for every task', () => {
    const { master, updates } = launch([t('a'), t('b')], () => 'offer-nope');
    expect(updates).toEqual(['a:error:invalid_offers', 'b:error:invalid_offers']);
    expect(master.outstandingOfferCount).toBe(2); // the framework's real offers are untouched
  });

  it('another framework\'s offer: error, and that offer stays with its framework', () => {
    const s = setup();
    const g = new Rec();
    s.master.registerFramework(g, { name: 'g', id: 'g' });
    g.driver.accept(s.offerOn('a1'), [t('a')]);
    expect(g.updates.map((u) => `${u.taskId}:${u.state}:${u.reason}`)).toEqual(['a:error:invalid_offers']);
    expect(g.updates[0]!.message).toMatch(/was not made to framework g/);
    expect(s.master.outstandingOffers().map((o) => o.frameworkId)).toEqual(['f', 'f']);
  });

  it('offers of two agents mixed in one accept: error for every task; the offers go back', () => {
    const { master, a1, a2, updates, f } = launch([t('a')], (o) => [o('a1'), o('a2')]);
    expect(updates).toEqual(['a:error:invalid_offers']);
    expect(f.updates[0]!.message).toMatch(/different agents/);
    expect(a1.launched.concat(a2.launched)).toEqual([]);
    expect(master.outstandingOfferCount).toBe(0);
    expect(master.agentList().map((a) => a.free)).toEqual([{ cpus: 4, mem: 4096 }, { cpus: 4, mem: 4096 }]);
  });

  it('an offer of an agent that is gone: error', () => {
    const s = setup();
    const offer = s.offerOn('a1');
    s.master.removeAgent('a1', 'test'); // rescinds the offer
    s.f.driver.accept(offer, [t('a')]);
    expect(s.f.updates.map((u) => `${u.taskId}:${u.state}:${u.reason}`)).toEqual(['a:error:invalid_offers']);
  });

  it('the same offer twice in one accept: error', () => {
    const { updates } = launch([t('a')], (o) => [o('a1'), o('a1')]);
    expect(updates).toEqual(['a:error:invalid_offers']);
  });

  it('two offers of one agent combine', () => {
    const s = setup();
    s.f.driver.accept(s.offerOn('a1'), [t('a', 3, 3000)], { refuseSeconds: 0 }); // leaves <1, 1096> on a1
    s.clock.advance(1000); // 2 s: a1's <1, 1096> offered again
    const second = s.f.offers.at(-1)!;
    expect(second).toMatchObject({ agentId: 'a1', resources: { cpus: 1, mem: 1096 } });
    s.master.statusUpdate({ taskId: 'a', frameworkId: 'f', agentId: 'a1', state: 'finished', uuid: 'u', timestamp: 0 });
    s.clock.advance(1000); // 3 s: a1's freed <3, 3000> offered separately while <1, 1096> is still held
    const third = s.f.offers.at(-1)!;
    expect(third).toMatchObject({ agentId: 'a1', resources: { cpus: 3, mem: 3000 } });
    s.f.driver.accept([second.id, third.id], [t('big', 4, 4096)]);
    expect(s.a1.launched.map((x) => x.taskId)).toEqual(['a', 'big']);
    expect(s.master.agentList()[0]!.used).toEqual({ cpus: 4, mem: 4096 });
  });
});
