import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTaskCgroup, detectCgroups, removeTaskCgroup, type TaskCgroup } from '../../src/backends/process/cgroup.js';
import { listOwned, OWNER_ENV, recordProcess, removeOwned } from '../../src/backends/process/owned.js';
import { reap } from '../../src/reaper/reaper.js';
import { procStartTime } from '../../src/session/proc.js';
import { inspectSession, sessionDir } from '../../src/session/session-lock.js';
import { session } from '../../src/session/session.js';
import { ProcessBackend } from '../../src/backends/process/process-backend.js';
import { alive, killChild, sessionHolder, testSession } from './helpers.js';

const state = mkdtempSync(join(tmpdir(), 'isolab-reap-proc-'));
let saved: string | undefined;
beforeAll(() => {
  saved = process.env.ISOLAB_STATE_DIR;
  process.env.ISOLAB_STATE_DIR = state;
});
afterAll(() => {
  if (saved === undefined) delete process.env.ISOLAB_STATE_DIR;
  else process.env.ISOLAB_STATE_DIR = saved;
});

const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) await killChild(c);
});

/** A process carrying the owner marker of `session`, as anyone could start one (`ISOLAB_OWNER_SESSION=<session> sleep`). */
async function marked(session: string, shell?: string): Promise<ChildProcess> {
  const c = shell
    ? spawn('/bin/sh', ['-c', shell], { env: { ...process.env, [OWNER_ENV]: session }, stdio: 'ignore', detached: true })
    : spawn('sleep', ['300'], { env: { ...process.env, [OWNER_ENV]: session }, stdio: 'ignore', detached: true });
  await new Promise((r) => c.once('spawn', r));
  children.push(c);
  return c;
}

const cg = detectCgroups();

describe('process-backend records', () => {
  it('an executor is recorded (pid + start time) in the session record while it runs; after cleanup the session leaves no record', async () => {
    const b = new ProcessBackend();
    const sess = session();
    const h = await b.start({ taskId: 'rec1', resources: { cpus: 1, mem: 128 }, executor: { taskId: 'rec1', mode: 'idle' } }, { line: () => {}, phase: () => {} });
    const pid = Number(h.instanceId);
    const rec = JSON.parse(readFileSync(join(sessionDir(sess.id), 'processes', String(pid)), 'utf8'));
    expect(rec).toMatchObject({ pid, startTime: procStartTime(pid), task: 'rec1' });
    expect(inspectSession(sess.id).state).toBe('live');
    await b.stop(h, 2000);
    await b.destroy(h);
    expect(existsSync(join(sessionDir(sess.id), 'processes', String(pid)))).toBe(false);
    expect(await sess.close()).toEqual([]);
    expect(existsSync(sessionDir(sess.id))).toBe(false);
  });
});

