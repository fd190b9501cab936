import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { TaskSpec } from '../backends/backend.js';
import { MockBackend } from '../../test/support/mock-backend.js';
import { encodeMessage, MESSAGE_PREFIX, type ResultMessage } from '../executor/protocol.js';
import { runWordcountJob } from '../frameworks/wordcount/run-job.js';
import { WordcountScheduler } from '../frameworks/wordcount/wordcount-scheduler.js';
import type { FrameworkDriver, LaunchedTask, Offer } from '../master/types.js';
import { generateCorpus } from '../workload/corpus.js';
import { canonicalBytes, tableToCounts } from '../workload/counts.js';
import { WasmWordTable } from '../workload/wasm-word-table.js';
import { countRange } from '../workload/word-table.js';

const CORPUS = generateCorpus({ bytes: 60_000, seed: 8 });
const REFERENCE = canonicalBytes(tableToCounts(countRange(CORPUS, 0, CORPUS.length)));

function goodResult(spec: TaskSpec): ResultMessage {
  const { start = 0, end = 0 } = spec.executor;
  const t = WasmWordTable.fromBuffer(CORPUS, start, end, CORPUS.length);
  const canonical = t.canonical();
  return {
    type: 'result', taskId: spec.taskId, words: t.total, distinct: t.distinct, bytes: end - start, countMs: 0,
    counts: canonical.toString('base64'), encoding: 'canonical', rawBytes: canonical.length,
  };
}

const ready = (spec: TaskSpec): string => encodeMessage({ type: 'ready', taskId: spec.taskId, pid: 1, node: 'mock', uptimeMs: 0 });

/** First attempts print `bad(spec)` instead of their result; retries behave. */
async function jobWithFaultyFirstAttempts(bad: (spec: TaskSpec, good: ResultMessage) => string[]) {
  const mock = new MockBackend({
    output: (spec) => {
      const good = goodResult(spec);
      return spec.taskId.endsWith('-1') ? [ready(spec), ...bad(spec, good)] : [ready(spec), encodeMessage(good)];
    },
  });
  const r = await runWordcountJob({
    input: 'corpus', size: CORPUS.length, parallelism: 2, backend: mock, taskResources: { cpus: 1, mem: 64 },
    agentResources: { cpus: 2, mem: 256 }, maxRetries: 1,
  });
  return { r, mock };
}

const gz = (b: Buffer): string => gzipSync(b).toString('base64');

describe('bad executor output fails that task only; the retry gives the exact result (mock backend, real master and agent)', () => {
  const cases: [string, (spec: TaskSpec, good: ResultMessage) => string[], RegExp][] = [
    ['a 100 MB line', () => [MESSAGE_PREFIX + 'x'.repeat(100_000_000)], /line longer than \d+ bytes/],
    ['a gzip bomb', (_s, g) => [encodeMessage({ ...g, encoding: 'canonical+gzip', counts: gz(Buffer.alloc(64 << 20, 0x61)) })], /inflate beyond \d+ bytes/],
    ['a gzip bomb that claims a huge size', (_s, g) => [encodeMessage({ ...g, encoding: 'canonical+gzip', rawBytes: 1e12, counts: gz(Buffer.alloc(64 << 20, 0x61)) })], /claims \d+ bytes of counts/],
    ['a size field that lies', (_s, g) => [encodeMessage({ ...g, rawBytes: g.rawBytes! + 1 })], /not the \d+ it claims/],
    ['a result for another task id', (_s, g) => [encodeMessage({ ...g, taskId: 'map-9-1' })], /for task "map-9-1"/],
    ['malformed counts (unsorted)', (_s, g) => [encodeMessage({ ...g, counts: Buffer.from('b\t1\na\t1\n').toString('base64'), rawBytes: 8, words: 2, distinct: 2 })], /not canonical/],
    ['a counts field that is not a string', (_s, g) => [MESSAGE_PREFIX + JSON.stringify({ ...g, counts: { evil: true } })], /without counts/],
    ['totals that disagree with the counts', (_s, g) => [encodeMessage({ ...g, words: g.words + 1 })], /not the \d+, \d+ it claims/],
    ['a message that is not JSON', () => [MESSAGE_PREFIX + '{"type":"result",'], /not valid JSON/],
    ['an unknown message type', (s) => [MESSAGE_PREFIX + JSON.stringify({ type: 'pwn', taskId: s.taskId })], /unknown message type/],
    ['two results', (_s, g) => [encodeMessage(g), encodeMessage(g)], /second result/],
  ];

  it.each(cases)('%s', async (_name, bad, reason) => {
    const { r, mock } = await jobWithFaultyFirstAttempts(bad);
    expect(r.canonical.equals(REFERENCE)).toBe(true);
    const failed = r.attempts.filter((a) => a.state === 'failed');
    expect(failed.map((a) => a.taskId).sort()).toEqual(['map-0-1', 'map-1-1']);
    for (const a of failed) expect(a.message).toMatch(/^protocol violation: /);
    expect(failed[0]!.message).toMatch(reason);
    expect(r.attempts.filter((a) => a.state === 'finished').map((a) => a.taskId).sort()).toEqual(['map-0-2', 'map-1-2']);
    expect(mock.running).toBe(0);
  }, 60_000);

  it('a message with text before the prefix is noise, so the task ends without a result and is retried', async () => {
    const { r } = await jobWithFaultyFirstAttempts((_s, g) => ['noise ' + encodeMessage(g)]);
    expect(r.canonical.equals(REFERENCE)).toBe(true);
    expect(r.attempts.filter((a) => a.state === 'failed').map((a) => a.message)).toEqual(['executor exited without a result', 'executor exited without a result']);
  });
});

describe('WordcountScheduler never throws on a malformed result that reaches it', () => {
  it('counts the attempt as failed and launches it again', () => {
    const s = new WordcountScheduler({ input: 'c', size: CORPUS.length, parallelism: 1, backend: 'mock', taskResources: { cpus: 1, mem: 1 } });
    const launched: LaunchedTask[] = [];
    let revived = 0;
    const driver: FrameworkDriver = {
      frameworkId: 'f',
      accept: (offerId, tasks) => launched.push(...tasks.map((t) => ({ ...t, frameworkId: 'f', agentId: 'a', offerId, offeredAt: 0, acceptedAt: 0 }))),
      decline: () => {}, suppress: () => {}, revive: () => void revived++, kill: () => {}, teardown: () => {}, acknowledge: () => {},
    };
    const offer = (id: string): Offer => ({ id, frameworkId: 'f', agentId: 'a', hostname: 'h', resources: { cpus: 1, mem: 1 }, backends: ['mock'], createdAt: 0 });
    s.resourceOffers(driver, [offer('o1')]);
    const bad = { type: 'result' as const, taskId: 'map-0-1', words: 1, distinct: 1, bytes: 0, countMs: 0, counts: 12 as unknown as string };
    expect(() =>
      s.statusUpdate(driver, { taskId: 'map-0-1', frameworkId: 'f', agentId: 'a', state: 'finished', uuid: 'u1', timestamp: 0, data: { backend: 'mock', requested: { cpus: 1, mem: 1 }, attributes: {}, phases: {}, result: bad } }),
    ).not.toThrow();
    expect(revived).toBe(1);
    s.resourceOffers(driver, [offer('o2')]);
    expect(launched.map((t) => t.taskId)).toEqual(['map-0-1', 'map-0-2']);
  });
});
