import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleRequest, startApiServer, type ApiServer } from '../../src/http/server.js';
import { masterState, metricsSnapshot, publicMessage } from '../../src/http/state.js';
import { FakeClock } from '../../src/master/clock.js';
import { Master } from '../../src/master/master.js';
import { MESOS_METRIC_NAMES } from '../../src/master/metrics.js';
import type { FrameworkDriver, Offer, Scheduler, TaskStatus } from '../../src/master/types.js';
import { writeCorpus } from '../../src/workload/corpus.js';
import { tempDir } from '../cli/helpers.js';
import { RecordingAgent as Agent } from './fakes.js';

/** Accepts the first offer with two tasks, then holds every later offer (so one stays outstanding). */
class Framework implements Scheduler {
  driver?: FrameworkDriver;
  offers: Offer[] = [];
  resourceOffers(d: FrameworkDriver, offers: Offer[]): void {
    this.driver = d;
    for (const o of offers) {
      this.offers.push(o);
      if (this.offers.length === 1) {
        d.accept(o.id, [
          { taskId: 't1', resources: { cpus: 1, mem: 256 }, backend: 'mock', payload: {} },
          { taskId: 't2', resources: { cpus: 1, mem: 256 }, backend: 'mock', payload: {} },
        ], { refuseSeconds: 0 });
      }
    }
  }
  statusUpdate(d: FrameworkDriver, s: TaskStatus): void {
    d.acknowledge(s);
  }
}

async function get(url: string, init?: RequestInit): Promise<{ status: number; body: any; headers: Headers }> {
  const r = await fetch(url, init);
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined, headers: r.headers };
}

/** Sends raw bytes and returns the status line and body of the answer. */
function raw(port: number, text: string): Promise<{ statusLine: string; body: string }> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', () => sock.write(text));
    let out = '';
    const done = (): void => {
      const [head, ...rest] = out.split('\r\n\r\n');
      resolve({ statusLine: (head ?? '').split('\r\n')[0] ?? '', body: rest.join('\r\n\r\n') });
    };
    sock.on('data', (d) => {
      out += d;
      if (/\r\n\r\n[\s\S]*\n$/.test(out)) sock.end();
    });
    sock.on('end', done);
    sock.on('close', done);
    sock.on('error', reject);
  });
}

