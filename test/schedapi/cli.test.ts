import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ownedPids } from '../../src/backends/process/process-backend.js';
import { sha256Hex } from '../../src/workload/counts.js';
import { generateCorpus } from '../../src/workload/corpus.js';
import { cleanEnv, ISOLAB, referenceCounts, ROOT, startIsolab } from '../cli/helpers.js';

/** A running `isolab master`. */
interface RunningMaster {
  child: ChildProcess;
  url: string;
  stdout: () => string;
  stderr: () => string;
}

const masters: ChildProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), 'isolab-test-schedapi-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function startMaster(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunningMaster> {
  const child = spawn(ISOLAB, ['master', '--port', '0', ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  masters.push(child);
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve({ child, url: m[1]!, stdout: () => out, stderr: () => err });
    });
    child.on('exit', (code) => reject(new Error(`isolab master exited ${code}: ${err}`)));
  });
}

function stopMaster(m: RunningMaster): Promise<number | null> {
  return new Promise((resolve) => {
    if (m.child.exitCode !== null) return resolve(m.child.exitCode);
    m.child.once('exit', (c) => resolve(c));
    m.child.kill('SIGINT');
  });
}

afterEach(async () => {
  for (const c of masters.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGINT');
      await exited;
    }
  }
});

const state = async (url: string, headers: Record<string, string> = {}): Promise<any> => (await fetch(`${url}/state`, { headers })).json();
const waitFor = async (cond: () => Promise<boolean>, ms: number): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
};

/** The npm package used as its users use it: `require("mesos-framework")`, from a working directory with a logs/ folder. */
const NPM_SCHEDULER = `"use strict";
const { Scheduler, Mesos } = require("mesos-framework");
const mesos = Mesos.getMesos();
const log = (o) => process.stdout.write(JSON.stringify(o) + "\\n");
const scheduler = new Scheduler({
  masterUrl: "127.0.0.1", port: Number(process.env.MASTER_PORT), frameworkName: "npm-echo",
  logging: { level: "error" },
  tasks: {
    onProcess: { priority: 1, instances: 1, resources: { cpus: 0.1, mem: 64, ports: 0, disk: 0 },
      commandInfo: new mesos.CommandInfo(null, null, true, "echo hello from the process backend", null, null),
      containerInfo: new mesos.ContainerInfo(mesos.ContainerInfo.Type.MESOS) },
    inDocker: { priority: 2, instances: 1, resources: { cpus: 0.1, mem: 64, ports: 0, disk: 0 },
      commandInfo: new mesos.CommandInfo(null, null, true, "echo hello from the docker backend", null, null),
      containerInfo: new mesos.ContainerInfo(mesos.ContainerInfo.Type.DOCKER, null, null, new mesos.ContainerInfo.DockerInfo("isolab-guest")) },
  },
});
const finished = new Set();
let acks = 0;
let uuids = 0;
let done = false;
scheduler.on("subscribed", (x) => log({ e: "subscribed", frameworkId: x.frameworkId }));
scheduler.on("offers", (x) => log({ e: "offers", n: x.offers.length, ip: x.offers[0].url.address.ip }));
scheduler.on("update", (x) => {
  const s = x.status;
  if (s.uuid) uuids++;
  log({ e: "update", task: s.task_id.value, state: s.state, message: s.message || null, uuid: Boolean(s.uuid) });
  if (s.state === "TASK_FINISHED") finished.add(s.task_id.value);
});
scheduler.on("sent_acknowledge", () => {
  acks++;
  if (!done && finished.size === 2 && acks === uuids) {
    done = true;
    log({ e: "acknowledged", acks });
    scheduler.on("sent_teardown", () => { log({ e: "torn down" }); process.exit(0); });
    scheduler.teardown();
  }
});
scheduler.on("error", (x) => log({ e: "error", message: x && x.message ? x.message : String(x) }));
scheduler.on("ready", () => scheduler.subscribe());
setTimeout(() => { log({ e: "timeout" }); process.exit(3); }, 90000);
`;

