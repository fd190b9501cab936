import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ownedPids } from '../../src/backends/process/process-backend.js';
import { listTaskCgroups } from '../../src/backends/process/cgroup.js';
import { generateCorpus } from '../../src/workload/corpus.js';
import { ISOLAB, tempDir } from './helpers.js';

describe('SIGINT to isolab wordcount', () => {
  it('exits 130 and leaves no executor process, cgroup or temp folder', async () => {
    const dir = tempDir();
    const input = join(dir, 'big.txt');
    writeFileSync(input, generateCorpus({ bytes: 30_000_000, seed: 3 }));
    const sessionId = `int${Date.now().toString(36)}`;
    const child = spawn(ISOLAB, ['wordcount', '--input', input, '-p', '8', '--task-resources', 'cpus:0.5;mem:256'], {
      env: { ...process.env, ISOLAB_SESSION: sessionId }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const deadline = Date.now() + 20_000;
    while (!ownedPids().some((p) => p.session === sessionId) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(ownedPids().some((p) => p.session === sessionId)).toBe(true);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code).toBe(130);
    expect(stderr).toMatch(/SIGINT received, cleaning up/);
    expect(ownedPids().filter((p) => p.session === sessionId)).toEqual([]);
    expect(listTaskCgroups().filter((p) => p.includes(`isolab-${sessionId}-`))).toEqual([]);
    expect(existsSync(join('/var/lib/isolab/tmp', `isolab-${sessionId}-tmp`))).toBe(false);
  });
});
