import { request } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DOCKER_DESCRIPTOR } from '../../src/backends/docker/descriptor.js';
import { PROCESS_DESCRIPTOR } from '../../src/backends/process/descriptor.js';
import { startApiServer, type ApiServer } from '../../src/http/server.js';
import { FakeClock } from '../../src/master/clock.js';
import { Master } from '../../src/master/master.js';
import type { LaunchedTask } from '../../src/master/types.js';
import { RecordingAgent } from '../master/fakes.js';
import { call, pause, subscribe, subscribeBody, until, type Obj, type Stream } from './helpers.js';

const DESCRIPTORS = { process: PROCESS_DESCRIPTOR, docker: DOCKER_DESCRIPTOR } as const;

let clock: FakeClock;
let master: Master;
let agent: RecordingAgent;
let api: ApiServer;
let open: Stream[];

async function setup(opts: Parameters<typeof startApiServer>[1] = {}): Promise<void> {
  clock = new FakeClock(1_000_000);
  master = new Master({ clock, agentPingTimeoutMs: null, statusUpdateRetryMs: 10_000 });
  agent = new RecordingAgent();
  master.registerAgent({ hostname: 'host-a', resources: { cpus: 4, mem: 4096 }, backends: ['process', 'docker'] }, agent, 'agent-1');
  master.start();
  api = await startApiServer(master, { port: 0, scheduler: { heartbeatSeconds: 5, describe: (n) => DESCRIPTORS[n as keyof typeof DESCRIPTORS] }, ...opts });
  open = [];
}

/** Subscribes and lets the master make its first offers (events on the fake clock). */
async function subscribed(name = 'fw', extra: Obj = {}, id?: string): Promise<{ s: Stream; fid: string; offer: Obj }> {
  const s = await subscribe(api.url, subscribeBody(name, extra, id));
  open.push(s);
  expect(s.status).toBe(200);
  const sub = await s.next('SUBSCRIBED');
  clock.advance(0);
  const offers = await s.next('OFFERS');
  return { s, fid: sub.subscribed.framework_id.value, offer: offers.offers.offers[0] };
}

const cmdTask = (id: string, extra: Obj = {}): Obj => ({
  name: id, task_id: { value: id }, agent_id: { value: 'agent-1' },
  resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 } }, { name: 'mem', type: 'SCALAR', scalar: { value: 128 } }],
  command: { value: `echo ${id}` }, ...extra,
});
const accept = (fid: string, offerId: string, tasks: Obj[], filters?: Obj): Obj => ({
  framework_id: { value: fid }, type: 'ACCEPT',
  accept: { offer_ids: [{ value: offerId }], operations: [{ type: 'LAUNCH', launch: { task_infos: tasks } }], ...(filters ? { filters } : {}) },
});
const agentSays = (t: LaunchedTask, state: 'running' | 'finished'): void =>
  master.statusUpdate({ taskId: t.taskId, frameworkId: t.frameworkId, agentId: 'agent-1', state, uuid: `${t.taskId}-${state}`, timestamp: clock.now(), message: state === 'finished' ? 'Command exited with status 0' : undefined });

afterEach(async () => {
  for (const s of open ?? []) s.close();
  await api?.close();
  master?.stop();
});