describe('npm mesos-framework 0.5.3 (unpatched) against isolab master', () => {
  it('subscribes, gets offers, runs an echo command task on the process and the docker backends: TASK_RUNNING and TASK_FINISHED for both, acknowledged', async () => {
    const m = await startMaster(['--backend', 'process,docker', '--resources', 'cpus:2;mem:2048']);
    const work = join(dir, 'npm-client');
    mkdirSync(join(work, 'logs'), { recursive: true });
    writeFileSync(join(work, 'scheduler.cjs'), NPM_SCHEDULER);
    const r = spawnSync(process.execPath, ['scheduler.cjs'], {
      cwd: work, encoding: 'utf8', timeout: 120_000,
      env: cleanEnv({ NODE_PATH: join(ROOT, 'node_modules'), MASTER_PORT: new URL(m.url).port }),
    });
    const events = r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    // The only error allowed is after TEARDOWN: the master ends the stream, which the client reports as an error.
    const tornDownAt = events.findIndex((e) => e.e === 'acknowledged');
    expect(events.slice(0, tornDownAt).filter((e) => e.e === 'error')).toEqual([]);
    expect(events.slice(tornDownAt).filter((e) => e.e === 'error' && e.message !== 'Long-running connection was closed!')).toEqual([]);
    expect(events[0]).toMatchObject({ e: 'subscribed' });
    expect(events.find((e) => e.e === 'offers')).toMatchObject({ ip: '127.0.0.1' });
    const updates = events.filter((e) => e.e === 'update');
    const tasks = [...new Set(updates.map((u) => u.task as string))];
    expect(tasks).toHaveLength(2);
    for (const t of tasks) {
      const states = updates.filter((u) => u.task === t).map((u) => u.state);
      expect(states, t).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
      expect(updates.find((u) => u.task === t && u.state === 'TASK_FINISHED').message, JSON.stringify(updates)).toBe('Command exited with status 0');
      expect(updates.filter((u) => u.task === t).every((u) => u.uuid)).toBe(true);
    }
    expect(events.find((e) => e.e === 'acknowledged')).toEqual({ e: 'acknowledged', acks: 6 });
    expect(events.at(-1)).toEqual({ e: 'torn down' });
    // The master saw it the same way: each task on its backend, finished, every update acknowledged.
    const s = await state(m.url);
    const byName = Object.fromEntries(s.tasks.map((t: any) => [t.name, t]));
    expect(byName['onProcess-1']).toMatchObject({ backend: 'process', state: 'finished' });
    expect(byName['inDocker-1']).toMatchObject({ backend: 'docker', state: 'finished' });
    const metrics = await (await fetch(`${m.url}/metrics/snapshot`)).json();
    expect(metrics['master/valid_status_update_acknowledgements']).toBe(6);
    expect(metrics['master/status_updates_unacknowledged']).toBe(0);
    expect(s.completed_frameworks.map((f: any) => f.name)).toEqual(['npm-echo']);
    expect(await stopMaster(m)).toBe(0);
  }, 150_000);
});

describe('isolab wordcount --master (the same framework, over HTTP)', () => {
  let input: string;
  let expected: Buffer;
  beforeAll(() => {
    input = join(dir, 'corpus.txt');
    writeFileSync(input, generateCorpus({ bytes: 2_000_000, seed: 11 }));
    expected = referenceCounts(input);
  });

  it('--parallelism 3 --json against a separately started isolab master gives the oracle\'s sha256', async () => {
    const m = await startMaster(['--resources', 'cpus:4;mem:4096']);
    const out = join(dir, 'counts.tsv');
    const r = await startIsolab(['wordcount', '--master', m.url, '--input', input, '--parallelism', '3', '--json', '--output', out]).done;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ sha256: sha256Hex(expected), backend: 'process', parallelism: 3, attempts: 3, retries: 0 });
    expect(readFileSync(out).equals(expected)).toBe(true);
    const s = await state(m.url);
    expect(s.tasks.map((t: any) => [t.id, t.state, t.backend]).sort()).toEqual([['map-0-1', 'finished', 'process'], ['map-1-1', 'finished', 'process'], ['map-2-1', 'finished', 'process']]);
    expect(s.frameworks).toEqual([]);
    expect(s.completed_frameworks.map((f: any) => f.name)).toEqual(['wordcount']);
  }, 120_000);

  it('killing the wordcount process mid-job (SIGKILL): its tasks run on until the failover timeout (3 s), then none is left', async () => {
    const session = `h5kill${Date.now().toString(36)}`;
    const stall = [0, 1, 2].map((i) => `stall@map-${i}-1`).join(',');
    const m = await startMaster(['--resources', 'cpus:4;mem:4096'], { ISOLAB_SESSION: session, ISOLAB_TEST_EXECUTOR_FAULT: stall });
    const wc = startIsolab(['wordcount', '--master', m.url, '--input', input, '-p', '3', '--failover-timeout', '3', '--task-resources', 'cpus:1;mem:256']);
    await waitFor(async () => (await state(m.url)).tasks.filter((t: any) => t.state === 'running').length === 3, 60_000);
    expect(ownedPids().filter((p) => p.session === session).length).toBeGreaterThanOrEqual(3);
    const killedAt = Date.now();
    wc.child.kill('SIGKILL');
    await wc.done;
    await waitFor(async () => (await state(m.url)).frameworks[0]?.connected === false, 5000);
    const during = await state(m.url);
    expect(during.tasks.map((t: any) => t.state)).toEqual(['running', 'running', 'running']);
    await waitFor(async () => (await state(m.url)).tasks.every((t: any) => t.state === "killed"), 15_000);
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(2900);
    const after = await state(m.url);
    expect(after.frameworks).toEqual([]);
    expect(after.completed_frameworks.map((f: any) => f.name)).toEqual(['wordcount']);
    expect(after.tasks.map((t: any) => t.reason)).toEqual(['framework_removed', 'framework_removed', 'framework_removed']);
    await waitFor(async () => ownedPids().filter((p) => p.session === session).length === 0, 10_000);
    expect(await stopMaster(m)).toBe(0);
  }, 120_000);

  it('Ctrl-C of the wordcount process tears its framework down at once (no failover wait)', async () => {
    const session = `h5int${Date.now().toString(36)}`;
    const m = await startMaster(['--resources', 'cpus:4;mem:4096'], { ISOLAB_SESSION: session, ISOLAB_TEST_EXECUTOR_FAULT: 'stall@map-0-1' });
    const wc = startIsolab(['wordcount', '--master', m.url, '--input', input, '-p', '1', '--failover-timeout', '600']);
    await waitFor(async () => (await state(m.url)).tasks.some((t: any) => t.state === 'running'), 60_000);
    wc.child.kill('SIGINT');
    const r = await wc.done;
    expect(r.code).toBe(130);
    const s = await state(m.url);
    expect(s.frameworks).toEqual([]);
    expect(s.tasks.map((t: any) => [t.state, t.reason])).toEqual([['killed', 'framework_removed']]);
    await waitFor(async () => ownedPids().filter((p) => p.session === session).length === 0, 10_000);
  }, 120_000);

  it('an unreachable master, a bad URL, flags of the embedded master: one line each', async () => {
    let r = await startIsolab(['wordcount', '--master', 'http://127.0.0.1:1', '--input', input]).done;
    expect([r.code, r.stderr]).toEqual([1, 'isolab: wordcount failed: cannot reach the master at http://127.0.0.1:1: ECONNREFUSED\n']);
    r = await startIsolab(['wordcount', '--master', 'https://127.0.0.1:1', '--input', input]).done;
    expect([r.code, r.stderr]).toEqual([2, 'isolab: --master: master URL https://127.0.0.1:1: only http:// is supported\n']);
    r = await startIsolab(['wordcount', '--master', 'http://127.0.0.1:1', '--input', input, '--resources', 'cpus:1;mem:1']).done;
    expect([r.code, r.stderr]).toEqual([2, 'isolab: --resources applies to the embedded master; with --master the master\'s agents have their own\n']);
    r = await startIsolab(['wordcount', '--input', input, '--credentials', 'x']).done;
    expect([r.code, r.stderr]).toEqual([2, 'isolab: --credentials needs --master URL\n']);
  });
});

