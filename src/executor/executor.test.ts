import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateCorpus } from '../workload/corpus.js';
import { canonicalBytes, tableToCounts } from '../workload/counts.js';
import { countRange } from '../workload/word-table.js';
import { executorPath } from './paths.js';
import { decodeMessage, type ExecutorTask, type ResultMessage } from './protocol.js';
import { decodeResultCounts } from './result-counts.js';

const data = generateCorpus({ bytes: 300_000, seed: 31 });
const input = join(mkdtempSync(join(tmpdir(), 'isolab-executor-')), 'in.txt');
writeFileSync(input, data);

function run(task: ExecutorTask): { messages: ReturnType<typeof decodeMessage>[]; status: number | null } {
  const r = spawnSync(process.execPath, [executorPath(), JSON.stringify(task)], { encoding: 'utf8', maxBuffer: 1 << 26 });
  return { messages: r.stdout.split('\n').filter(Boolean).map(decodeMessage), status: r.status };
}

describe('the executor (built dist/executor/main.js)', () => {
  it.each([
    [undefined, 'canonical'],
    [50e6, 'canonical'],
    [210_000, 'canonical+gzip'],
  ] as const)('with outputBytesPerSecond %s sends its counts as %s, exact and checkable', (rate, encoding) => {
    const task: ExecutorTask = { taskId: 't1', mode: 'wordcount', input, start: 1000, end: 200_000, size: data.length, outputBytesPerSecond: rate };
    const { messages, status } = run(task);
    expect(status).toBe(0);
    expect(messages.map((m) => m?.type)).toEqual(['ready', 'result', 'done']);
    const result = messages[1] as ResultMessage;
    expect(result.encoding).toBe(encoding);
    expect(Object.keys(result.stagesMs ?? {})).toEqual(['read', 'count', 'sort', 'encode']);
    const c = decodeResultCounts(result, task);
    expect(c.canonical.equals(canonicalBytes(tableToCounts(countRange(data, 1000, 200_000))))).toBe(true);
  });

  it('refuses an input shorter than the size it is told to count', () => {
    const { messages, status } = run({ taskId: 't2', mode: 'wordcount', input, start: 0, end: 10, size: data.length + 1 });
    expect(status).toBe(1);
    expect(messages.at(-1)).toMatchObject({ type: 'error', message: expect.stringMatching(/fewer than the \d+ to count/) });
  });
});