describe('SUBSCRIBE: a RecordIO event stream', () => {
  beforeEach(() => setup());

  it('answers 200, chunked, with a Mesos-Stream-Id; SUBSCRIBED comes first, then OFFERS with url.address.ip and the agent\'s backends', async () => {
    const { s, fid, offer } = await subscribed();
    expect(s.headers['transfer-encoding']).toBe('chunked');
    expect(s.headers['content-type']).toBe('application/json');
    expect(s.streamId).toMatch(/^[0-9a-f-]{36}$/);
    expect(s.events[0]).toMatchObject({ type: 'SUBSCRIBED', subscribed: { framework_id: { value: fid }, heartbeat_interval_seconds: 5, master_info: { port: api.port, address: { ip: '127.0.0.1' } } } });
    // offered: cpus:4;mem:4096, all of agent-1
    expect(offer).toMatchObject({
      framework_id: { value: fid }, agent_id: { value: 'agent-1' }, hostname: 'host-a',
      url: { scheme: 'http', address: { hostname: 'host-a', ip: '127.0.0.1', port: api.port } },
      resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 4 } }, { name: 'mem', type: 'SCALAR', scalar: { value: 4096 } }],
      attributes: [{ name: 'isolab.backends', type: 'TEXT', text: { value: 'process,docker' } }],
    });
    // Each event is one chunk: the npm client parses one record per data event.
    expect(s.chunks.map((c) => Number(c.toString().split('\n')[0]))).toEqual(s.chunks.map((c) => Buffer.byteLength(c.toString().slice(c.indexOf(10) + 1))));
  });

  it('HEARTBEAT every heartbeat interval on the master\'s clock (fake clock: none at 4.999 s, one at 5 s, two at 10 s)', async () => {
    const { s } = await subscribed();
    clock.advance(4999);
    await pause(60);
    expect(s.all('HEARTBEAT')).toHaveLength(0);
    clock.advance(1);
    await s.next('HEARTBEAT');
    clock.advance(5000);
    await s.next('HEARTBEAT');
    await pause(30);
    expect(s.all('HEARTBEAT')).toHaveLength(2);
  });

  it('a dropped stream disconnects its framework: offers rescinded at once, torn down after failover_timeout (10 s on the fake clock)', async () => {
    const { s, fid } = await subscribed('fw', { failover_timeout: 10 });
    const offers = s.all('OFFERS').flatMap((e) => e.offers.offers).length;
    expect(offers).toBe(1);
    expect(master.outstandingOfferCount).toBe(1);
    const rescinded = master.counters.rescinded;
    // One task launched before the drop: it keeps running through the failover timeout, then is killed.
    expect((await call(api.url, accept(fid, s.all('OFFERS')[0]!.offers.offers[0].id.value, [cmdTask('t1')]), s.streamId)).status).toBe(202);
    expect(agent.launched.map((t) => t.taskId)).toEqual(['t1']);
    clock.advance(6000); // the unused cpus:3;mem:3968 come back after the default 5 s filter
    await s.next('OFFERS');
    s.close();
    await until(() => master.frameworkList()[0]?.connected === false);
    expect(master.outstandingOfferCount).toBe(0);
    expect(master.counters.rescinded).toBe(rescinded + 1);
    expect(api.scheduler!.subscriptions).toBe(0);
    clock.advance(9999);
    expect(master.frameworkCount).toBe(1);
    expect(agent.killed).toEqual([]);
    clock.advance(1);
    expect(master.frameworkCount).toBe(0);
    expect(master.completedFrameworkList().map((f) => f.id)).toEqual([fid]);
    expect(agent.killed).toEqual(['t1']);
    expect(master.task(fid, 't1')?.state).toBe('killed');
  });

  it('failover: SUBSCRIBE again with the framework id on a new connection; the old stream gets ERROR and ends', async () => {
    const { s, fid } = await subscribed('fw', { failover_timeout: 60 });
    const again = await subscribe(api.url, subscribeBody('fw', { failover_timeout: 60 }, fid));
    open.push(again);
    expect(again.status).toBe(200);
    expect((await again.next('SUBSCRIBED')).subscribed.framework_id.value).toBe(fid);
    expect((await s.next('ERROR')).error.message).toBe('framework failed over');
    await s.ended;
    expect(master.frameworkList()).toMatchObject([{ id: fid, connected: true }]);
    expect(master.counters.frameworksReregistered).toBe(1);
    // The old stream id no longer works; the new one does.
    expect((await call(api.url, { framework_id: { value: fid }, type: 'REVIVE' }, s.streamId)).status).toBe(400);
    expect((await call(api.url, { framework_id: { value: fid }, type: 'REVIVE' }, again.streamId)).status).toBe(202);
  });

  it('a framework registered in-process cannot be taken over over HTTP', async () => {
    const d = master.registerFramework({ resourceOffers: () => {}, statusUpdate: () => {} }, { name: 'inside' });
    const s = await subscribe(api.url, subscribeBody('x', {}, d.frameworkId));
    expect(s.status).toBe(403);
    expect(JSON.parse(s.body).error).toMatch(/was not registered through this API/);
  });

  it('SUBSCRIBE with the id of a removed framework: ERROR "has been removed", and the stream ends', async () => {
    const { s, fid } = await subscribed();
    expect((await call(api.url, { framework_id: { value: fid }, type: 'TEARDOWN' }, s.streamId)).status).toBe(202);
    await s.ended;
    const again = await subscribe(api.url, subscribeBody('fw', {}, fid));
    expect(again.status).toBe(200);
    expect((await again.next('ERROR')).error.message).toMatch(/has been removed/);
    await again.ended;
  });
});

