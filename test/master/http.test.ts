import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '../../src/http/server.js';
import { FakeClock } from '../../src/master/clock.js';
import { Master } from '../../src/master/master.js';
import type { AgentDriver, FrameworkDriver, LaunchedTask, Offer, Scheduler, TaskStatus } from '../../src/master/types.js';

class Agent implements AgentDriver {
  launched: LaunchedTask[] = [];
  launch(t: LaunchedTask): void {
    this.launched.push(t);
  }
  kill(): void {}
}

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

describe('HTTP API against a running master', () => {
  let api: ApiServer;
  let master: Master;

  beforeAll(async () => {
    const clock = new FakeClock(1_000_000);
    master = new Master({ clock, eventAllocationDelayMs: null });
    const agent = new Agent();
    master.registerAgent({ hostname: 'h1', resources: { cpus: 4, mem: 2048 }, backends: ['mock'] }, agent, 'a1');
    master.registerFramework(new Framework(), { name: 'fw', id: 'f1', weight: 2 });
    master.start();
    clock.advance(1000); // offer 1: accepted with t1, t2
    const upd = (taskId: string, state: TaskStatus['state'], uuid: string) =>
      master.statusUpdate({ taskId, frameworkId: 'f1', agentId: 'a1', state, uuid, timestamp: clock.now(), message: state === 'failed' ? 'boom' : undefined });
    upd('t1', 'running', 'u1');
    upd('t2', 'running', 'u2');
    upd('t2', 'failed', 'u3');
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

  it('GET /state lists agents, frameworks, tasks and outstanding offers', async () => {
    const r = await get(`${api.url}/state`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/application\/json/);
    const s = r.body;
    expect(s.agents).toHaveLength(1);
    expect(s.agents[0]).toMatchObject({ id: 'a1', hostname: 'h1', resources: { cpus: 4, mem: 2048 }, free: { cpus: 0, mem: 0 }, tasks: 1 });
    expect(s.frameworks).toHaveLength(1);
    // f1 holds t1 <1, 256> + offer <3, 1792> = <4, 2048>: the whole agent, share 1; weighted 1 / 2.
    expect(s.frameworks[0]).toMatchObject({ id: 'f1', name: 'fw', weight: 2, dominantShare: 1, weightedShare: 0.5, offers: 1, tasks: 1 });
    const byId = Object.fromEntries(s.tasks.map((t: { id: string }) => [t.id, t]));
    expect(byId.t1).toMatchObject({ state: 'running', agentId: 'a1', frameworkId: 'f1' });
    expect(byId.t2).toMatchObject({ state: 'failed', message: 'boom' });
    expect(s.offers).toHaveLength(1);
    expect(s.offers[0]).toMatchObject({ frameworkId: 'f1', agentId: 'a1', resources: { cpus: 3, mem: 1792 } });
  });

  it('GET /metrics/snapshot has Mesos-like names', async () => {
    const r = await get(`${api.url}/metrics/snapshot`);
    expect(r.status).toBe(200);
    const m = r.body;
    expect(m['master/tasks_running']).toBe(1);
    expect(m['master/tasks_failed']).toBe(1);
    expect(m['master/tasks_finished']).toBe(0);
    expect(m['master/tasks_lost']).toBe(0);
    expect(m['master/outstanding_offers']).toBe(1);
    expect(m['master/agents_active']).toBe(1);
    expect(m['master/frameworks_active']).toBe(1);
    expect(m['master/cpus_total']).toBe(4);
    expect(m['allocator/allocation_runs']).toBe(2);
    expect(typeof m['allocator/allocation_run_ms']).toBe('number');
    expect(m['allocator/allocation_run_ms/count']).toBe(2);
    for (const v of Object.values(m)) expect(Number.isFinite(v)).toBe(true);
    expect((await get(`${api.url}/metrics/snapshot?timeout=5secs`)).status).toBe(200);
  });

  it('GET /tasks filters and pages', async () => {
    const r = await get(`${api.url}/tasks?state=failed&limit=10`);
    expect(r.status).toBe(200);
    expect(r.body.total).toBe(1);
    expect(r.body.tasks[0].id).toBe('t2');
  });

  it('answers malformed requests with a JSON 4xx and keeps serving', async () => {
    const cases: [string, RequestInit | undefined, number, RegExp][] = [
      ['/nope', undefined, 404, /no such endpoint "\/nope"/],
      ['/state', { method: 'POST', body: '{}' }, 405, /method POST not allowed/],
      ['/state', { method: 'DELETE' }, 405, /use GET/],
      ['/state?verbose=1', undefined, 400, /unknown parameter "verbose"/],
      ['/tasks?state=sleeping', undefined, 400, /state: expected one of/],
      ['/tasks?limit=-3', undefined, 400, /limit: expected an integer/],
      ['/tasks?limit=1&limit=2', undefined, 400, /given twice/],
      ['/metrics/snapshot?timeout=soon', undefined, 400, /timeout/],
    ];
    for (const [path, init, status, message] of cases) {
      const r = await get(`${api.url}${path}`, init);
      expect(r.status, path).toBe(status);
      expect(r.body.error, path).toMatch(message);
    }
    expect((await get(`${api.url}/state`, { method: 'POST' })).headers.get('allow')).toBe('GET, HEAD');
    const raw = await new Promise<string>((resolve, reject) => {
      const sock = connect(api.port, '127.0.0.1', () => sock.write('GARBAGE / HTTP/9\r\n\r\n'));
      let out = '';
      sock.on('data', (d) => (out += d));
      sock.on('end', () => resolve(out));
      sock.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400/);
    expect((await get(`${api.url}/health`)).body).toEqual({ healthy: true });
  });
});

describe('isolab master (CLI)', () => {
  it('serves the API on a free port and exits 0 on SIGINT', async () => {
    const bin = join(import.meta.dirname, '../../bin/isolab');
    const child = spawn(process.execPath, [bin, 'master', '--port', '0', '--agents', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        out += d;
        const m = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
    });
    const s = await get(`${url}/state`);
    expect(s.status).toBe(200);
    expect(s.body.agents).toEqual([]);
    const m = await get(`${url}/metrics/snapshot`);
    expect(m.body['master/agents_active']).toBe(0);
    const code = await new Promise<number | null>((resolve) => {
      child.on('exit', (c) => resolve(c));
      child.kill('SIGINT');
    });
    expect(code).toBe(0);
    expect(err).toBe('isolab: stopping master\n');
  });
});

describe('runWordcountJob with http (the embedded master serves the API)', () => {
  it('serves /state and /metrics/snapshot while the job runs, and closes the port after', async () => {
    const { runWordcountJob } = await import('../../src/frameworks/wordcount/run-job.js');
    const { MockBackend } = await import('../support/mock-backend.js');
    const { encodeMessage } = await import('../../src/executor/protocol.js');
    const { encodeCounts } = await import('../../src/workload/counts.js');
    const backend = new MockBackend({
      runMs: 400,
      output: (spec) => [
        encodeMessage({ type: 'result', taskId: spec.taskId, words: 1, distinct: 1, bytes: 1, countMs: 0, counts: encodeCounts(new Map([['w', 1]])) }),
      ],
    });
    let seen: Promise<[any, any]> | undefined;
    let base = '';
    const r = await runWordcountJob({
      input: '/dev/null', size: 100, parallelism: 2, backend, taskResources: { cpus: 1, mem: 64 }, agentResources: { cpus: 2, mem: 512 },
      http: { port: 0 },
      onHttp: (url) => {
        base = url;
        // The job's tasks run 400 ms; ask half-way through.
        seen = new Promise((resolve) => setTimeout(resolve, 200)).then(() => Promise.all([get(`${url}/state`), get(`${url}/metrics/snapshot`)]));
      },
    });
    expect(r.counts.get('w')).toBe(2);
    const [state, metrics] = await seen!;
    expect(state.body.frameworks.map((f: { name: string }) => f.name)).toEqual(['wordcount']);
    expect(state.body.agents).toHaveLength(1);
    expect(metrics.body['master/tasks_running']).toBe(2);
    await expect(fetch(`${base}/state`)).rejects.toThrow();
  });
});
