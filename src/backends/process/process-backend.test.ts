import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { decodeMessage, type ExecutorTask } from '../../executor/protocol.js';
import type { TaskSink } from '../backend.js';
import { ProcessBackend } from './process-backend.js';
import { detectCgroups } from './cgroup.js';

function sink(): TaskSink & { lines: string[]; phases: Record<string, number> } {
  const s = {
    lines: [] as string[],
    phases: {} as Record<string, number>,
    line: (l: string) => void s.lines.push(l),
    phase: (n: string, at: number) => void (s.phases[n] = at),
  };
  return s;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const task = (taskId: string, mode: ExecutorTask['mode']): ExecutorTask => ({ taskId, mode });

describe('ProcessBackend', () => {
  const backend = new ProcessBackend();
  const cg = detectCgroups();

  it('fingerprints healthy, never throws', async () => {
    const fp = await backend.fingerprint();
    expect(fp.health).toBe('healthy');
    expect(fp.attributes['process.node']).toBe(process.version);
  });

  it('runs the executor and passes its lines through', async () => {
    const s = sink();
    const h = await backend.start({ taskId: 'pb-ok', resources: { cpus: 1, mem: 256 }, executor: { taskId: 'pb-ok', mode: 'wordcount', input: '/etc/hostname', start: 0, end: 1_000_000 } }, s);
    const exit = await backend.wait(h);
    await backend.destroy(h);
    expect(exit.exitCode).toBe(0);
    expect(s.lines.map((l) => decodeMessage(l)?.type)).toEqual(['ready', 'result', 'done']);
    expect(s.phases.running).toBeGreaterThan(0);
    expect(s.phases.exited).toBeGreaterThanOrEqual(s.phases.running!);
  });

  it.skipIf('unusable' in cg)('puts the task in a cgroup with its limits and removes it', async () => {
    const h = await backend.start({ taskId: 'pb-cg', resources: { cpus: 0.5, mem: 300 }, executor: task('pb-cg', 'idle') }, sink());
    onTestFinished(() => backend.destroy(h));
    expect(h.limits).toMatchObject({ cpus: true, mem: true });
    const st = h.state as { cgroup: { memoryDir: string; cpuDir: string; version: string } };
    if (st.cgroup.version === 'cgroup-v1') {
      expect(readFileSync(join(st.cgroup.memoryDir, 'memory.limit_in_bytes'), 'utf8').trim()).toBe(String(300 * 1024 * 1024));
      expect(readFileSync(join(st.cgroup.cpuDir, 'cpu.cfs_quota_us'), 'utf8').trim()).toBe('50000');
    } else {
      expect(readFileSync(join(st.cgroup.memoryDir, 'memory.max'), 'utf8').trim()).toBe(String(300 * 1024 * 1024));
      expect(readFileSync(join(st.cgroup.cpuDir, 'cpu.max'), 'utf8').trim()).toBe('50000 100000');
    }
    const stats = await backend.stats(h);
    expect(stats.pids).toContain(Number(h.instanceId));
    await backend.stop(h, 2000);
    await backend.destroy(h);
    expect(existsSync(st.cgroup.memoryDir)).toBe(false);
  });

  it('kills a task that runs past its timeout, with its whole tree', async () => {
    const h = await backend.start({ taskId: 'pb-hang', resources: { cpus: 1, mem: 256 }, executor: task('pb-hang', 'hang'), timeoutMs: 300 }, sink());
    const pid = Number(h.instanceId);
    const exit = await backend.wait(h);
    await backend.destroy(h);
    expect(exit.timedOut).toBe(true);
    expect(alive(pid)).toBe(false);
  });

  it('reports a crash as a non-zero exit', async () => {
    const h = await backend.start({ taskId: 'pb-crash', resources: { cpus: 1, mem: 256 }, executor: task('pb-crash', 'crash') }, sink());
    const exit = await backend.wait(h);
    await backend.destroy(h);
    expect(exit.exitCode).toBe(3);
  });

  it('kills the task when the abort signal fires', async () => {
    const ac = new AbortController();
    const h = await backend.start({ taskId: 'pb-abort', resources: { cpus: 1, mem: 256 }, executor: task('pb-abort', 'hang') }, sink(), ac.signal);
    const pid = Number(h.instanceId);
    ac.abort();
    const exit = await backend.wait(h);
    await backend.destroy(h);
    expect(exit.signal).toBe('SIGKILL');
    expect(alive(pid)).toBe(false);
  });
});
