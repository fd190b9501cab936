import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TaskState } from '../../master/task-state.js';
import type { TaskStatus } from '../../master/types.js';
import { AgentStatusUpdates } from './status-update-manager.js';

const status = (taskId: string, state: TaskState, n: number): TaskStatus => ({
  taskId, frameworkId: 'f1', agentId: 'a1', state, uuid: `${taskId}-${n}`, timestamp: n,
});

const tick = (ms = 5): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('AgentStatusUpdates (the agent-side status update manager)', () => {
  it('sends each task\'s updates in order, the next only after the previous was acknowledged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'isolab-sum-'));
    const sent: string[] = [];
    const acks: (() => void)[] = [];
    const m = new AgentStatusUpdates({
      dir, send: (s) => new Promise((resolve) => {
        sent.push(s.uuid);
        acks.push(() => resolve(true));
      }),
    });
    m.resume();
    m.update(status('t1', 'starting', 1));
    m.update(status('t1', 'running', 2));
    m.update(status('t2', 'starting', 1));
    await tick();
    expect(sent).toEqual(['t1-1', 't2-1']); // one in flight per task; tasks do not wait for each other
    acks.shift()!();
    await tick();
    expect(sent).toEqual(['t1-1', 't2-1', 't1-2']);
    expect(m.acked('f1', 't1')).toBe('starting');
    expect(m.pending).toBe(2);
  });

  it('retries an update that was not acknowledged, with back-off, only while subscribed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'isolab-sum-'));
    let calls = 0;
    const m = new AgentStatusUpdates({ dir, retryMs: 10, send: async () => ++calls >= 3 });
    m.update(status('t1', 'running', 1));
    await tick(30);
    expect(calls).toBe(0); // paused: not subscribed
    m.resume();
    await tick(100);
    expect(calls).toBe(3); // failed, failed (10 ms, then 20 ms), acknowledged
    expect(m.pending).toBe(0);
    m.stop();
  });

  it('keeps updates on disk: a new manager on the same folder sends what was not acknowledged, in order; a terminal acknowledged task leaves no file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'isolab-sum-'));
    const first = new AgentStatusUpdates({ dir, send: async (s) => s.state === 'starting' });
    first.resume();
    first.update(status('t1', 'starting', 1));
    first.update(status('t1', 'running', 2));
    first.update(status('t1', 'finished', 3));
    await tick(20);
    first.stop(); // the agent dies with running and finished not acknowledged

    const sent: string[] = [];
    const second = new AgentStatusUpdates({ dir, send: async (s) => (sent.push(s.uuid), true) });
    const found = second.recover();
    expect(found).toEqual([{ taskId: 't1', frameworkId: 'f1', acked: 'starting', latest: 'finished' }]);
    second.resume();
    await tick(20);
    expect(sent).toEqual(['t1-2', 't1-3']);
    expect(readdirSync(dir)).toEqual([]);
  });
});
