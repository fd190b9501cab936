import { describe, expect, it } from 'vitest';
import { LocalAgent } from '../../src/agent/agent.js';
import type { Backend } from '../../src/backends/backend.js';
import { MockBackend } from '../support/mock-backend.js';
import { FakeClock } from '../../src/master/clock.js';
import type { AgentInfo, AgentDriver, MasterLink, TaskStatus } from '../../src/master/types.js';

/** A MasterLink that records what the agent says (the agent needs nothing else from a master). */
class RecordingLink implements MasterLink {
  registrations: { info: AgentInfo; id?: string }[] = [];
  updates: TaskStatus[] = [];
  pongs: string[] = [];
  constructor(readonly clock: FakeClock) {}
  registerAgent(info: AgentInfo, _driver: AgentDriver, id?: string): string {
    this.registrations.push({ info, id });
    return id ?? 'agent-1';
  }
  statusUpdate(s: TaskStatus): void {
    this.updates.push(s);
  }
  pong(agentId: string): void {
    this.pongs.push(agentId);
  }
}

const launched = (taskId: string, payload: unknown = { taskId, mode: 'idle' }) => ({
  taskId, resources: { cpus: 1, mem: 64 }, backend: 'mock', payload, frameworkId: 'f', agentId: 'agent-1', offerId: 'o', offeredAt: 0, acceptedAt: 0,
});

function agentWith(opts: ConstructorParameters<typeof MockBackend>[0] = {}) {
  const clock = new FakeClock();
  const link = new RecordingLink(clock);
  const backend = new MockBackend({ clock, ...opts });
  const agent = new LocalAgent(link, new Map([['mock', backend as Backend]]));
  agent.register({ hostname: 'h', resources: { cpus: 2, mem: 1024 } });
  return { clock, link, agent };
}

const states = (link: RecordingLink, taskId: string) => link.updates.filter((u) => u.taskId === taskId).map((u) => u.state);

describe('LocalAgent through MasterLink (no Master class needed)', () => {
  it('registers with its backends, answers pings, reports a task\'s states', async () => {
    const { clock, link, agent } = agentWith({ runMs: 1000 });
    expect(link.registrations).toEqual([{ info: { hostname: 'h', resources: { cpus: 2, mem: 1024 }, backends: ['mock'] }, id: undefined }]);
    agent.ping();
    expect(link.pongs).toEqual(['agent-1']);
    agent.launch(launched('t'));
    await clock.advanceAsync(2000);
    expect(states(link, 't')).toEqual(['starting', 'running', 'finished']);
  });

  it('decides finished or failed from the executor\'s exit, not from the payload', async () => {
    // A "wordcount" payload whose executor exits 0 without a result is finished: whether the result is
    // what the framework wanted is the framework's call (the wordcount framework retries it).
    const { clock, link, agent } = agentWith({ runMs: 10, exitCode: (spec) => (spec.taskId === 'bad' ? 3 : 0) });
    agent.launch(launched('wc', { taskId: 'wc', mode: 'wordcount', input: '/x', start: 0, end: 1 }));
    agent.launch(launched('bad'));
    await clock.advanceAsync(100);
    expect(states(link, 'wc').at(-1)).toBe('finished');
    expect(states(link, 'bad').at(-1)).toBe('failed');
  });

  it('kill: killing, then killed; a kill for a task it does not run is answered', async () => {
    const { clock, link, agent } = agentWith({ runMs: 60_000 });
    agent.launch(launched('t'));
    await clock.advanceAsync(10);
    agent.kill('t', 'f');
    await clock.advanceAsync(10);
    expect(states(link, 't')).toEqual(['starting', 'running', 'killing', 'killed']);
    agent.kill('ghost', 'f');
    expect(link.updates.at(-1)).toMatchObject({ taskId: 'ghost', state: 'killed', message: 'task not running on this agent' });
  });

  it('reconcile: its current state for a task it runs, dropped for one it never had', async () => {
    const { clock, link, agent } = agentWith({ runMs: 60_000 });
    agent.launch(launched('t'));
    await clock.advanceAsync(10);
    link.updates = [];
    agent.reconcile([{ taskId: 't', frameworkId: 'f' }, { taskId: 'x', frameworkId: 'f' }]);
    expect(link.updates.map((u) => [u.taskId, u.state, u.reason])).toEqual([['t', 'running', 'reconciliation'], ['x', 'dropped', 'reconciliation']]);
  });

  it('after a partition it re-registers with its tasks, then sends the updates it held, in order', async () => {
    const { clock, link, agent } = agentWith({ runMs: (spec) => (spec.taskId === 'short' ? 100 : 60_000) });
    agent.launch(launched('short'));
    agent.launch(launched('long'));
    await clock.advanceAsync(10);
    agent.disconnect();
    link.updates = [];
    await clock.advanceAsync(1000); // short finishes during the partition: its update is held
    agent.ping();
    expect(link.pongs).toEqual([]);
    expect(link.updates).toEqual([]);
    agent.reconnect();
    expect(link.registrations.at(-1)!.id).toBe('agent-1');
    expect(link.registrations.at(-1)!.info.tasks).toEqual([
      { taskId: 'long', frameworkId: 'f', state: 'running' },
      { taskId: 'short', frameworkId: 'f', state: 'finished' },
    ]);
    expect(link.updates.map((u) => `${u.taskId}:${u.state}`)).toEqual(['short:finished']);
  });
});
