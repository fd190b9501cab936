import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCorpus } from '../../src/workload/corpus.js';
import { isolab, referenceCounts, startIsolab, tempDir, type RunningCli } from '../cli/helpers.js';
import { clusterStatus, clusterUp, executorsOf, leftovers, skipReason, type ClusterStatus } from './helpers.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Each map task waits this long before counting (test-only switch), so faults land while tasks run. */
const DELAY_MS = 3000;

describe.skipIf(skipReason !== undefined)(`a 3-agent cluster on test hosts (network namespaces)${skipReason ? ` (SKIPPED: ${skipReason})` : ''}`, () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let input: string;
  let expected: string;
  let up: RunningCli;
  let session: string;
  let first: ClusterStatus;

  const status = (): Promise<ClusterStatus> => clusterStatus(env, session);
  const agent = (c: ClusterStatus, i: number) => c.record!.processes.find((p) => p.role === `agent-${i}`)!;
  /** Runs the wordcount framework in the master's namespace; resolves with its JSON line. */
  const wordcount = async (extra: NodeJS.ProcessEnv = {}): Promise<{ sha256: string; attempts: number; retries: number; code: number | null; stderr: string }> => {
    const rec = first.record!;
    const r = await isolab([
      'cluster', 'exec', '--session', session, '--', process.execPath, join(import.meta.dirname, '..', '..', 'bin', 'isolab'), 'wordcount',
      '--master', rec.masterUrl, '--credentials', rec.credentials, '--serve-input', rec.hosts[0]!.address, '--input', input,
      '--parallelism', '6', '--json',
    ], { ...env, ...extra }, 90_000);
    const j = r.code === 0 ? (JSON.parse(r.stdout.trim().split('\n').pop()!) as { sha256: string; attempts: number; retries: number }) : { sha256: '', attempts: 0, retries: 0 };
    return { ...j, code: r.code, stderr: r.stderr };
  };
  /** Polls /state until `cond` holds. */
  const waitState = async (cond: (c: ClusterStatus) => boolean, ms: number): Promise<ClusterStatus> => {
    const until = Date.now() + ms;
    for (;;) {
      const c = await status();
      if (c.state && cond(c)) return c;
      if (Date.now() > until) throw new Error(`state condition not met in ${ms} ms: ${JSON.stringify(c.state).slice(0, 800)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  /**
   * Waits until agent i runs instances of the job, and none of its tasks is still starting: their
   * checkpoints are in its work dir (read from the file system, much faster than /state under load). Returns how many.
   */
  const checkpointsOn = async (i: number, ms = 20_000): Promise<number> => {
    const root = join(dir, 'state', 'clusters', `isolab-${session}`, `agent-${i}`);
    const ls = (sub: string): number => (existsSync(join(root, sub)) ? readdirSync(join(root, sub)).filter((n) => !n.endsWith('.tmp')).length : 0);
    // Every task there has a sandbox from its launch on, and a checkpoint once its instance runs: wait until all run.
    const until = Date.now() + ms;
    while (ls('tasks') === 0 || ls('tasks') !== ls('sandboxes')) {
      if (Date.now() > until) throw new Error(`agent-${i}: no running task in ${ms} ms (${ls('tasks')} of ${ls('sandboxes')})`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return ls('tasks');
  };


  beforeAll(async () => {
    dir = tempDir('isolab-cluster-');
    env = { ISOLAB_STATE_DIR: join(dir, 'state'), ISOLAB_TEST_EXECUTOR_DELAY_MS: String(DELAY_MS) };
    input = join(dir, 'corpus.txt');
    writeFileSync(input, generateCorpus({ bytes: 1_500_000, seed: 16 }));
    expected = sha(referenceCounts(input));
    ({ up, session } = await clusterUp(['--agents', '3', '--backends', 'process'], env));
    first = await status();
  }, 90_000);

  afterAll(async () => {
    if (up && up.child.exitCode === null) {
      up.child.kill('SIGTERM');
      await up.done;
    }
  }, 60_000);

  it('runs wordcount --parallelism 6 with the oracle\'s sha256, with tasks on all three agents (/state)', async () => {
    expect(first.state!.agents).toHaveLength(3);
    const r = await wordcount();
    expect(r.stderr).toBe('');
    expect(r.sha256).toBe(expected);
    const c = await status();
    const ids = new Set(c.state!.tasks.filter((t) => t.state === 'finished').map((t) => t.agent_id));
    expect([...ids].sort()).toEqual(c.state!.agents.map((a) => a.id).sort());
  }, 60_000);

  it('survives SIGKILL of one agent process and its executors mid-job: exact result', async () => {
    const job = wordcount();
    const a1 = agent(first, 1);
    const id = first.state!.agents.find((a) => a.hostname === 'host1')!.id;
    await checkpointsOn(1);
    const victims = [a1.pid, ...executorsOf(a1.session)];
    expect(victims.length).toBeGreaterThan(1);
    for (const p of victims) process.kill(p, 'SIGKILL');
    const r = await job;
    expect(r.code).toBe(0);
    expect(r.sha256).toBe(expected);
    expect(r.retries).toBeGreaterThan(0);
    // The supervisor started the agent again; it registered under the same id.
    const c = await waitState((s) => s.state!.agents.some((a) => a.id === id), 20_000);
    expect(c.state!.agents).toHaveLength(3);
  }, 90_000);

  it('cut link (ip link set … down) and restored: the agent is unreachable, then re-registers and its stale tasks are reconciled', async () => {
    const veth = first.record!.hosts[2] && readLinkOf(2);
    const id = first.state!.agents.find((a) => a.hostname === 'host2')!.id;
    const job = wordcount();
    await checkpointsOn(2);
    ip(['link', 'set', veth, 'down']);
    try {
      const cut = await waitState((c) => c.state!.unreachable_agents.some((u) => u.id === id), 20_000);
      const stale = cut.state!.tasks.filter((t) => t.agent_id === id && t.state === 'lost');
      expect(stale.length).toBeGreaterThan(0);
    } finally {
      ip(['link', 'set', veth, 'up']);
    }
    const r = await job;
    expect(r.code).toBe(0);
    expect(r.sha256).toBe(expected);
    expect(r.retries).toBeGreaterThan(0);
    const back = await waitState((c) => c.state!.agents.some((a) => a.id === id && a.reregistered_time !== undefined), 30_000);
    // Its stale tasks stay lost (the master told the agent to kill those still running); nothing runs there.
    const settled = await waitState((c) => c.state!.agents.find((a) => a.id === id)!.tasks === 0, 20_000);
    expect(settled.state!.tasks.filter((t) => t.agent_id === id && !['finished', 'lost', 'failed', 'killed'].includes(t.state))).toEqual([]);
    expect(back.state!.unreachable_agents).toEqual([]);
  }, 90_000);

  it('restarts an agent while its tasks run: it re-attaches to them (recovery), they finish there, no duplicate result is counted', async () => {
    const a3 = agent(await status(), 3);
    const id = first.state!.agents.find((a) => a.hostname === 'host3')!.id;
    const job = wordcount();
    const n = await checkpointsOn(3);
    const executors = executorsOf(a3.session);
    process.kill(a3.pid, 'SIGKILL'); // the agent process only: its executors run on, writing to files in their sandboxes
    const r = await job;
    expect(r.code).toBe(0);
    expect(r.sha256).toBe(expected);
    expect(r.retries).toBe(0);
    const c = await status();
    const last = `framework-${Math.max(...c.state!.tasks.map((t) => Number(t.framework_id.replace(/\D/g, ''))))}`;
    const onHost3 = c.state!.tasks.filter((t) => t.agent_id === id && t.framework_id === last);
    expect(onHost3.length).toBeGreaterThanOrEqual(n);
    expect(onHost3.every((t) => t.state === 'finished')).toBe(true);
    const log = readFileSync(join(dir, 'state', 'clusters', `isolab-${session}`, 'agent-3.log'), 'utf8');
    expect(log, log).toMatch(new RegExp(`; ${n} running task\\(s\\) to re-attach; 0 reported failed`));
    expect(executors.length).toBeGreaterThan(0);
    expect(executorsOf(a3.session)).toEqual([]);
  }, 90_000);

  it('retries a map task whose input fetch the server dropped (injected: ISOLAB_TEST_INPUT_FAULT=drop:2)', async () => {
    const r = await wordcount({ ISOLAB_TEST_INPUT_FAULT: 'drop:2' });
    expect(r.code).toBe(0);
    expect(r.sha256).toBe(expected);
    expect(r.retries).toBe(1);
    const c = await status();
    expect(c.state!.tasks.some((t) => t.state === 'failed' && /input fetch failed: bytes \d+-\d+ from the input server at .*: connection lost after/.test(t.message ?? ''))).toBe(true);
  }, 60_000);

  it('refuses an agent with a wrong secret (401); it never gets tasks', async () => {
    const bad = join(dir, 'bad-credentials.json');
    writeFileSync(bad, JSON.stringify({ credentials: [{ principal: 'isolab-cluster', secret: 'wrong' }] }), { mode: 0o600 });
    const r = await isolab([
      'cluster', 'exec', '--session', session, '--host', '1', '--', process.execPath, join(import.meta.dirname, '..', '..', 'bin', 'isolab'), 'agent',
      '--master', first.record!.masterUrl, '--credentials', bad, '--work-dir', join(dir, 'intruder'), '--hostname', 'intruder',
    ], env, 30_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/isolab: master refused the subscription: 401 wrong principal or secret/);
    const c = await status();
    expect(c.state!.agents.map((a) => a.hostname)).not.toContain('intruder');
    expect(c.state!.tasks.every((t) => c.state!.agents.some((a) => a.id === t.agent_id) || t.agent_id === '')).toBe(true);
  }, 60_000);

  it('cluster down removes every namespace, veth, bridge, process and file', async () => {
    const d = await isolab(['cluster', 'down', '--session', session], env, 60_000);
    expect(d.code).toBe(0);
    await up.done;
    const left = leftovers(session, env.ISOLAB_STATE_DIR!);
    expect(left).toEqual({ netns: [], links: [], pids: [], dir: false });
    expect(readdirSync(join(env.ISOLAB_STATE_DIR!, 'sessions')).filter((s) => s.startsWith(session.slice(0, 8)))).toEqual([]);
  }, 90_000);

  /** The host end of host i's veth, by its alias. */
  function readLinkOf(i: number): string {
    const links = JSON.parse(spawnSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' }).stdout) as { ifname: string; ifalias?: string }[];
    const l = links.find((x) => x.ifalias === `isolab:${session}:v${i}`);
    if (!l) throw new Error(`no veth of host ${i}`);
    return l.ifname;
  }
});

describe.skipIf(skipReason !== undefined)(`SIGINT during cluster up${skipReason ? ` (SKIPPED: ${skipReason})` : ''}`, () => {
  it('leaves no namespace, veth, bridge, process or file', async () => {
    const dir = tempDir('isolab-cluster-int-');
    const env = { ISOLAB_STATE_DIR: join(dir, 'state') };
    const up = startIsolab(['cluster', 'up', '--agents', '2'], env, 120_000);
    let session = '';
    const until = Date.now() + 30_000;
    while (!session && Date.now() < until) {
      session = /isolab: cluster ([0-9a-z]+): building/.exec(up.stderr())?.[1] ?? '';
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(session).not.toBe('');
    // Interrupt while it builds: as soon as its first namespace exists.
    while (!(existsSync('/run/netns') && readdirSync('/run/netns').some((n) => n.startsWith(`isolab-${session}-`))) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 10));
    }
    up.child.kill('SIGINT');
    const r = await up.done;
    expect(r.code).toBe(130);
    expect(leftovers(session, env.ISOLAB_STATE_DIR)).toEqual({ netns: [], links: [], pids: [], dir: false });
  }, 90_000);
});

describe.skipIf(skipReason !== undefined)(`a cluster whose "up" process was killed${skipReason ? ` (SKIPPED: ${skipReason})` : ''}`, () => {
  it('is listed by isolab reap and removed whole: namespaces, veths, bridge, master and agents, folder', async () => {
    const dir = tempDir('isolab-cluster-reap-');
    const env = { ISOLAB_STATE_DIR: join(dir, 'state') };
    const { up, session } = await clusterUp(['--agents', '1'], env);
    up.child.kill('SIGKILL');
    await up.done;
    expect(leftovers(session, env.ISOLAB_STATE_DIR).netns).toHaveLength(2);
    const dry = await isolab(['reap', '--dry-run', '--backend', 'cluster'], env, 60_000);
    expect(dry.stdout).toMatch(new RegExp(`cluster +cluster +2 namespace\\(s\\), 3 link\\(s\\), 2 process\\(es\\), its folder \\(${session}\\) +session ${session} +found`));
    const r = await isolab(['reap', '--backend', 'cluster,process,files'], env, 60_000);
    expect(r.code).toBe(0);
    expect(leftovers(session, env.ISOLAB_STATE_DIR)).toEqual({ netns: [], links: [], pids: [], dir: false });
  }, 90_000);
});

function ip(args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
}
