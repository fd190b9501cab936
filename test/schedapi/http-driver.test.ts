import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { LocalAgent } from '../../src/agent/agent.js';
import { ProcessBackend } from '../../src/backends/process/process-backend.js';
import { HttpMasterConnection } from '../../src/frameworks/http-connection.js';
import { inProcessMaster } from '../../src/frameworks/master-connection.js';
import { runWordcountOnMaster } from '../../src/frameworks/wordcount/run-job.js';
import { startApiServer, type ApiServer } from '../../src/http/server.js';
import { Master } from '../../src/master/master.js';
import { generateCorpus } from '../../src/workload/corpus.js';
import { sha256Hex } from '../../src/workload/counts.js';
import { referenceCounts } from '../cli/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'isolab-test-driver-'));
const input = join(dir, 'corpus.txt');
writeFileSync(input, generateCorpus({ bytes: 600_000, seed: 5 }));
const expected = sha256Hex(referenceCounts(input));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let master: Master;
let agent: LocalAgent;
let api: ApiServer;

async function setup(): Promise<void> {
  master = new Master({ agentPingTimeoutMs: null });
  agent = new LocalAgent(master, new Map([['process', new ProcessBackend()]]));
  agent.register({ hostname: 'h', resources: { cpus: 4, mem: 4096 } });
  master.start();
  api = await startApiServer(master, { port: 0, scheduler: { heartbeatSeconds: 1 } });
}

afterEach(async () => {
  await api?.close();
  const until = Date.now() + 10_000;
  while (agent.activeTasks > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  master?.stop();
});

const job = { input, size: 600_000, parallelism: 4, backend: 'process', taskResources: { cpus: 0.5, mem: 128 } };

describe('one wordcount framework, two connections', () => {
  it('in-process and over HTTP give the same exact result', async () => {
    await setup();
    const logs: string[] = [];
    const http = await runWordcountOnMaster({ ...job, master: new HttpMasterConnection(api.url, { log: (l) => logs.push(l) }) });
    const local = await runWordcountOnMaster({ ...job, master: inProcessMaster(master) });
    expect(http.sha256).toBe(expected);
    expect(local.sha256).toBe(expected);
    expect(http.attempts.map((a) => a.state)).toEqual(['finished', 'finished', 'finished', 'finished']);
    expect(master.completedFrameworkCount).toBe(2);
    expect(logs).toEqual([]);
  });

  it('the stream drops mid-job: the driver subscribes again with its id within the failover timeout, and the job ends exact', async () => {
    await setup();
    const logs: string[] = [];
    const r = await runWordcountOnMaster({
      ...job, failoverTimeoutSeconds: 30, master: new HttpMasterConnection(api.url, { log: (l) => logs.push(l) }),
      onRegistered: () => setTimeout(() => api.scheduler!.closeAll(), 0),
    });
    expect(r.sha256).toBe(expected);
    expect(master.counters.frameworksReregistered).toBe(1);
    expect(logs.join('\n')).toMatch(/the event stream closed; subscribing again \(failover timeout 30 s\)[\s\S]*subscribed again as framework-/);
    expect(master.frameworkCount).toBe(0);
  });

  it('the stream drops and the framework has no failover timeout: the job fails with one line, its tasks are killed', async () => {
    await setup();
    const run = runWordcountOnMaster({
      ...job, failoverTimeoutSeconds: 0, master: new HttpMasterConnection(api.url, { log: () => {} }),
      onRegistered: () => setTimeout(() => api.scheduler!.closeAll(), 0),
    });
    await expect(run).rejects.toThrow(/^the master ended the framework: lost the master at http:\/\/127\.0\.0\.1:\d+ \(the event stream closed\); with no failover timeout the framework is gone$/);
    expect(master.frameworkCount).toBe(0);
  });

  it('map tasks that no offer fits: a line says why they wait; an abort tears the framework down', async () => {
    await setup();
    const lines: string[] = [];
    const abort = new AbortController();
    const run = runWordcountOnMaster({
      ...job, taskResources: { cpus: 8, mem: 128 }, signal: abort.signal, master: new HttpMasterConnection(api.url, { log: () => {} }),
      noteEveryMs: 100, onWaiting: (l) => {
        lines.push(l);
        abort.abort(new Error('enough'));
      },
    });
    await expect(run).rejects.toThrow('enough');
    expect(lines[0]).toMatch(/^isolab: 4 map tasks waiting on http:\/\/127\.0\.0\.1:\d+: (no offer yet|the last offer \(cpus:4;mem:4096 on h\) is smaller than --task-resources cpus:8;mem:128)$/);
    expect(master.frameworkCount).toBe(0);
  });

  it('a master that refuses (a removed framework id) or is not there: the registration rejects with one line', async () => {
    await setup();
    const conn = new HttpMasterConnection(api.url);
    const quiet = { resourceOffers: () => {}, statusUpdate: () => {} };
    const d = await conn.register(quiet, { name: 'x' });
    d.teardown();
    await conn.close();
    await expect(new HttpMasterConnection(api.url).register(quiet, { name: 'x', id: d.frameworkId }))
      .rejects.toThrow(`${api.url} refused the framework: framework ${d.frameworkId} has been removed`);
    await expect(new HttpMasterConnection('http://127.0.0.1:1').register({ resourceOffers: () => {}, statusUpdate: () => {} }, { name: 'x' }))
      .rejects.toThrow('cannot reach the master at http://127.0.0.1:1: ECONNREFUSED');
    expect(() => new HttpMasterConnection('ftp://x')).toThrow(/only http:\/\/ is supported/);
    expect(() => new HttpMasterConnection('http://u:p@127.0.0.1:1')).toThrow(/must not carry credentials/);
  });
});