describe('isolab master with credentials', () => {
  const creds = (mode: number, principal = 'wordcount', secret = 's3cret'): string => {
    const p = join(dir, `creds-${mode.toString(8)}-${secret}.json`);
    writeFileSync(p, JSON.stringify({ credentials: [{ principal, secret }] }));
    chmodSync(p, mode);
    return p;
  };

  it('refuses a non-loopback --host without --credentials, before binding: exit 2, one line', () => {
    for (const host of ['0.0.0.0', '192.0.2.1', '::']) {
      const r = spawnSync(ISOLAB, ['master', '--port', '0', '--agents', '0', '--host', host], { encoding: 'utf8', env: cleanEnv() });
      expect(r.status).toBe(2);
      expect(r.stderr).toBe(`isolab: --host ${host}: listening beyond loopback needs --credentials FILE (every request then authenticates with HTTP Basic)\n`);
    }
  });

  it('refuses a credentials file others can read: exit 2, one line', () => {
    const r = spawnSync(ISOLAB, ['master', '--port', '0', '--agents', '0', '--credentials', creds(0o644)], { encoding: 'utf8', env: cleanEnv() });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^isolab: --credentials .*: mode 0644 lets other users read it; run chmod 600 .*\n$/);
  });

  it('wordcount --master with the right secret counts; without it or with a wrong one it gets 401 and registers nothing', async () => {
    const m = await startMaster(['--resources', 'cpus:2;mem:2048', '--credentials', creds(0o600)]);
    expect(m.stdout()).toMatch(/1 principal \(HTTP Basic required\)/);
    const input = join(dir, 'small.txt');
    writeFileSync(input, 'a b a\nc\n');
    let r = await startIsolab(['wordcount', '--master', m.url, '--input', input]).done;
    expect([r.code, r.stderr]).toEqual([1, `isolab: wordcount failed: ${m.url} refused the framework: 401 authentication required (HTTP Basic)\n`]);
    r = await startIsolab(['wordcount', '--master', m.url, '--input', input, '--credentials', creds(0o600, 'wordcount', 'wrong')]).done;
    expect([r.code, r.stderr]).toEqual([1, `isolab: wordcount failed: ${m.url} refused the framework: 401 wrong principal or secret\n`]);
    const auth = { Authorization: `Basic ${Buffer.from('wordcount:s3cret').toString('base64')}` };
    expect((await fetch(`${m.url}/state`)).status).toBe(401);
    expect((await state(m.url, auth)).completed_frameworks).toEqual([]);
    r = await startIsolab(['wordcount', '--master', m.url, '--input', input, '--credentials', creds(0o600), '--json']).done;
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ words: 4, distinct: 3 });
    expect((await state(m.url, auth)).completed_frameworks.map((f: any) => f.name)).toEqual(['wordcount']);
  }, 60_000);
});