describe('calls: 202, the FrameworkDriver call they name', () => {
  beforeEach(() => setup());

  it('ACCEPT launches a command task; its updates arrive with a uuid, in order, each after the previous one\'s ACKNOWLEDGE', async () => {
    const { s, fid, offer } = await subscribed();
    const r = await call(api.url, accept(fid, offer.id.value, [cmdTask('t1', { container: { type: 'DOCKER', docker: { image: 'isolab-guest' } } })], { refuse_seconds: 30 }), s.streamId);
    expect(r).toEqual({ status: 202, body: '' });
    expect(agent.launched).toHaveLength(1);
    expect(agent.launched[0]).toMatchObject({ taskId: 't1', backend: 'docker', resources: { cpus: 1, mem: 128 }, payload: { taskId: 't1', mode: 'command', command: { value: 'echo t1' } } });
    agentSays(agent.launched[0]!, 'running');
    agentSays(agent.launched[0]!, 'finished');
    const u1 = (await s.next('UPDATE')).update.status;
    expect(u1).toMatchObject({ task_id: { value: 't1' }, agent_id: { value: 'agent-1' }, state: 'TASK_RUNNING', source: 'SOURCE_EXECUTOR' });
    expect(Buffer.from(u1.uuid, 'base64')).toHaveLength(16);
    await pause(30);
    expect(s.all('UPDATE')).toHaveLength(1); // FINISHED waits for RUNNING's acknowledgement
    expect(master.unacknowledgedUpdates).toBe(2);
    const ack = (u: Obj) => ({ framework_id: { value: fid }, type: 'ACKNOWLEDGE', acknowledge: { agent_id: u.agent_id, task_id: u.task_id, uuid: u.uuid } });
    expect((await call(api.url, ack(u1), s.streamId)).status).toBe(202);
    const u2 = (await s.next('UPDATE')).update.status;
    expect(u2).toMatchObject({ state: 'TASK_FINISHED', message: 'Command exited with status 0' });
    expect((await call(api.url, ack(u2), s.streamId)).status).toBe(202);
    expect(master.unacknowledgedUpdates).toBe(0);
    expect(master.counters.acknowledgements).toBe(2);
    // An acknowledgement nothing waits for is accepted (202) and counted invalid, as Mesos counts it.
    expect((await call(api.url, ack({ ...u2, uuid: Buffer.alloc(16, 9).toString('base64') }), s.streamId)).status).toBe(202);
    expect(master.counters.invalidAcknowledgements).toBe(1);
  });

  it('invalid tasks get TASK_ERROR with REASON_TASK_INVALID (the adapter\'s checks and the master\'s), the valid ones launch', async () => {
    const { s, fid, offer } = await subscribed();
    const tasks = [cmdTask('ok'), cmdTask('nocmd', { command: null }), cmdTask('huge', { resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 64 } }] })];
    expect((await call(api.url, accept(fid, offer.id.value, tasks), s.streamId)).status).toBe(202);
    expect(agent.launched.map((t) => t.taskId)).toEqual(['ok']);
    const errors = [await s.next('UPDATE'), await s.next('UPDATE')].map((e) => e.update.status);
    expect(errors.map((u) => [u.task_id.value, u.state, u.reason]).sort()).toEqual([['huge', 'TASK_ERROR', 'REASON_TASK_INVALID'], ['nocmd', 'TASK_ERROR', 'REASON_TASK_INVALID']]);
    expect(errors.find((u) => u.task_id.value === 'nocmd').message).toMatch(/needs a command or an executor/);
    expect(errors.find((u) => u.task_id.value === 'huge').message).toMatch(/needs cpus:64;mem:0 but the offers have/);
  });

  it('LAUNCH_GROUP launches its tasks, all or none', async () => {
    const { s, fid, offer } = await subscribed();
    const group = (offerId: Obj, tasks: Obj[]) => ({
      framework_id: { value: fid }, type: 'ACCEPT',
      accept: { offer_ids: [offerId], operations: [{ type: 'LAUNCH_GROUP', launch_group: { executor: { executor_id: { value: 'default' }, type: 'DEFAULT' }, task_group: { tasks } } }] },
    });
    expect((await call(api.url, group(offer.id, [cmdTask('g1'), cmdTask('g2')]), s.streamId)).status).toBe(202);
    expect(agent.launched.map((t) => t.taskId)).toEqual(['g1', 'g2']);
    clock.advance(6000); // the unused resources come back after the default 5 s filter
    const next = (await s.next('OFFERS')).offers.offers[0];
    expect((await call(api.url, group(next.id, [cmdTask('g3'), cmdTask('g4', { command: { value: '' } })]), s.streamId)).status).toBe(202);
    const errs = [await s.next('UPDATE'), await s.next('UPDATE')].map((e) => e.update.status);
    expect(errs.map((u) => [u.task_id.value, u.state])).toEqual([['g3', 'TASK_ERROR'], ['g4', 'TASK_ERROR']]);
    expect(errs[0].message).toMatch(/task group has an invalid task: command.value is empty/);
    expect(agent.launched.map((t) => t.taskId)).toEqual(['g1', 'g2']);
  });

  it('DECLINE with filters, SUPPRESS, REVIVE, KILL, RECONCILE, MESSAGE, REQUEST', async () => {
    const { s, fid, offer } = await subscribed();
    const fw = { framework_id: { value: fid } };
    expect((await call(api.url, { ...fw, type: 'DECLINE', decline: { offer_ids: [offer.id], filters: { refuse_seconds: 30 } } }, s.streamId)).status).toBe(202);
    clock.advance(20_000);
    expect(s.all('OFFERS')).toHaveLength(1); // filtered for 30 s
    expect((await call(api.url, { ...fw, type: 'REVIVE' }, s.streamId)).status).toBe(202);
    clock.advance(0);
    const again = (await s.next('OFFERS')).offers.offers[0];
    expect((await call(api.url, accept(fid, again.id.value, [cmdTask('k1')]), s.streamId)).status).toBe(202);
    expect((await call(api.url, { ...fw, type: 'SUPPRESS' }, s.streamId)).status).toBe(202);
    expect(master.frameworkList()[0]!.suppressed).toBe(true);
    expect((await call(api.url, { ...fw, type: 'KILL', kill: { task_id: { value: 'k1' }, agent_id: { value: 'agent-1' } } }, s.streamId)).status).toBe(202);
    expect(agent.killed).toEqual(['k1']);
    expect((await call(api.url, { ...fw, type: 'RECONCILE', reconcile: { tasks: [{ task_id: { value: 'k1' } }, { task_id: { value: 'nope' } }] } }, s.streamId)).status).toBe(202);
    const r = [await s.next('UPDATE'), await s.next('UPDATE')].map((e) => e.update.status);
    expect(r.map((u) => [u.task_id.value, u.state, u.reason, u.uuid])).toEqual([['k1', 'TASK_STAGING', 'REASON_RECONCILIATION', undefined], ['nope', 'TASK_LOST', 'REASON_RECONCILIATION', undefined]]);
    expect((await call(api.url, { ...fw, type: 'MESSAGE', message: { agent_id: { value: 'agent-1' }, executor_id: { value: 'k1' }, data: 'aGk=' } }, s.streamId)).status).toBe(202);
    expect((await call(api.url, { ...fw, type: 'REQUEST', requests: [] }, s.streamId)).status).toBe(202);
    const shutdown = await call(api.url, { ...fw, type: 'SHUTDOWN', shutdown: { executor_id: { value: 'k1' }, agent_id: { value: 'agent-1' } } }, s.streamId);
    expect(shutdown.status).toBe(400);
    expect(JSON.parse(shutdown.body).error).toMatch(/SHUTDOWN is not supported/);
  });

  it('TEARDOWN: 202, the stream ends, the framework is gone, its calls get 403', async () => {
    const { s, fid } = await subscribed();
    expect((await call(api.url, { framework_id: { value: fid }, type: 'TEARDOWN' }, s.streamId)).status).toBe(202);
    await s.ended;
    expect(master.frameworkCount).toBe(0);
    expect(master.completedFrameworkCount).toBe(1);
    expect((await call(api.url, { framework_id: { value: fid }, type: 'REVIVE' }, s.streamId)).status).toBe(403);
  });

  it('FAILURE when an agent stops answering pings (unreachable), with its offers rescinded', async () => {
    await api.close();
    master.stop();
    clock = new FakeClock(0);
    master = new Master({ clock, agentPingTimeoutMs: 1000, maxAgentPingTimeouts: 2 });
    agent = new RecordingAgent();
    const silent = Object.assign(agent, { ping: () => {} });
    master.registerAgent({ hostname: 'host-a', resources: { cpus: 4, mem: 4096 }, backends: ['process'] }, silent, 'agent-1');
    master.start();
    api = await startApiServer(master, { port: 0, scheduler: { heartbeatSeconds: 60 } });
    const { s } = await subscribed();
    clock.advance(3000); // two pings missed (1 s apart): unreachable
    expect((await s.next('FAILURE')).failure).toEqual({ agent_id: { value: 'agent-1' } });
    expect((await s.next('RESCIND')).rescind.offer_id.value).toBe('offer-1');
  });

  it('FAILURE when an agent is removed', async () => {
    const { s } = await subscribed();
    master.removeAgent('agent-1', 'test');
    expect((await s.next('FAILURE')).failure).toEqual({ agent_id: { value: 'agent-1' } });
    expect((await s.next('RESCIND')).rescind.offer_id.value).toBe('offer-1');
  });
});