describe('HTTP API against a running master', () => {
  let api: ApiServer;
  let master: Master;

  beforeAll(async () => {
    const clock = new FakeClock(1_000_000);
    master = new Master({ clock, eventAllocationDelayMs: null });
    master.registerAgent({ hostname: 'h1', resources: { cpus: 4, mem: 2048 }, backends: ['mock'] }, new Agent(), 'a1');
    master.registerFramework(new Framework(), { name: 'fw', id: 'f1', weight: 2 });
    master.start();
    clock.advance(1000); // offer 1 <4, 2048>: accepted with t1, t2 <1, 256> each
    const upd = (taskId: string, state: TaskStatus['state'], uuid: string, message?: string) =>
      master.statusUpdate({ taskId, frameworkId: 'f1', agentId: 'a1', state, uuid, timestamp: clock.now(), message });
    upd('t1', 'running', 'u1');
    upd('t2', 'running', 'u2');
    upd('t2', 'failed', 'u3', 'start failed: ENOENT /var/lib/isolab/secret/dir/file\nstderr: panic at /home/user/x');
    clock.advance(1000); // offer 2: the free <3 CPU, 1792 MB>, held outstanding
    api = await startApiServer(master, { port: 0 });
  });

  afterAll(async () => {
    await api?.close();
    master?.stop();
  });

  it('binds to 127.0.0.1 by default', () => {
    expect(api.host).toBe('127.0.0.1');
    expect(api.url).toBe(`http://127.0.0.1:${api.port}`);
  });

  it('GET /state lists agents, frameworks, tasks and outstanding offers in Mesos vocabulary; used excludes offers', async () => {
    const r = await get(`${api.url}/state`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/application\/json/);
    const s = r.body;
    expect(s.agents).toHaveLength(1);
    // a1 <4, 2048>: t1 uses <1, 256> (t2 failed and gave its share back); the offer holds <3, 1792>.
    expect(s.agents[0]).toMatchObject({
      id: 'a1', hostname: 'h1', resources: { cpus: 4, mem: 2048 }, used_resources: { cpus: 1, mem: 256 },
      offered_resources: { cpus: 3, mem: 1792 }, free_resources: { cpus: 0, mem: 0 }, tasks: 1,
    });
    expect(s.frameworks).toHaveLength(1);
    // f1 holds t1 <1, 256> + offer <3, 1792> = <4, 2048>: the whole agent, share 1; weighted 1 / 2.
    expect(s.frameworks[0]).toMatchObject({
      id: 'f1', name: 'fw', weight: 2, active: true, connected: true, dominant_share: 1, weighted_share: 0.5, offers: 1, tasks: 1,
      used_resources: { cpus: 1, mem: 256 }, offered_resources: { cpus: 3, mem: 1792 }, failover_timeout: 0,
      min_allocatable_resources: 'cpus:0.01|mem:32',
    });
    const byId = Object.fromEntries(s.tasks.map((t: { id: string }) => [t.id, t]));
    expect(byId.t1).toMatchObject({ state: 'running', agent_id: 'a1', framework_id: 'f1' });
    expect(byId.t2).toMatchObject({ state: 'failed' });
    expect(s.offers).toHaveLength(1);
    expect(s.offers[0]).toMatchObject({ framework_id: 'f1', agent_id: 'a1', resources: { cpus: 3, mem: 1792 } });
    expect(s).toMatchObject({ agents_total: 1, frameworks_total: 1, tasks_total: 2, offers_total: 1, truncated: false });
  });

  it('puts no host paths or executor output in API bodies (first line, paths hidden)', async () => {
    const r = await get(`${api.url}/tasks?state=failed`);
    const text = JSON.stringify(r.body);
    expect(r.body.tasks[0].message).toBe('start failed: ENOENT <path>');
    expect(text).not.toMatch(/var\/lib|home\/user|stderr|panic/);
    expect(publicMessage('executor exited with 1: /usr/bin/node: cannot open /tmp/x.js')).toBe('executor exited with 1');
    expect(publicMessage('start failed: spawn /opt/isolab/dist/executor/main.js EACCES')).toBe('start failed: spawn <path> EACCES');
  });

  it('serves /master/state and /master/metrics/snapshot as aliases', async () => {
    const a = await get(`${api.url}/master/state`);
    const b = await get(`${api.url}/state`);
    expect(a.status).toBe(200);
    expect(a.body).toEqual(b.body);
    const m = await get(`${api.url}/master/metrics/snapshot`);
    expect(m.status).toBe(200);
    expect(m.body['master/tasks_running']).toBe(1);
  });

  it('GET /metrics/snapshot: Mesos names; used counts tasks only; offered is separate; allocator metrics under allocator/mesos/', async () => {
    const r = await get(`${api.url}/metrics/snapshot`);
    expect(r.status).toBe(200);
    const m = r.body;
    for (const name of MESOS_METRIC_NAMES) expect(m, name).toHaveProperty([name]);
    expect(m['master/tasks_running']).toBe(1);
    expect(m['master/tasks_failed']).toBe(1);
    expect(m['master/tasks_finished']).toBe(0);
    expect(m['master/tasks_error']).toBe(0);
    expect(m['master/outstanding_offers']).toBe(1);
    expect(m['master/agents_active']).toBe(1);
    expect(m['master/frameworks_active']).toBe(1);
    expect(m['master/cpus_total']).toBe(4);
    expect(m['master/cpus_used']).toBe(1); // t1 only: the outstanding offer of 3 CPUs is not "used"
    expect(m['master/cpus_offered']).toBe(3);
    expect(m['master/cpus_percent']).toBe(0.25);
    expect(m['master/mem_used']).toBe(256);
    expect(m['allocator/mesos/resources/cpus/offered_or_allocated']).toBe(4);
    expect(m['allocator/mesos/allocation_runs']).toBe(2);
    expect(typeof m['allocator/mesos/allocation_run_ms']).toBe('number');
    expect(m['allocator/mesos/allocation_run_ms/count']).toBe(2);
    expect(m['master/valid_status_updates']).toBe(3);
    expect(m['master/valid_status_update_acknowledgements']).toBe(3);
    for (const v of Object.values(m)) expect(Number.isFinite(v)).toBe(true);
    expect(Object.keys(m).filter((k) => k.startsWith('allocator/') && !k.startsWith('allocator/mesos/'))).toEqual(['allocator/agents_free']);
    expect((await get(`${api.url}/metrics/snapshot?timeout=5secs`)).status).toBe(200);
  });

  it('master/frameworks_active counts suppressed frameworks too (they are still active in Mesos)', () => {
    const clock = new FakeClock();
    const m = new Master({ clock, eventAllocationDelayMs: null });
    const d = m.registerFramework(new Framework(), { name: 'x' });
    d.suppress();
    const s = metricsSnapshot(m);
    expect(s['master/frameworks_active']).toBe(1);
    expect(s['master/frameworks_suppressed']).toBe(1);
    expect(s['master/frameworks_connected']).toBe(1);
  });

  it('GET /tasks, /agents, /frameworks, /offers filter and page', async () => {
    const r = await get(`${api.url}/tasks?state=failed&limit=10`);
    expect(r.status).toBe(200);
    expect(r.body.total).toBe(1);
    expect(r.body.tasks[0].id).toBe('t2');
    const page2 = await get(`${api.url}/tasks?limit=1&offset=1`);
    expect(page2.body.total).toBe(2);
    expect(page2.body.tasks).toHaveLength(1);
    expect((await get(`${api.url}/agents`)).body).toMatchObject({ total: 1, agents: [{ id: 'a1' }] });
    expect((await get(`${api.url}/frameworks`)).body).toMatchObject({ total: 1, frameworks: [{ id: 'f1' }] });
    expect((await get(`${api.url}/offers?limit=5`)).body).toMatchObject({ total: 1, offers: [{ agent_id: 'a1' }] });
  });

  it('answers malformed requests with a JSON 4xx that echoes at most a short prefix, and keeps serving', async () => {
    const long = 'x'.repeat(5000);
    const cases: [string, RequestInit | undefined, number, RegExp][] = [
      ['/nope', undefined, 404, /no such endpoint "\/nope"/],
      ['/state', { method: 'POST', body: '{}' }, 405, /method POST not allowed/],
      ['/state', { method: 'DELETE' }, 405, /use GET/],
      ['/state?verbose=1', undefined, 400, /unsupported parameter "verbose"/],
      ['/health?x=1', undefined, 400, /unsupported parameter "x" for \/health \(it takes none\)/],
      ['/tasks?state=sleeping', undefined, 400, /state: expected one of/],
      ['/tasks?limit=-3', undefined, 400, /limit: expected an integer/],
      ['/tasks?limit=1&limit=2', undefined, 400, /given twice/],
      ['/state?limit=0', undefined, 400, /limit: expected an integer from 1/],
      ['/metrics/snapshot?timeout=soon', undefined, 400, /timeout/],
      [`/${long}`, undefined, 404, /no such endpoint/],
      [`/state?${long}=1`, undefined, 400, /unsupported parameter/],
      [`/tasks?state=${long}`, undefined, 400, /state: expected/],
    ];
    for (const [path, init, status, message] of cases) {
      const r = await get(`${api.url}${path}`, init);
      expect(r.status, path.slice(0, 40)).toBe(status);
      expect(r.body.error, path.slice(0, 40)).toMatch(message);
      expect(r.body.error.length, path.slice(0, 40)).toBeLessThan(400);
    }
    expect((await get(`${api.url}/state`, { method: 'POST' })).headers.get('allow')).toBe('GET, HEAD');
    expect((await raw(api.port, 'GARBAGE / HTTP/9\r\n\r\n')).statusLine).toMatch(/^HTTP\/1\.1 400/);
    expect((await get(`${api.url}/health`)).body).toEqual({ healthy: true });
  });

  it('refuses absolute-form and //host targets (400), HTTP/0.9 request lines (400) and oversized heads (431)', async () => {
    const absolute = await raw(api.port, `GET http://example.com/state HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    expect(absolute.statusLine).toMatch(/^HTTP\/1\.1 400/);
    expect(absolute.body).toMatch(/origin-form/);
    const doubleSlash = await raw(api.port, `GET //example.com/state HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    expect(doubleSlash.statusLine).toMatch(/^HTTP\/1\.1 400/);
    const http09 = await raw(api.port, 'GET /state\r\n\r\n');
    expect(http09.statusLine).toMatch(/^HTTP\/1\.1 400/);
    expect(http09.body).toMatch(/HTTP\/0\.9/);
    const big = await raw(api.port, `GET /state HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(big.statusLine).toMatch(/^HTTP\/1\.1 431/);
    const noHost = await raw(api.port, 'GET /state HTTP/1.1\r\nConnection: close\r\n\r\n');
    expect(noHost.statusLine).toMatch(/^HTTP\/1\.1 400/);
    expect((await get(`${api.url}/health`)).status).toBe(200);
  });

  it('bound to loopback, accepts only loopback Host headers (DNS rebinding)', async () => {
    for (const host of ['localhost', `localhost:${api.port}`, '127.0.0.1', `127.0.0.1:${api.port}`, '[::1]:5050']) {
      const r = await raw(api.port, `GET /health HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      expect(r.statusLine, host).toMatch(/^HTTP\/1\.1 200/);
    }
    for (const host of ['evil.example', `evil.example:${api.port}`, '127.0.0.1.evil.example', '10.0.0.1']) {
      const r = await raw(api.port, `GET /state HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      expect(r.statusLine, host).toMatch(/^HTTP\/1\.1 403/);
      expect(JSON.parse(r.body).error).toMatch(/Host header must name a loopback address/);
    }
  });

  it('bound elsewhere, accepts other Host headers (unit: the policy the server derives from its bind address)', () => {
    const res = { status: 0, body: '', writeHead(s: number) { this.status = s; }, end(b?: string) { this.body = b ?? ''; } };
    const req = { url: '/health', method: 'GET', headers: { host: 'cluster-master.example:5050' } };
    handleRequest(master, req as never, res as never, { loopbackHostOnly: false });
    expect(res.status).toBe(200);
    handleRequest(master, req as never, res as never, { loopbackHostOnly: true });
    expect(res.status).toBe(403);
  });

  it('logs internal errors instead of putting them in the body', () => {
    const lines: string[] = [];
    const broken = { ...master, clock: undefined } as unknown as Master;
    const res = { status: 0, body: '', writeHead(s: number) { this.status = s; }, end(b?: string) { this.body = b ?? ''; } };
    handleRequest(broken, { url: '/state', method: 'GET', headers: { host: 'localhost' } } as never, res as never, { loopbackHostOnly: true, log: (l) => lines.push(l) });
    expect(res.status).toBe(500);
    expect(JSON.parse(res.body)).toEqual({ error: 'internal error (see the master log)' });
    expect(lines.join('\n')).toMatch(/isolab: api: GET \/state/);
  });
});

describe('/state is bounded for large task tables', () => {
  it('40,000 tasks: /state holds 100 of each list and the totals; /tasks pages through the rest', () => {
    const clock = new FakeClock();
    const m = new Master({ clock, eventAllocationDelayMs: null, agentPingTimeoutMs: null, statusUpdateRetryMs: null });
    for (let i = 0; i < 5000; i++) m.registerAgent({ hostname: `h${i}`, resources: { cpus: 8, mem: 16384 }, backends: ['mock'] }, new Agent(), `a${i}`);
    m.start();
    let k = 0;
    m.registerFramework({
      resourceOffers: (d, offers) => {
        for (const o of offers) d.accept(o.id, Array.from({ length: 8 }, () => ({ taskId: `t${k++}`, resources: { cpus: 1, mem: 1024 }, backend: 'mock', payload: 0 })));
      },
      statusUpdate: () => {},
    }, { name: 'f' });
    clock.advance(1000);
    expect(k).toBe(40_000);
    const s = masterState(m);
    expect(s).toMatchObject({ tasks_total: 40_000, agents_total: 5000, truncated: true, limit: 100 });
    expect(s.tasks).toHaveLength(100);
    expect(s.agents).toHaveLength(100);
    expect(JSON.stringify(s).length).toBeLessThan(200_000);
    m.stop();
  });
});

describe('isolab master (CLI)', () => {
  const bin = join(import.meta.dirname, '../../bin/isolab');

  function startMaster(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; url: string; err: () => string }> {
    const child = spawn(process.execPath, [bin, 'master', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    return new Promise((resolve, reject) => {
      child.stdout!.on('data', (d) => {
        out += d;
        const m = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) resolve({ child, url: m[1]!, err: () => err });
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
    });
  }

  const stop = (child: ChildProcess): Promise<number | null> =>
    new Promise((resolve) => {
      child.on('exit', (c) => resolve(c));
      child.kill('SIGINT');
    });

  it('refuses to listen beyond loopback without credentials: exit 2, one line', async () => {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(process.execPath, [bin, 'master', '--port', '0', '--agents', '0', '--host', '0.0.0.0'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('isolab: --host 0.0.0.0: listening beyond loopback needs --credentials FILE (every request then authenticates with HTTP Basic)\n');
    await expect(startApiServer(new Master({ agentPingTimeoutMs: null }), { host: '0.0.0.0', port: 0 })).rejects.toThrow(/without credentials/);
  });

  it('serves the API on a free port and exits 0 on SIGINT (no agents)', async () => {
    const { child, url, err } = await startMaster(['--agents', '0']);
    const s = await get(`${url}/state`);
    expect(s.status).toBe(200);
    expect(s.body.agents).toEqual([]);
    const m = await get(`${url}/metrics/snapshot`);
    expect(m.body['master/agents_active']).toBe(0);
    expect(await stop(child)).toBe(0);
    expect(err()).toBe('isolab: stopping master\n');
  });

  it('with 2 agents on the process backend runs demo tasks as real executor processes, and removes them on SIGINT', async () => {
    const sessionId = `h1m${process.pid}`;
    const { child, url, err } = await startMaster(['--agents', '2', '--resources', 'cpus:1;mem:512', '--backend', 'process', '--demo-tasks', '3'], { ISOLAB_SESSION: sessionId });
    // Each demo task is <0.1 CPU, 32 MB>; 3 of them run, on one or both agents, as idle executors.
    let state: any;
    for (let i = 0; i < 400; i++) {
      state = (await get(`${url}/state`)).body;
      if (state.tasks.filter((t: { state: string }) => t.state === 'running').length === 3) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(state.agents.map((a: { backends: string[] }) => a.backends)).toEqual([['process'], ['process']]);
    expect(state.frameworks.map((f: { name: string }) => f.name)).toEqual(['demo']);
    expect(state.tasks.map((t: { state: string; backend: string }) => [t.state, t.backend])).toEqual([
      ['running', 'process'], ['running', 'process'], ['running', 'process'],
    ]);
    const m = (await get(`${url}/metrics/snapshot`)).body;
    expect(m['master/tasks_running']).toBe(3);
    expect(m['master/cpus_used']).toBeCloseTo(0.3, 6);
    expect(m['master/mem_used']).toBe(96);
    expect(ownedBy(sessionId).length).toBeGreaterThanOrEqual(3); // the executor processes exist
    expect(await stop(child)).toBe(0);
    expect(err()).toBe('isolab: stopping master\n');
    expect(ownedBy(sessionId)).toEqual([]); // and are gone
  });
});

/** Live processes that carry an isolab session in their environment. */
function ownedBy(sessionId: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readFileSync(`/proc/${e}/environ`, 'latin1').includes(`ISOLAB_OWNER_SESSION=${sessionId}\0`)) out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out;
}

describe('isolab wordcount --http (CLI, process backend)', () => {
  const dir = tempDir('isolab-http-');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('serves /state and /metrics/snapshot of the running job, then closes the port', async () => {
    const input = join(dir, 'corpus.txt');
    await writeCorpus(input, { bytes: 24_000_000, seed: 9 });
    const bin = join(import.meta.dirname, '../../bin/isolab');
    // One CPU for four 1-CPU map tasks: they run one after another, so the job takes a while.
    const child = spawn(process.execPath, [bin, 'wordcount', '--input', input, '--parallelism', '4', '--resources', 'cpus:1;mem:2048', '--task-resources', 'cpus:1;mem:256', '--http', '0', '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    let ended = false;
    void exited.then(() => (ended = true));
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (d) => {
        err += d;
        const m = /master API on (http:\/\/127\.0\.0\.1:\d+)/.exec(err);
        if (m) resolve(m[1]!);
      });
      void exited.then((c) => reject(new Error(`exited ${c} before serving: ${err}`)));
    });
    // Read the API while the job runs: every snapshot is of the job's master, in order.
    const seen: { running: number; finished: number; launched: number }[] = [];
    let state: any;
    while (!ended) {
      try {
        const m = (await get(`${url}/metrics/snapshot`)).body;
        seen.push({ running: m['master/tasks_running'], finished: m['master/tasks_finished'], launched: m['master/tasks_launched'] });
        state ??= (await get(`${url}/state`)).body;
      } catch {
        break; // the job ended and closed the port
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(await exited).toBe(0);
    const result = JSON.parse(out);
    expect(result.backend).toBe('process');
    expect(result.parallelism).toBe(4);
    expect(seen.length).toBeGreaterThan(0);
    expect(state.frameworks.map((f: { name: string }) => f.name)).toEqual(['wordcount']);
    expect(state.agents).toHaveLength(1);
    expect(state.agents[0].backends).toEqual(['process']);
    expect(seen.some((s) => s.running === 1)).toBe(true); // a map task was seen running (one at a time: 1 CPU)
    expect(seen.every((s) => s.running <= 1)).toBe(true);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.finished).toBeGreaterThanOrEqual(seen[i - 1]!.finished); // counts only grow
    await expect(fetch(`${url}/state`)).rejects.toThrow();
  });
});
