import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ownedPids } from '../../src/backends/process/process-backend.js';
import { listTaskCgroups } from '../../src/backends/process/cgroup.js';
import { sha256Hex } from '../../src/workload/counts.js';
import { generateCorpus } from '../../src/workload/corpus.js';
import { referenceCounts, startIsolab, tempDir } from './helpers.js';

/** Peak resident memory (kB) of a process, polled from /proc until it exits. */
function watchPeakRss(pid: number): { stop(): number } {
  let peak = 0;
  const t = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]));
    } catch {
      /* gone */
    }
  }, 20);
  return { stop: () => (clearInterval(t), peak) };
}

describe('misbehaving executors on the process backend (test-only ISOLAB_TEST_EXECUTOR_FAULT)', () => {
  let input: string;
  let expected: string;
  beforeAll(() => {
    input = join(tempDir(), 'corpus.txt');
    writeFileSync(input, generateCorpus({ bytes: 1_000_000, seed: 12 }));
    expected = sha256Hex(referenceCounts(input));
  });

  it.each([
    ['long-line', 'a 100 MB line'],
    ['gzip-bomb', 'a gzip bomb'],
    ['lying-size', 'a size field that lies'],
    ['other-task', 'a result for another task id'],
    ['malformed-counts', 'malformed counts'],
    ['prefix-noise', 'text before the message prefix'],
  ])('%s (%s): that task fails and is retried, the result is exact, nothing is left', async (fault) => {
    const sessionId = `proto${fault.replace(/-/g, '').slice(0, 8)}${Date.now().toString(36)}`;
    const run = startIsolab(['wordcount', '--input', input, '-p', '2', '--json'], {
      ISOLAB_SESSION: sessionId, ISOLAB_TEST_EXECUTOR_FAULT: `${fault}@map-0-1`,
    });
    const rss = watchPeakRss(run.child.pid!);
    const r = await run.done;
    const peakKb = rss.stop();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.sha256).toBe(expected);
    expect(j).toMatchObject({ attempts: 3, retries: 1 });
    expect(ownedPids().filter((p) => p.session === sessionId)).toEqual([]);
    expect(listTaskCgroups().filter((p) => p.includes(`isolab-${sessionId}-`))).toEqual([]);
    // the CLI never holds a whole 100 MB line (or a 64 MB inflated bomb): its peak stays far below that
    if (fault === 'long-line' || fault === 'gzip-bomb') expect(peakKb).toBeLessThan(200_000);
  }, 120_000);
});