describe('bad requests: a 4xx with a one-line reason', () => {
  beforeEach(() => setup());

  const reason = (r: { body: string }): string => {
    const e = JSON.parse(r.body).error as string;
    expect(e).not.toContain('\n');
    return e;
  };

  it('malformed JSON, unknown call types, calls without or with a wrong stream id, unknown frameworks', async () => {
    const { s, fid } = await subscribed();
    const fw = { framework_id: { value: fid } };
    let r = await call(api.url, '{"type": "SUBSCRIBE",', s.streamId);
    expect([r.status, reason(r)]).toEqual([400, expect.stringMatching(/^malformed JSON: /)]);
    r = await call(api.url, { ...fw, type: 'FROB' }, s.streamId);
    expect([r.status, reason(r)]).toEqual([400, expect.stringMatching(/^unknown call type "FROB"/)]);
    r = await call(api.url, { ...fw, type: 'REVIVE' });
    expect([r.status, reason(r)]).toEqual([400, expect.stringMatching(/needs the Mesos-Stream-Id header/)]);
    r = await call(api.url, { ...fw, type: 'REVIVE' }, 'not-the-stream');
    expect([r.status, reason(r)]).toEqual([400, expect.stringMatching(/is not the stream of framework/)]);
    r = await call(api.url, { framework_id: { value: 'framework-404' }, type: 'REVIVE' }, s.streamId);
    expect([r.status, reason(r)]).toEqual([403, expect.stringMatching(/is not subscribed/)]);
    r = await call(api.url, subscribeBody('x'), s.streamId);
    expect([r.status, reason(r)]).toEqual([400, 'SUBSCRIBE must not carry a Mesos-Stream-Id header']);
  });

  it('bodies over 1 MiB get 413, with a length or chunked; other content types 415; other methods 405', async () => {
    const big = JSON.stringify({ type: 'SUBSCRIBE', pad: 'x'.repeat(1 << 20) });
    let r = await call(api.url, big);
    expect([r.status, reason(r)]).toEqual([413, 'request body larger than 1048576 bytes']);
    const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const u = new URL('/api/v1/scheduler', api.url);
      const req = request({ method: 'POST', host: u.hostname, port: u.port, path: u.pathname, headers: { 'Content-Type': 'application/json' } }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      for (let i = 0; i < 20; i++) req.write('x'.repeat(64 * 1024));
      req.end();
    });
    expect(chunked.status).toBe(413);
    expect(master.frameworkCount).toBe(0);
    r = await call(api.url, subscribeBody('x'), undefined, { 'Content-Type': 'application/x-protobuf' });
    expect([r.status, reason(r)]).toEqual([415, expect.stringMatching(/Content-Type must be application\/json/)]);
    const get = await fetch(new URL('/api/v1/scheduler', api.url));
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });
});

