import { describe, expect, it } from 'vitest';
import { RecordingAgent, RecordingScheduler } from '../../test/master/fakes.js';
import { FakeClock } from './clock.js';
import { Master } from './master.js';
import { TASK_STATES, isTerminal, type TaskState } from './task-state.js';
import type { AgentDriver } from './types.js';

// These tests drive real tasks through a master and look at what it does with each update: whether
// it applies it (the framework sees it, the counts move) or drops it (invalid_status_updates).

/** An agent that answers pings until cut off. */
class PingingAgent extends RecordingAgent implements AgentDriver {
  up = true;
  id = '';
  master?: Master;
  ping(): void {
    if (this.up) this.master!.pong(this.id);
  }
}

function setup(partitionAware = false) {
  const clock = new FakeClock();
  const master = new Master({ clock, eventAllocationDelayMs: null, agentPingTimeoutMs: 1000, maxAgentPingTimeouts: 2, statusUpdateRetryMs: null });
  const agent = new PingingAgent();
  agent.master = master;
  agent.id = master.registerAgent({ hostname: 'h', resources: { cpus: 4, mem: 4096 }, backends: ['mock'] }, agent, 'a1');
  const f = new RecordingScheduler();
  let n = 0;
  f.onOffers = (d, offers) => {
    if (n++ === 0) d.accept(offers[0]!.id, [{ taskId: 't', resources: { cpus: 1, mem: 512 }, backend: 'mock', payload: {} }], { refuseSeconds: 0 });
  };
  master.registerFramework(f, { name: 'f', id: 'f', partitionAware });
  master.start();
  clock.advance(1000); // offer at 1 s: t launched, staging
  let u = 0;
  const send = (state: TaskState): void =>
    master.statusUpdate({ taskId: 't', frameworkId: 'f', agentId: 'a1', state, uuid: `u${u++}`, timestamp: clock.now() });
  const seen = (): string[] => f.updates.filter((s) => s.taskId === 't').map((s) => s.state);
  return { clock, master, agent, f, send, seen };
}

const stateOf = (m: Master): TaskState => m.task('f', 't')!.state;

