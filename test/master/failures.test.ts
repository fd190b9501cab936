import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalAgent } from '../../src/agent/agent.js';
import type { Backend, TaskSink, TaskSpec } from '../../src/backends/backend.js';
import { MockBackend } from '../support/mock-backend.js';
import { ProcessBackend, type ProcState } from '../../src/backends/process/process-backend.js';
import { encodeMessage } from '../../src/executor/protocol.js';
import { runWordcountJob } from '../../src/frameworks/wordcount/run-job.js';
import { WordcountScheduler } from '../../src/frameworks/wordcount/wordcount-scheduler.js';
import { FakeClock } from '../../src/master/clock.js';
import { Master } from '../../src/master/master.js';
import type { AgentDriver, FrameworkDriver, LaunchedTask, Offer, Scheduler, TaskStatus } from '../../src/master/types.js';
import { generateCorpus, writeCorpus } from '../../src/workload/corpus.js';
import { canonicalBytes, encodeTable } from '../../src/workload/counts.js';
import { countRange } from '../../src/workload/word-table.js';
import { tableToCounts } from '../../src/workload/counts.js';

const CORPUS = generateCorpus({ bytes: 120_000, seed: 5 });
const REFERENCE = canonicalBytes(tableToCounts(countRange(CORPUS, 0, CORPUS.length)));

/** A mock backend whose tasks print the real counts of their byte range of CORPUS after runMs of virtual time. */
function countingMock(clock: FakeClock, runMs: number, exitCode: (spec: TaskSpec) => number = () => 0): MockBackend {
  return new MockBackend({
    clock, runMs, exitCode,
    output: (spec) => {
      const { start = 0, end = 0 } = spec.executor;
      const t = countRange(CORPUS, start, end, CORPUS.length);
      return [
        encodeMessage({ type: 'ready', taskId: spec.taskId, pid: 0, node: 'mock', uptimeMs: 0 }),
        encodeMessage({ type: 'result', taskId: spec.taskId, words: t.total, distinct: t.distinct, bytes: end - start, countMs: 0, counts: encodeTable(t) }),
      ];
    },
  });
}

function fakeCluster(opts: ConstructorParameters<typeof Master>[0] = {}) {
  const clock = new FakeClock();
  const master = new Master({ clock, agentPingTimeoutMs: 1000, maxAgentPingTimeouts: 3, statusUpdateRetryMs: 2000, ...opts });
  return { clock, master };
}

async function settleOutcome<T>(p: Promise<T>, clock: FakeClock, stepMs: number, maxSteps: number): Promise<T> {
  let done = false;
  const tracked = p.finally(() => void (done = true));
  tracked.catch(() => {});
  for (let i = 0; i < maxSteps && !done; i++) await clock.advanceAsync(stepMs);
  return tracked;
}

describe('agent heartbeats', () => {
  class Pingable implements AgentDriver {
    answer = true;
    shutdownReason?: string;
    constructor(
      private readonly master: Master,
      public id = '',
    ) {}
    launch(): void {}
    kill(): void {}
    ping(): void {
      if (this.answer) this.master.pong(this.id);
    }
    shutdown(reason: string): void {
      this.shutdownReason = reason;
    }
  }

  it('removes an agent after ping timeout x max misses; its resources leave the cluster', () => {
    const { clock, master } = fakeCluster();
    const a = new Pingable(master);
    const b = new Pingable(master);
    a.id = master.registerAgent({ hostname: 'a', resources: { cpus: 2, mem: 1024 }, backends: ['mock'] }, a, 'a');
    b.id = master.registerAgent({ hostname: 'b', resources: { cpus: 2, mem: 1024 }, backends: ['mock'] }, b, 'b');
    master.start();
    b.answer = false;
    // Pings go out at t = 1, 2, 3, 4 s; b misses the answers checked at 2, 3 and 4 s: 3 misses -> removed at 4 s.
    clock.advance(3999);
    expect(master.agentList().map((x) => x.id)).toEqual(['a', 'b']);
    expect(master.agentList().find((x) => x.id === 'b')!.missedPings).toBe(2);
    clock.advance(1);
    expect(master.agentList().map((x) => x.id)).toEqual(['a']);
    expect(b.shutdownReason).toMatch(/no answer to 3 pings/);
    expect(master.counters.agentsRemoved).toBe(1);
    master.stop();
  });

  it('forgives missed pings once the agent answers again', () => {
    const { clock, master } = fakeCluster();
    const a = new Pingable(master);
    a.id = master.registerAgent({ hostname: 'a', resources: { cpus: 2, mem: 1024 }, backends: ['mock'] }, a, 'a');
    master.start();
    a.answer = false;
    clock.advance(2500); // the ping of 1 s went unanswered: 1 miss at 2 s
    expect(master.agentList()[0]!.missedPings).toBe(1);
    a.answer = true; // answers the ping of 3 s (the one of 2 s still counts as missed at 3 s)
    clock.advance(10_000);
    expect(master.agentList()[0]!.missedPings).toBe(0);
    master.stop();
  });
});