describe('credentials (HTTP Basic, as Mesos\' --authenticate_frameworks)', () => {
  const creds = [{ principal: 'wordcount', secret: 's3cret' }];
  const basic = (p: string, s: string) => ({ Authorization: `Basic ${Buffer.from(`${p}:${s}`).toString('base64')}` });
  beforeEach(() => setup({ credentials: creds }));

  it('SUBSCRIBE without credentials or with a wrong secret: 401, nothing registered', async () => {
    for (const headers of [{}, basic('wordcount', 'wrong'), basic('nobody', 's3cret'), { Authorization: 'Bearer x' }]) {
      const s = await subscribe(api.url, subscribeBody('x'), headers);
      expect(s.status, JSON.stringify(headers)).toBe(401);
      expect(s.headers['www-authenticate']).toBe('Basic realm="isolab"');
      expect(JSON.parse(s.body).error).toMatch(/authentication required|wrong principal or secret|only HTTP Basic/);
    }
    expect(master.frameworkCount).toBe(0);
    expect(master.counters.frameworksRegistered).toBe(0);
  });

  it('the right secret subscribes; its calls need it too; /state and /metrics need it; /health does not', async () => {
    const s = await subscribe(api.url, subscribeBody('x', { principal: 'wordcount' }), basic('wordcount', 's3cret'));
    open.push(s);
    expect(s.status).toBe(200);
    const fid = (await s.next('SUBSCRIBED')).subscribed.framework_id.value;
    expect((await call(api.url, { framework_id: { value: fid }, type: 'REVIVE' }, s.streamId)).status).toBe(401);
    expect((await call(api.url, { framework_id: { value: fid }, type: 'REVIVE' }, s.streamId, basic('wordcount', 's3cret'))).status).toBe(202);
    expect((await fetch(`${api.url}/state`)).status).toBe(401);
    expect((await fetch(`${api.url}/master/metrics/snapshot`)).status).toBe(401);
    expect((await fetch(`${api.url}/state`, { headers: basic('wordcount', 's3cret') })).status).toBe(200);
    expect((await fetch(`${api.url}/health`)).status).toBe(200);
  });

  it('framework_info.principal must be the authenticated principal', async () => {
    const s = await subscribe(api.url, subscribeBody('x', { principal: 'someone-else' }), basic('wordcount', 's3cret'));
    expect(s.status).toBe(403);
    expect(master.frameworkCount).toBe(0);
  });
});

describe('binding beyond loopback', () => {
  it('is refused without credentials, before anything binds', async () => {
    const m = new Master({ agentPingTimeoutMs: null });
    for (const host of ['0.0.0.0', '10.1.2.3', '::']) {
      await expect(startApiServer(m, { host, port: 0, scheduler: {} })).rejects.toThrow(`refusing to serve the API on ${host} without credentials`);
    }
  });
});
