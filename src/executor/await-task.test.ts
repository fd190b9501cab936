import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateCorpus } from '../workload/corpus.js';
import { canonicalBytes, tableToCounts } from '../workload/counts.js';
import { countRange } from '../workload/word-table.js';
import { decodeDelivery, encodeDelivery, RESTORED_MARKER, WAITING_MARKER, type TaskDelivery } from './await-task.js';
import { executorPath } from './paths.js';
import { decodeMessage, type ResultMessage } from './protocol.js';
import { decodeResultCounts } from './result-counts.js';

describe('a waiting executor (--await-task, as in a snapshot template)', () => {
  it('encodes and decodes a delivery; refuses a malformed one', () => {
    const d: TaskDelivery = { task: { taskId: 'a', mode: 'idle' }, epochMs: 1_700_000_000_000, entropy: 'AAEC', refresh: true };
    expect(decodeDelivery(encodeDelivery(d))).toEqual(d);
    expect(() => decodeDelivery(Buffer.from('{"task":{}}').toString('base64url'))).toThrow();
  });

  it('says it waits, reads its task from standard input, says it was restored, then runs it exactly (no guest refresh on a host)', () => {
    const data = generateCorpus({ bytes: 50_000, seed: 7 });
    const input = join(mkdtempSync(join(tmpdir(), 'isolab-await-')), 'in.txt');
    writeFileSync(input, data);
    const task = { taskId: 'w1', mode: 'wordcount' as const, input, start: 0, end: data.length, size: data.length };
    const line = encodeDelivery({ task, epochMs: Date.now(), entropy: 'AAEC', refresh: false });
    const r = spawnSync(process.execPath, [executorPath(), '--await-task'], { input: `${line}\n`, encoding: 'utf8', maxBuffer: 1 << 24 });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.split('\n').filter(Boolean);
    expect(lines[0]).toMatch(new RegExp(`^${WAITING_MARKER} uptime=`));
    expect(lines[1]).toMatch(new RegExp(`^${RESTORED_MARKER} clockStepMs=0 uptime=`));
    const messages = lines.slice(2).map(decodeMessage);
    expect(messages.map((m) => m?.type)).toEqual(['ready', 'result', 'done']);
    const c = decodeResultCounts(messages[1] as ResultMessage, task);
    expect(c.canonical.equals(canonicalBytes(tableToCounts(countRange(data, 0, data.length))))).toBe(true);
  });

  it('fails with one line when standard input ends before a task came', () => {
    const r = spawnSync(process.execPath, [executorPath(), '--await-task'], { input: '', encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/standard input ended before a task was delivered/);
  });
});