describe('wordcount under failures (fake clock, real counts)', () => {
  it('agent loss -> tasks lost -> retried on the other agent -> exact result', async () => {
    const { clock, master } = fakeCluster();
    const backend = countingMock(clock, 10_000);
    const a1 = new LocalAgent(master, new Map([['mock', backend as Backend]]));
    const a2 = new LocalAgent(master, new Map([['mock', backend as Backend]]));
    a1.register({ hostname: 'one', resources: { cpus: 2, mem: 2048 } }, 'one');
    a2.register({ hostname: 'two', resources: { cpus: 2, mem: 2048 } }, 'two');
    master.start();
    const scheduler = new WordcountScheduler({
      input: 'corpus', size: CORPUS.length, parallelism: 4, backend: 'mock', taskResources: { cpus: 1, mem: 512 }, maxRetries: 2,
    });
    master.registerFramework(scheduler, { name: 'wordcount' });
    await clock.advanceAsync(1500); // 4 map tasks launched, 2 per agent
    expect(a1.activeTasks + a2.activeTasks).toBe(4);
    a2.disconnect(); // partition: pings unanswered, updates held
    const out = await settleOutcome(scheduler.outcome, clock, 1000, 120);
    expect(canonicalBytes(out.counts).equals(REFERENCE)).toBe(true);
    const lost = out.attempts.filter((x) => x.state === 'lost');
    expect(lost).toHaveLength(2);
    expect(lost[0]!.message).toMatch(/agent two removed: no answer to 3 pings/);
    expect(out.attempts.filter((x) => x.state === 'finished')).toHaveLength(4);
    expect(scheduler.retries).toBe(2);
    expect(master.agentList().map((x) => x.id)).toEqual(['one']);
    expect(master.countTasks('lost')).toBe(2);
    expect(a2.activeTasks).toBe(0); // the removed agent was told to shut down and killed its tasks
    master.stop();
  });

  it('a job that runs out of retries fails with a clear message', async () => {
    const { clock, master } = fakeCluster();
    const backend = countingMock(clock, 1000, (spec) => (spec.executor.start === 0 ? 3 : 0));
    new LocalAgent(master, new Map([['mock', backend as Backend]])).register({ hostname: 'one', resources: { cpus: 4, mem: 4096 } });
    master.start();
    const scheduler = new WordcountScheduler({
      input: 'corpus', size: CORPUS.length, parallelism: 3, backend: 'mock', taskResources: { cpus: 1, mem: 512 }, maxRetries: 2,
    });
    master.registerFramework(scheduler, { name: 'wordcount' });
    await expect(settleOutcome(scheduler.outcome, clock, 1000, 60)).rejects.toThrow(
      'map task 0 ran out of retries: 3 attempts failed (--max-retries 2); last failed: executor exited with 3',
    );
    master.stop();
  });

  it('resent (duplicate, out-of-order) updates after lost acknowledgements do not change the result', async () => {
    const { clock, master } = fakeCluster({ statusUpdateRetryMs: 500 });
    const backend = countingMock(clock, 300); // tasks end before the first resend (500 ms)
    new LocalAgent(master, new Map([['mock', backend as Backend]])).register({ hostname: 'one', resources: { cpus: 4, mem: 4096 } });
    master.start();
    const inner = new WordcountScheduler({
      input: 'corpus', size: CORPUS.length, parallelism: 4, backend: 'mock', taskResources: { cpus: 1, mem: 512 },
    });
    // Loses the first acknowledgement of every update, so the master resends each one once; a
    // resent `running` reaches the framework after that task's `finished`.
    const seen = new Set<string>();
    const received: string[] = [];
    const lossy: Scheduler = {
      resourceOffers: (d, o) => inner.resourceOffers(d, o),
      statusUpdate: (d, s) => {
        received.push(`${s.taskId}:${s.state}`);
        const first = !seen.has(s.uuid);
        seen.add(s.uuid);
        inner.statusUpdate(first ? { ...d, acknowledge: () => {} } : d, s);
      },
    };
    master.registerFramework(lossy, { name: 'wordcount' });
    const out = await settleOutcome(inner.outcome, clock, 250, 200);
    await clock.advanceAsync(5000); // let the last resends arrive
    expect(canonicalBytes(out.counts).equals(REFERENCE)).toBe(true);
    expect(out.attempts).toHaveLength(4);
    expect(master.counters.statusUpdateResends).toBe(12); // starting, running, finished x 4 tasks, each resent once
    expect(master.unacknowledgedUpdates).toBe(0);
    expect(inner.ignoredUpdates).toBe(12); // every resend arrives after its task's first finished: ignored
    const order = received.filter((r) => r.startsWith('map-0-1:'));
    expect(order.indexOf('map-0-1:finished')).toBeLessThan(order.lastIndexOf('map-0-1:running')); // out of order
    master.stop();
  });
});

