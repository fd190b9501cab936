import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AccelResult } from '../../src/backends/vm/accel-probe.js';
import { LibvirtConnection } from '../../src/backends/vm/libvirt-connection.js';
import { VmBackend } from '../../src/backends/vm/vm-backend.js';
import { ensureImage } from '../../src/image/index.js';
import { sessionDir } from '../../src/session/session-lock.js';
import { generateCorpus } from '../../src/workload/corpus.js';
import { ISOLAB, isolab, tempDir } from '../cli/helpers.js';
import { runFiles } from './helpers.js';

const conn = new LibvirtConnection();
const domainsOf = async (sessionId: string): Promise<string[]> =>
  (await conn.domainNames()).filter((n) => n.startsWith(`isolab-${sessionId}-`));
/** The session's run folders and input copies; a read error other than "no run folder" fails the test. */
const filesOf = (sessionId: string): string[] => runFiles(`isolab-${sessionId}-`);
const sid = (what: string): string => `vm${what}${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;

describe.concurrent('isolab wordcount --backend vm (accelerator as probed on this host)', () => {
  let input: string;
  let accel: AccelResult;

  beforeAll(async () => {
    await ensureImage({ docker: false });
    accel = await new VmBackend().accelerator();
    input = join(tempDir(), 'small.txt');
    writeFileSync(input, generateCorpus({ bytes: 30_000, seed: 11 }));
  }, 180_000);

  for (const p of [1, 2, 3]) {
    /** P=2 runs with ISOLAB_VM_ACCEL=tcg: the accelerator is then forced, whatever the probe says (README claim). */
    const forced = p === 2;
    it(`gives the same sha256 as the process backend for P=${p}${forced ? ' (ISOLAB_VM_ACCEL=tcg)' : ''}`, async () => {
      const s = sid(`p${p}`);
      const [proc, vm] = await Promise.all([
        isolab(['wordcount', '--input', input, '-p', String(p), '--json']),
        isolab(
          ['wordcount', '--input', input, '-p', String(p), '--backend', 'vm', '--json', '--resources', 'cpus:3;mem:1024',
            '--task-resources', 'cpus:1;mem:256', '--timeout', '200'],
          { ISOLAB_SESSION: s, ...(forced ? { ISOLAB_VM_ACCEL: 'tcg' } : {}) }, 230_000,
        ),
      ]);
      expect(proc.code, proc.stderr).toBe(0);
      expect(vm.code, vm.stderr).toBe(0);
      const a = JSON.parse(proc.stdout) as { sha256: string; words: number };
      const b = JSON.parse(vm.stdout) as { sha256: string; words: number; attempts: number; retries: unknown; attributes: Record<string, string> };
      expect(b.sha256).toBe(a.sha256);
      expect(b.words).toBe(a.words);
      expect(b.attempts, `retries: ${JSON.stringify(b.retries)}`).toBe(p);
      if (forced) expect(b.attributes).toMatchObject({ 'vm.accelerator': 'tcg', 'vm.accelerator.reason': 'forced by ISOLAB_VM_ACCEL=tcg' });
      else expect(b.attributes['vm.accelerator']).toBe(accel.accelerator);
      expect(await domainsOf(s)).toEqual([]);
      expect(filesOf(s)).toEqual([]);
    }, 240_000);
  }

  it('SIGINT mid-job leaves no domain and no per-task file', async () => {
    const s = sid('int');
    const child = spawn(ISOLAB, ['wordcount', '--input', input, '-p', '2', '--backend', 'vm', '--resources', 'cpus:2;mem:1024',
      '--task-resources', 'cpus:1;mem:256'], { env: { ...process.env, ISOLAB_SESSION: s }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const closed = new Promise<number | null>((r) => child.on('close', r));
    const deadline = Date.now() + 60_000;
    while ((await domainsOf(s)).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await domainsOf(s)).not.toEqual([]);
    expect(filesOf(s)).not.toEqual([]);
    child.kill('SIGINT');
    const code = await closed;
    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(/SIGINT received, cleaning up/);
    expect(await domainsOf(s)).toEqual([]);
    expect(filesOf(s)).toEqual([]);
    expect(existsSync(sessionDir(s))).toBe(false);
  }, 120_000);
});
