import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ownedPids } from '../../src/backends/process/process-backend.js';
import { listTaskCgroups } from '../../src/backends/process/cgroup.js';
import { generateCorpus } from '../../src/workload/corpus.js';
import { startIsolab, tempDir, until } from './helpers.js';

describe('a signal to isolab wordcount', () => {
  const input = join(tempDir(), 'big.txt');
  writeFileSync(input, generateCorpus({ bytes: 30_000_000, seed: 3 }));

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s: cleans up, then exits %i: no executor process, cgroup, or --output temp file is left', async (sig, exitCode) => {
    const dir = tempDir();
    const out = join(dir, 'counts.tsv');
    const state = tempDir('isolab-state-');
    const sessionId = `sig${sig.slice(3, 6).toLowerCase()}${Date.now().toString(36)}`;
    const run = startIsolab(['wordcount', '--input', input, '-p', '8', '--task-resources', 'cpus:0.5;mem:256', '--output', out], {
      ISOLAB_SESSION: sessionId, ISOLAB_STATE_DIR: state,
    });
    const live = (): boolean => ownedPids().some((p) => p.session === sessionId);
    const tmpFiles = (): string[] => readdirSync(dir).filter((f) => f.startsWith('.counts.tsv.') && f.endsWith('.tmp'));
    expect(await until(() => live() && tmpFiles().length === 1, 30_000)).toBe(true);
    run.child.kill(sig);
    const r = await run.done;
    expect(r.code).toBe(exitCode);
    expect(r.stderr).toMatch(new RegExp(`^isolab: ${sig} received, cleaning up\n`));
    expect(ownedPids().filter((p) => p.session === sessionId)).toEqual([]);
    expect(listTaskCgroups().filter((p) => p.includes(`isolab-${sessionId}-`))).toEqual([]);
    expect(tmpFiles()).toEqual([]);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(state).flatMap((d) => (d === 'tmp' ? readdirSync(join(state, d)) : [d])).filter((f) => f.includes(sessionId))).toEqual([]);
  });
});