describe('WordcountScheduler is idempotent', () => {
  it('merges each range once whatever the duplicates and order of updates', async () => {
    const s = new WordcountScheduler({ input: 'c', size: CORPUS.length, parallelism: 2, backend: 'mock', taskResources: { cpus: 1, mem: 1 } });
    const launched: LaunchedTask[] = [];
    let acks = 0;
    const driver: FrameworkDriver = {
      frameworkId: 'f',
      accept: (offerId, tasks) => launched.push(...tasks.map((t) => ({ ...t, frameworkId: 'f', agentId: 'a', offerId, offeredAt: 0, acceptedAt: 0 }))),
      decline: () => {}, suppress: () => {}, revive: () => {}, kill: () => {}, teardown: () => {},
      acknowledge: () => void acks++,
    };
    const offer: Offer = { id: 'o1', frameworkId: 'f', agentId: 'a', hostname: 'h', resources: { cpus: 2, mem: 2 }, backends: ['mock'], createdAt: 0 };
    s.resourceOffers(driver, [offer]);
    expect(launched.map((t) => t.taskId)).toEqual(['map-0-1', 'map-1-1']);
    const result = (t: LaunchedTask) => {
      const { start = 0, end = 0 } = t.payload as { start: number; end: number };
      const table = countRange(CORPUS, start, end, CORPUS.length);
      return { backend: 'mock', requested: t.resources, attributes: {}, phases: {}, result: { type: 'result' as const, taskId: t.taskId, words: table.total, distinct: table.distinct, bytes: 0, countMs: 0, counts: encodeTable(table) } };
    };
    let n = 0;
    const update = (t: LaunchedTask, state: TaskStatus['state'], withData = false): TaskStatus => ({
      taskId: t.taskId, frameworkId: 'f', agentId: 'a', state, uuid: `u${n++}`, timestamp: 0, data: withData ? result(t) : undefined,
    });
    const [t0, t1] = launched as [LaunchedTask, LaunchedTask];
    const fin0 = update(t0, 'finished', true);
    s.statusUpdate(driver, fin0); // finished before any running: out of order
    s.statusUpdate(driver, fin0); // exact duplicate (same uuid)
    s.statusUpdate(driver, update(t0, 'running')); // late running
    s.statusUpdate(driver, update(t0, 'finished', true)); // duplicate with a new uuid
    s.statusUpdate(driver, update(t0, 'lost')); // stale lost for a finished task
    s.statusUpdate(driver, update(t1, 'running'));
    s.statusUpdate(driver, update(t1, 'finished', true));
    const out = await s.outcome;
    expect(canonicalBytes(out.counts).equals(REFERENCE)).toBe(true);
    expect(out.attempts).toHaveLength(2);
    expect(s.ignoredUpdates).toBe(4);
    expect(acks).toBe(7); // every update is acknowledged, duplicates too
  });
});

describe('wordcount with a crashing executor (process backend)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'isolab-crash-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a map task whose executor crashes mid-task is failed, retried, and the result is exact', async () => {
    const input = join(dir, 'corpus.txt');
    await writeCorpus(input, { bytes: 120_000, seed: 5 });
    const inner = new ProcessBackend();
    // The first attempt of every map task runs the executor's `crash` mode: it prints ready, then exits 3.
    const crashFirst: Backend<ProcState> = {
      name: inner.name,
      descriptor: inner.descriptor,
      fingerprint: () => inner.fingerprint(),
      start: (spec: TaskSpec, sink: TaskSink, signal?: AbortSignal) =>
        inner.start(spec.taskId.endsWith('-1') ? { ...spec, executor: { ...spec.executor, mode: 'crash' } } : spec, sink, signal),
      wait: (h) => inner.wait(h),
      stop: (h, ms, sig) => inner.stop(h, ms, sig),
      destroy: (h) => inner.destroy(h),
      stats: (h) => inner.stats(h),
      listOwned: () => inner.listOwned(),
      removeOwned: (r) => inner.removeOwned(r),
    };
    const r = await runWordcountJob({
      input, size: 120_000, parallelism: 2, backend: crashFirst, taskResources: { cpus: 0.5, mem: 256 },
      agentResources: { cpus: 2, mem: 2048 }, maxRetries: 1, taskTimeoutMs: 30_000,
    });
    expect(r.canonical.equals(REFERENCE)).toBe(true);
    const failed = r.attempts.filter((a) => a.state === 'failed');
    expect(failed).toHaveLength(2);
    expect(failed[0]!.message).toMatch(/exited with 3/);
    expect(failed[0]!.data?.ready).toBeDefined(); // it crashed after starting, not before
    expect(r.attempts.filter((a) => a.state === 'finished').map((a) => a.attempt)).toEqual([2, 2]);
  });
});
