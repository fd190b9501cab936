import { request } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runAgentDaemon, type DaemonEnd } from '../../src/agent/remote/daemon.js';
import { loadIdentity, workDirLayout } from '../../src/agent/remote/work-dir.js';
import { basicAuthorization, type Credential } from '../../src/http/auth.js';
import { startApiServer, type ApiServer } from '../../src/http/server.js';
import { Master } from '../../src/master/master.js';
import type { FrameworkDriver, Offer, Scheduler, TaskStatus } from '../../src/master/types.js';
import { MockBackend } from '../support/mock-backend.js';

const CRED: Credential = { principal: 'agents', secret: 's3cret' };

/** A framework that launches one long mock task on the first offer and records its updates. */
class OneTask implements Scheduler {
  launched = false;
  readonly updates: TaskStatus[] = [];
  resourceOffers(driver: FrameworkDriver, offers: Offer[]): void {
    for (const o of offers) {
      if (this.launched) {
        driver.decline(o.id);
        continue;
      }
      this.launched = true;
      driver.accept(o.id, [{ taskId: 't1', resources: { cpus: 1, mem: 64 }, backend: 'mock', payload: { taskId: 't1', mode: 'idle' } }]);
    }
  }
  statusUpdate(driver: FrameworkDriver, s: TaskStatus): void {
    this.updates.push(s);
    driver.acknowledge(s);
  }
}

const until = async (cond: () => boolean, ms = 10_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('isolab agent against a master over HTTP (in-process master, mock backend)', () => {
  let master: Master | undefined;
  let api: ApiServer | undefined;
  const stops: AbortController[] = [];

  afterEach(async () => {
    for (const s of stops.splice(0)) s.abort();
    await api?.close();
    master?.stop();
  });

  const start = async (): Promise<{ url: string; master: Master }> => {
    master = new Master({ agentPingTimeoutMs: 200, maxAgentPingTimeouts: 3 });
    master.start();
    api = await startApiServer(master, { port: 0, credentials: [CRED], agent: { heartbeatSeconds: 0.2 } });
    return { url: api.url, master };
  };

  const agent = (url: string, root: string, credential: Credential, backend = new MockBackend({ runMs: 60_000 })): { done: Promise<DaemonEnd>; backend: MockBackend } => {
    const workDir = workDirLayout(root);
    const { identity } = loadIdentity(workDir, 'h1', 'agenttest1');
    const stop = new AbortController();
    stops.push(stop);
    const done = runAgentDaemon({
      masterUrl: url, credential, backends: [backend], resources: { cpus: 2, mem: 1024 }, hostname: 'h1', workDir, identity,
      attributes: { rack: 'r1' }, signal: stop.signal, log: () => {}, drainMs: 2000,
    });
    return { done, backend };
  };

  it('a wrong secret is refused with 401 and the agent never registers', async () => {
    const { url, master: m } = await start();
    const end = await agent(url, mkdtempSync(join(tmpdir(), 'isolab-agent-')), { principal: 'agents', secret: 'wrong' }).done;
    expect(end).toEqual({ kind: 'refused', message: 'master refused the subscription: 401 wrong principal or secret' });
    expect(m.agentCount).toBe(0);
  });

  it('registers with its attributes and descriptors; a task runs; marked gone, its task is killed, and it is refused (403) when it returns', async () => {
    const { url, master: m } = await start();
    const root = mkdtempSync(join(tmpdir(), 'isolab-agent-'));
    const a = agent(url, root, CRED);
    await until(() => m.agentCount === 1);
    const view = m.agentList()[0]!;
    expect(view.info.attributes).toEqual({ rack: 'r1' });
    expect(Object.keys(view.info.descriptors ?? {})).toEqual(['mock']);
    const fw = new OneTask();
    m.registerFramework(fw, { name: 'one' });
    await until(() => fw.updates.some((u) => u.state === 'running'));
    expect(a.backend.running).toBe(1);
    m.markAgentGone(view.id, 'decommissioned');
    expect(await a.done).toEqual({ kind: 'removed', reason: 'decommissioned' });
    expect(a.backend.running).toBe(0);
    expect(fw.updates.at(-1)!.state).toBe('lost');
    const again = await agent(url, root, CRED).done;
    expect(again.kind).toBe('refused');
    expect((again as { message: string }).message).toMatch(/403 agent .* was marked gone/);
  });

  it('an UPDATE without a subscription is 409; an unknown call type is 400', async () => {
    const { url } = await start();
    const post = (body: unknown): Promise<number> => new Promise((resolve, reject) => {
      const req = request(`${url}/api/v1/agent`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: basicAuthorization(CRED) } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
    expect(await post({ type: 'UPDATE', agentId: 'x1', status: { taskId: 't', frameworkId: 'f', agentId: 'x1', uuid: 'u', state: 'running', timestamp: 0 } })).toBe(409);
    expect(await post({ type: 'HELLO', agentId: 'x1' })).toBe(400);
  });
});