describe('reap --backend process: only provably isolab processes, never a live session', () => {
  it('leaves alone a process that merely carries the marker (no record, no task cgroup of its session)', async () => {
    const s = testSession('rpnone');
    const p = await marked(s);
    expect(listOwned('process').filter((r) => r.session === s)).toEqual([]);
    const r = await reap({ backends: ['process'], session: s });
    expect(r.items).toEqual([]);
    expect(alive(p.pid!)).toBe(true);
  });

  it('leaves alone a recorded process whose session is live, says so, and takes it only with force', async () => {
    const s = testSession('rplive');
    const holder = await sessionHolder(s);
    children.push(holder);
    const p = await marked(s);
    recordProcess(s, p.pid, 't1');
    const id = `${p.pid}@${procStartTime(p.pid!)}`;
    expect(listOwned('process').filter((r) => r.session === s)).toEqual([{ backend: 'process', kind: 'process', id, session: s }]);
    const r = await reap({ backends: ['process'], session: s });
    expect(r.live).toEqual([expect.objectContaining({ session: s, pid: holder.pid, items: 1 })]);
    expect(r.items).toEqual([expect.objectContaining({ id, removed: false, skipped: expect.stringMatching(new RegExp(`session ${s} is running \\(pid ${holder.pid}\\)`)) })]);
    expect(alive(p.pid!)).toBe(true);
    const forced = await reap({ backends: ['process'], session: s, force: true });
    expect(forced.items).toEqual([expect.objectContaining({ id, removed: true })]);
    await new Promise((x) => p.exitCode !== null || p.signalCode !== null ? x(0) : p.once('exit', x));
    expect(p.signalCode).toBe('SIGKILL');
  });

  it('kills a recorded process of a dead session (holder SIGKILLed, no cleanup) and then removes the session record', async () => {
    const s = testSession('rpdead');
    const holder = await sessionHolder(s);
    const p = await marked(s);
    recordProcess(s, p.pid, 't1');
    await killChild(holder);
    const dry = await reap({ backends: ['process', 'files'], session: s, dryRun: true });
    expect(dry.items.map((i) => [i.kind, i.removed])).toEqual([['process', false], ['session', false]]);
    expect(alive(p.pid!)).toBe(true);
    const r = await reap({ backends: ['process', 'files'], session: s });
    expect(r.live).toEqual([]);
    expect(r.items.map((i) => [i.kind, i.removed, i.error])).toEqual([['process', true, undefined], ['session', true, undefined]]);
    await new Promise((x) => p.exitCode !== null || p.signalCode !== null ? x(0) : p.once('exit', x));
    expect(p.signalCode).toBe('SIGKILL');
    expect(existsSync(sessionDir(s))).toBe(false);
  });

  it('never kills a reused pid: the start time is read again just before the kill', async () => {
    const s = testSession('rpreuse');
    const p = await marked(s);
    recordProcess(s, p.pid, 't1');
    const start = procStartTime(p.pid!)!;
    await removeOwned({ backend: 'process', kind: 'process', id: `${p.pid}@${start - 1}`, session: s });
    expect(alive(p.pid!)).toBe(true);
    await expect(removeOwned({ backend: 'process', kind: 'process', id: `${p.pid}@${start}`, session: 'othersess1' })).rejects.toThrow(/no longer provably/);
    expect(alive(p.pid!)).toBe(true);
  });

  it('the children of a recorded executor (same process group) are proven through it', async () => {
    const s = testSession('rpkids');
    const p = await marked(s, 'sleep 300 & sleep 300 & wait');
    recordProcess(s, p.pid, 't1');
    let kids: number[] = [];
    for (let i = 0; i < 200 && kids.length < 2; i++) {
      kids = listOwned('process').filter((r) => r.session === s).map((r) => Number(r.id.split('@')[0])).filter((x) => x !== p.pid);
      await new Promise((x) => setTimeout(x, 10));
    }
    expect(kids).toHaveLength(2);
    const r = await reap({ backends: ['process'], session: s });
    expect(r.items.filter((i) => i.removed)).toHaveLength(3);
    for (let i = 0; i < 100 && kids.some(alive); i++) await new Promise((x) => setTimeout(x, 10));
    expect(kids.filter(alive)).toEqual([]);
  });

  it('task cgroups: a marked process in its session\'s task cgroup is proven by it; reap kills it and removes the cgroup', async (ctx) => {
    if ('unusable' in cg) {
      const expected = ['not root', 'cgroup v2 without memory and cpu controllers'];
      // eslint-disable-next-line no-console
      console.warn(`skipped: no usable cgroups here (${cg.unusable})`);
      if (!expected.includes(cg.unusable)) throw new Error(`cgroups unusable for an unexpected reason: ${cg.unusable}`);
      ctx.skip(`no usable cgroups here: ${cg.unusable}`);
    }
    const s = testSession('rpcg');
    let group: TaskCgroup | undefined = createTaskCgroup(`isolab-${s}-t1`, { cpus: 1, mem: 64 });
    try {
      const procs = group.dirs.map((d) => `echo $$ > '${d}/cgroup.procs'`).join(' && ');
      const p = await marked(s, `${procs} && exec sleep 300`);
      let listed: string[] = [];
      for (let i = 0; i < 200 && !listed.includes('process'); i++) {
        listed = listOwned('process').filter((r) => r.session === s).map((r) => r.kind);
        await new Promise((x) => setTimeout(x, 10));
      }
      expect(listed.sort()).toEqual([...group.dirs.map(() => 'cgroup'), 'process']);
      const r = await reap({ backends: ['process'], session: s });
      expect(r.items.map((i) => [i.kind, i.removed, i.error])).toEqual(r.items.map((i) => [i.kind, true, undefined]));
      await new Promise((x) => p.exitCode !== null || p.signalCode !== null ? x(0) : p.once('exit', x));
      expect(p.signalCode).toBe('SIGKILL');
      for (const d of group.dirs) expect(existsSync(d)).toBe(false);
      group = undefined;
    } finally {
      if (group) await removeTaskCgroup(group).catch(() => {});
    }
  });
});