describe('task states, on real tasks', () => {
  it('terminal states are those of Mesos\' isTerminalState; the rest are live', () => {
    // Mesos: FINISHED, FAILED, KILLED, LOST, ERROR, DROPPED, GONE, GONE_BY_OPERATOR are terminal;
    // STAGING, STARTING, RUNNING, KILLING, UNREACHABLE (and UNKNOWN) are not.
    expect(TASK_STATES.filter(isTerminal)).toEqual(['finished', 'failed', 'killed', 'lost', 'error', 'dropped', 'gone']);
    expect(TASK_STATES.filter((s) => !isTerminal(s))).toEqual(['staging', 'starting', 'running', 'killing', 'unreachable']);
  });

  it('a launch starts staging; the agent may skip steps forward (staging -> running)', () => {
    const { master, send, seen } = setup();
    expect(stateOf(master)).toBe('staging');
    expect(master.countTasks('staging')).toBe(1);
    send('running');
    expect(stateOf(master)).toBe('running');
    expect(seen()).toEqual(['running']);
    expect(master.countTasks('staging')).toBe(0);
    expect(master.countTasks('running')).toBe(1);
  });

  it('never moves backwards: running -> starting is dropped and counted invalid', () => {
    const { master, send, seen } = setup();
    send('starting');
    send('running');
    send('starting');
    expect(stateOf(master)).toBe('running');
    expect(seen()).toEqual(['starting', 'running']);
    expect(master.counters.invalidUpdates).toBe(1);
  });

  it('never leaves a terminal state; an agent that says a finished task runs is told to kill it', () => {
    const { master, agent, send, seen } = setup();
    send('running');
    send('finished');
    for (const s of ['running', 'failed', 'killed', 'starting'] as const) send(s);
    expect(stateOf(master)).toBe('finished');
    expect(seen()).toEqual(['running', 'finished']);
    expect(master.counters.invalidUpdates).toBe(4);
    expect(agent.killed).toEqual(['t', 't']); // for 'running' and 'starting': the task must not run
    expect(master.agentList()[0]!.used).toEqual({ cpus: 0, mem: 0 });
  });

  it('killing: a kill of a running task goes running -> killing -> killed, in that order', () => {
    const { master, agent, f, send, seen } = setup();
    send('running');
    f.driver.kill('t');
    expect(agent.killed).toEqual(['t']);
    send('killing');
    expect(master.countTasks('killing')).toBe(1);
    send('killed');
    expect(seen()).toEqual(['running', 'killing', 'killed']);
    expect(master.countTasks('killed')).toBe(1);
    expect(master.pendingKillCount).toBe(0);
  });

  it('error: an invalid launch is error at once and never reaches the agent', () => {
    const { clock, master, agent, f } = setup();
    f.onOffers = (d, offers) => d.accept(offers[0]!.id, [{ taskId: 'bad', resources: { cpus: -1, mem: 1 }, backend: 'mock', payload: {} }]);
    clock.advance(1000);
    expect(agent.launched.map((t) => t.taskId)).toEqual(['t']);
    expect(f.updates.map((s) => [s.taskId, s.state, s.reason])).toEqual([['bad', 'error', 'task_invalid']]);
    expect(master.countTasks('error')).toBe(1);
  });

  it('dropped: a launch that does not reach the agent is dropped and its resources come back', () => {
    const { clock, master, agent, f } = setup();
    agent.launch = () => {
      throw new Error('connection refused');
    };
    f.onOffers = (d, offers) => d.accept(offers[0]!.id, [{ taskId: 'x', resources: { cpus: 1, mem: 1 }, backend: 'mock', payload: {} }]);
    clock.advance(1000);
    expect(master.task('f', 'x')!.state).toBe('dropped');
    expect(master.countTasks('dropped')).toBe(1);
    expect(master.agentList()[0]!.used).toEqual({ cpus: 1, mem: 512 }); // only t
  });

  it('lost: the agent of a framework that is not partition-aware stops answering', () => {
    const { clock, master, agent, send, seen } = setup(false);
    send('running');
    agent.up = false;
    clock.advance(3000); // pings at 1, 2, 3 s; misses counted at 2 and 3 s: unreachable at 3 s
    expect(stateOf(master)).toBe('lost');
    expect(seen()).toEqual(['running', 'lost']);
    expect(master.task('f', 't')!.last!.reason).toBe('agent_unreachable');
  });

  it('unreachable -> running: a partition-aware framework\'s task comes back when its agent re-registers with it', () => {
    const { clock, master, agent, send, seen } = setup(true);
    send('running');
    agent.up = false;
    clock.advance(3000);
    expect(stateOf(master)).toBe('unreachable');
    expect(master.countTasks('unreachable')).toBe(1);
    expect(master.frameworkList()[0]!.used).toEqual({ cpus: 0, mem: 0 }); // its resources left with the agent
    agent.up = true;
    master.registerAgent({ hostname: 'h', resources: { cpus: 4, mem: 4096 }, backends: ['mock'], tasks: [{ taskId: 't', frameworkId: 'f', state: 'running' }] }, agent, 'a1');
    expect(stateOf(master)).toBe('running');
    expect(seen()).toEqual(['running', 'unreachable', 'running']);
    expect(master.agentList()[0]!.used).toEqual({ cpus: 1, mem: 512 });
    expect(master.frameworkList()[0]!.used).toEqual({ cpus: 1, mem: 512 });
  });

  it('unreachable -> gone: the agent comes back without the task (it restarted)', () => {
    const { clock, master, agent, send, seen } = setup(true);
    send('running');
    agent.up = false;
    clock.advance(3000);
    agent.up = true;
    master.registerAgent({ hostname: 'h', resources: { cpus: 4, mem: 4096 }, backends: ['mock'], tasks: [] }, agent, 'a1');
    expect(stateOf(master)).toBe('gone');
    expect(seen()).toEqual(['running', 'unreachable', 'gone']);
    expect(master.task('f', 't')!.last!.reason).toBe('agent_restarted');
  });

  it('gone: an agent marked gone takes its partition-aware tasks with it and cannot register again', () => {
    const { master, agent, send, seen } = setup(true);
    send('running');
    master.markAgentGone('a1', 'decommissioned');
    expect(stateOf(master)).toBe('gone');
    expect(seen()).toEqual(['running', 'gone']);
    expect(() => master.registerAgent({ hostname: 'h', resources: { cpus: 4, mem: 4096 }, backends: ['mock'] }, agent, 'a1')).toThrow(/marked gone/);
  });

  it('every state is reached by one of the scenarios above', () => {
    const reached = new Set<TaskState>(['staging', 'starting', 'running', 'killing', 'unreachable', 'finished', 'killed', 'lost', 'error', 'dropped', 'gone']);
    const { master, send } = setup();
    send('failed');
    reached.add(stateOf(master));
    expect([...reached].sort()).toEqual([...TASK_STATES].sort());
  });
});
