import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { listTaskCgroups } from '../../src/backends/process/cgroup.js';
import { markedProcesses } from '../../src/backends/process/owned.js';
import { generateCorpus } from '../../src/workload/corpus.js';
import { ISOLAB, isolab } from '../cli/helpers.js';
import { alive, killChild, testSession } from './helpers.js';

const state = mkdtempSync(join(tmpdir(), 'isolab-reap-cli-'));
const env = { ISOLAB_STATE_DIR: state };
let input: string;
beforeAll(() => {
  input = join(state, 'big.txt');
  writeFileSync(input, generateCorpus({ bytes: 30_000_000, seed: 9 }));
});

const started: ChildProcess[] = [];
afterEach(async () => {
  for (const c of started.splice(0)) await killChild(c);
});

const executorsOf = (s: string): number[] => markedProcesses().filter((p) => p.session === s).map((p) => p.pid);
const cgroupsOf = (s: string): string[] => listTaskCgroups().filter((p) => p.includes(`/isolab-${s}-`));

/** `isolab wordcount` on the big input with slow tasks (2% of a core each, so they count for well over 10 s), as session `s`; resolves once its executors run. */
async function running(s: string): Promise<ChildProcess> {
  const child = spawn(ISOLAB, ['wordcount', '--input', input, '-p', '3', '--task-resources', 'cpus:0.02;mem:256', '--max-retries', '0'], {
    env: { ...process.env, ...env, ISOLAB_SESSION: s }, stdio: 'ignore',
  });
  started.push(child);
  // three executors seen in five polls in a row: a process caught while it is being spawned can
  // carry the marker for a moment and make an early count reach three
  const deadline = Date.now() + 20_000;
  for (let stable = 0; stable < 5 && Date.now() < deadline; ) {
    stable = executorsOf(s).length === 3 ? stable + 1 : 0;
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(executorsOf(s)).toHaveLength(3);
  return child;
}

describe('isolab reap (CLI) with process-backend executors', () => {
  it('a bad --session or ISOLAB_SESSION is a usage error: one line, exit 2', async () => {
    const r = await isolab(['reap', '--session', 'NOT-valid', '--dry-run'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('isolab: --session "NOT-valid" is not a valid session id (4 to 32 of a-z and 0-9)\n');
    const w = await isolab(['wordcount', '--input', '/etc/hostname'], { ...env, ISOLAB_SESSION: 'a/../b' });
    expect(w.code).toBe(2);
    expect(w.stderr).toBe('isolab: ISOLAB_SESSION "a/../b" is not a valid session id (4 to 32 of a-z and 0-9)\n');
  });

  it('leaves a running session alone and says so; --force takes its executors', async () => {
    const s = testSession('rclive');
    const cli = await running(s);
    const pids = executorsOf(s);
    const r = await isolab(['reap', '--session', s], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^session ${s} is running \\(pid ${cli.pid}, since [^)]+\\): its \\d+ resource\\(s\\) left alone \\(--force removes them\\)$`, 'm'));
    expect(r.stdout).toMatch(/^0 leftover\(s\) found, 0 removed; \d+ skipped$/m);
    expect(pids.filter(alive)).toEqual(pids);
    const f = await isolab(['reap', '--session', s, '--backend', 'process', '--force', '--json'], env);
    expect(f.code, f.stderr).toBe(0);
    const j = JSON.parse(f.stdout) as { force: boolean; live: { session: string }[]; items: { kind: string; removed: boolean }[] };
    expect(j.force).toBe(true);
    expect(j.live.map((l) => l.session)).toEqual([s]);
    expect(j.items.filter((i) => i.kind === 'process' && i.removed).length).toBeGreaterThanOrEqual(3);
    for (let i = 0; i < 100 && pids.some(alive); i++) await new Promise((x) => setTimeout(x, 20));
    expect(pids.filter(alive)).toEqual([]);
  }, 60_000);

  it('after the CLI is SIGKILLed (no cleanup), reap --backend process removes its executors and cgroups, and --backend files its records', async () => {
    const s = testSession('rckill');
    const cli = await running(s);
    const pids = executorsOf(s);
    const groups = cgroupsOf(s);
    await killChild(cli);
    expect(pids.filter(alive)).toEqual(pids);
    const dry = await isolab(['reap', '--session', s, '--backend', 'process', '--dry-run', '--json'], env);
    expect(dry.code, dry.stderr).toBe(0);
    const listed = JSON.parse(dry.stdout) as { live: unknown[]; items: { backend: string; kind: string; id: string; removed: boolean }[] };
    expect(listed.live).toEqual([]);
    expect(listed.items.every((i) => i.backend === 'process' && !i.removed)).toBe(true);
    expect(listed.items.filter((i) => i.kind === 'process').map((i) => Number(i.id.split('@')[0])).sort()).toEqual([...pids].sort());
    expect(listed.items.filter((i) => i.kind === 'cgroup').map((i) => i.id).sort()).toEqual([...groups].sort());
    const r = await isolab(['reap', '--session', s, '--backend', 'process'], env);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${pids.length + groups.length} leftover\\(s\\) found, ${pids.length + groups.length} removed$`, 'm'));
    for (let i = 0; i < 100 && pids.some(alive); i++) await new Promise((x) => setTimeout(x, 20));
    expect(pids.filter(alive)).toEqual([]);
    expect(cgroupsOf(s)).toEqual([]);
    const records = join(state, 'sessions', s);
    expect(existsSync(records)).toBe(true);
    const files = await isolab(['reap', '--session', s, '--backend', 'files', '--json'], env);
    const fj = JSON.parse(files.stdout) as { items: { backend: string; kind: string; removed: boolean }[] };
    expect(fj.items.map((i) => [i.backend, i.kind, i.removed])).toEqual(expect.arrayContaining([['files', 'session', true]]));
    expect(fj.items.every((i) => i.backend === 'files')).toBe(true);
    expect(existsSync(records)).toBe(false);
  }, 60_000);
});
