import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listTaskCgroups } from '../../src/backends/process/cgroup.js';
import { ownedPids } from '../../src/backends/process/process-backend.js';
import type { ResultsFile } from '../../src/experiments/types.js';
import { spawnIsolab, tempDir } from './helpers.js';

describe('SIGINT during isolab experiment', () => {
  it('leaves a valid results.json with what finished, a report, and no leaked instance', async () => {
    const out = tempDir();
    const sessionId = `exint${Date.now().toString(36)}`;
    const state = tempDir('isolab-exint-state-');
    const sessionTmp = join(state, 'tmp', `isolab-${sessionId}-tmp`);
    const run = spawnIsolab(
      ['experiment', 'all', '--backends', 'process', '--repeat', '2', '--warmup', '0', '--series', '0', '--density-steps', '1,2,4,8,16,32',
        '--size', '0.2', '--parallelism', '1', '--throughput-repeat', '1', '--mem-budget', '4096', '--out', out],
      { ISOLAB_SESSION: sessionId, ISOLAB_STATE_DIR: state },
    );
    const deadline = Date.now() + 60_000;
    const live = (): boolean => ownedPids().some((p) => p.session === sessionId);
    // wait until the density step K=4 has its instances up, so instances are live when the signal comes
    while (Date.now() < deadline && !(run.stderr().includes('density · process · K=4 launch 1/3') && live())) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(live()).toBe(true);
    expect(existsSync(sessionTmp)).toBe(true); // the run's generated inputs live there until cleanup
    run.child.kill('SIGINT');
    const code = await run.exit;
    expect(code).toBe(130);
    expect(run.stderr()).toMatch(/SIGINT received, cleaning up/);

    const res = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ResultsFile;
    expect(res.status).toBe('interrupted');
    expect(res.statusReason).toMatch(/SIGINT/);
    const startup = res.startup.find((r) => r.backend === 'process')!;
    expect(startup.status).toBe('done');
    expect(startup.samples.filter((s) => s.ok)).toHaveLength(2);
    const density = res.density.find((r) => r.backend === 'process')!;
    expect(density.status).toBe('partial');
    expect(density.reason).toMatch(/SIGINT/);
    expect(density.steps.map((s) => s.k).slice(0, 2)).toEqual([1, 2]);
    expect(density.steps[0]!.rounds[0]!.ready).toBe(1);
    expect(density.steps[0]!.rounds).toHaveLength(3);
    expect(res.throughput).toEqual([]);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toMatch(/Status: interrupted/);

    expect(ownedPids().filter((p) => p.session === sessionId)).toEqual([]);
    expect(listTaskCgroups().filter((p) => p.includes(`isolab-${sessionId}-`))).toEqual([]);
    expect(existsSync(sessionTmp)).toBe(false);
  });
});
