import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

/** True while the pid exists and is not a zombie (a killed orphan waits for init to reap it). */
const alive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
};

/** Live pids whose process group is `pgid`, and pids whose environment names `marker`. */
function treeOf(pgid: number, marker: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || !alive(Number(e))) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const group = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      if (group === pgid || readFileSync(`/proc/${e}/environ`, 'latin1').includes(marker)) out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out.sort((a, b) => a - b);
}

/**
 * A test-only preload (given to the executor's node through ISOLAB_TEST_NODE_OPTIONS, which the process backend
 * passes on) that makes the executor start a process tree: a shell with two sleeps in its process
 * group, and one sleep that leaves the group with setsid.
 */
function treePreload(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'isolab-tree-')), 'tree.cjs');
  writeFileSync(file, `require('node:child_process').spawn('/bin/sh', ['-c', 'sleep 300 & sleep 300 & setsid sleep 300 & wait'], { stdio: 'ignore' });\n`);
  return file;
}

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

  it('puts the task in a cgroup with its limits and removes it (skipped, with the reason, only where cgroups are unusable for an expected reason)', async (ctx) => {
    if ('unusable' in cg) {
      const expected = ['not root', 'cgroup v2 without memory and cpu controllers'];
      // eslint-disable-next-line no-console
      console.warn(`process-backend cgroup test: cgroups unusable here: ${cg.unusable}`);
      if (!expected.includes(cg.unusable)) throw new Error(`cgroups unusable for an unexpected reason: ${cg.unusable}`);
      ctx.skip(`cgroups unusable here: ${cg.unusable}`);
    }
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

  it('kills a task that runs past its timeout with its whole process tree (children started by a test-only preload); with cgroups, destroy also kills a child that left the group', async () => {
    const marker = `ISOLAB_TEST_TREE=${Date.now()}`;
    const saved = process.env.ISOLAB_TEST_NODE_OPTIONS;
    process.env.ISOLAB_TEST_NODE_OPTIONS = `--require ${treePreload()}`;
    process.env.ISOLAB_TEST_TREE = marker.split('=')[1];
    let h;
    try {
      h = await backend.start({ taskId: 'pb-hang', resources: { cpus: 1, mem: 256 }, executor: task('pb-hang', 'hang'), timeoutMs: 8000 }, sink());
    } finally {
      if (saved === undefined) delete process.env.ISOLAB_TEST_NODE_OPTIONS;
      else process.env.ISOLAB_TEST_NODE_OPTIONS = saved;
      delete process.env.ISOLAB_TEST_TREE;
    }
    const pid = Number(h.instanceId);
    let tree: number[] = [];
    for (let i = 0; i < 300 && tree.length < 5; i++) {
      await new Promise((r) => setTimeout(r, 20));
      tree = treeOf(pid, marker);
    }
    expect(tree.length, 'executor, shell, two sleeps in its group and one setsid sleep').toBe(5);
    const exit = await backend.wait(h);
    expect(exit.timedOut).toBe(true);
    const escaped = tree.filter((p) => alive(p));
    expect(escaped, 'only the child that left the process group outlives the timeout kill').toHaveLength(1);
    await backend.destroy(h);
    expect(alive(pid)).toBe(false);
    if ('version' in cg) {
      for (let i = 0; i < 100 && tree.some(alive); i++) await new Promise((r) => setTimeout(r, 20));
      expect(tree.filter(alive)).toEqual([]);
    } else {
      for (const p of escaped) process.kill(p, 'SIGKILL');
      // eslint-disable-next-line no-console
      console.warn(`process-backend tree test: without cgroups (${cg.unusable}) a child that leaves the process group survives; killed by the test`);
    }
  }, 30_000);

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
