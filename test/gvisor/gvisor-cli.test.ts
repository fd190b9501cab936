import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { connectDocker } from '../../src/backends/docker/connection.js';
import { runtimeTasks } from '../../src/backends/docker/runtime-leftovers.js';
import { ensureImage } from '../../src/image/index.js';
import { stateDir } from '../../src/session/state-dir.js';
import { generateCorpus } from '../../src/workload/corpus.js';
import { ISOLAB, isolab, referenceCounts, tempDir } from '../cli/helpers.js';
import { containersOf, leaveFailedStart, processesOf, sid, skipReason, title } from './helpers.js';

/** Runtime tasks (shim, runsc-sandbox, runsc-gofer) whose OCI bundle names this session. */
const runtimeOf = (session: string): string[] => runtimeTasks().filter((t) => t.session === session).map((t) => t.containerId);

/**
 * A corpus with the hard cases: CR, VT and FF as separators, NUL and invalid UTF-8 inside words,
 * a 1.5 MB line (no newline in it), a 300 kB word, and no trailing newline.
 */
function hardCorpus(): Buffer {
  const parts: Buffer[] = [generateCorpus({ bytes: 400_000, seed: 21 })];
  parts.push(Buffer.from('\ncr\rcr\r\nvt\vvt ff\fff\t\ttab\n'));
  parts.push(Buffer.from([0x6e, 0x75, 0x6c, 0x00, 0x6c, 0x20, 0x00, 0x0a]));
  parts.push(Buffer.from([0xff, 0xfe, 0x20, 0xc3, 0x28, 0x20, 0xe2, 0x82, 0x20, 0xf0, 0x9f, 0x98, 0x0a]));
  const longLine = generateCorpus({ bytes: 1_500_000, seed: 22 }).toString('latin1').replace(/\n/g, ' ');
  parts.push(Buffer.from(longLine, 'latin1'), Buffer.from('\n'));
  parts.push(Buffer.alloc(300_000, 0x61), Buffer.from(' '));
  parts.push(generateCorpus({ bytes: 200_000, seed: 23 }));
  parts.push(Buffer.from(' last-word-no-newline'));
  return Buffer.concat(parts);
}

describe.skipIf(skipReason !== undefined)(title('isolab wordcount --backend gvisor (real dockerd, runsc)'), () => {
  let dir: string;
  let input: string;

  beforeAll(async () => {
    await ensureImage();
    dir = tempDir();
    input = join(dir, 'hard.txt');
    const corpus = hardCorpus();
    expect(corpus.includes(0x0b) && corpus.includes(0x0c) && corpus.includes(0x0d) && corpus.includes(0x00)).toBe(true);
    expect(corpus[corpus.length - 1]).not.toBe(0x0a);
    writeFileSync(input, corpus);
  });

  it('gives the same sha256 as the process backend (and the Python oracle) for P = 1, 3 and 7 on the hard cases, and leaves nothing', async () => {
    const oracle = referenceCounts(input);
    for (const p of [1, 3, 7]) {
      const sessions = { process: sid(`hp${p}`), gvisor: sid(`hg${p}`) };
      const [proc, gv] = await Promise.all((['process', 'gvisor'] as const).map((backend) =>
        isolab(['wordcount', '--input', input, '--backend', backend, '-p', String(p), '--json', '--output', join(dir, `${backend}-${p}.tsv`)],
          { ISOLAB_SESSION: sessions[backend] }, 240_000)));
      expect(proc!.code, proc!.stderr).toBe(0);
      expect(gv!.code, gv!.stderr).toBe(0);
      expect(gv!.stderr).toBe('');
      const a = JSON.parse(proc!.stdout);
      const b = JSON.parse(gv!.stdout);
      expect(b).toMatchObject({ backend: 'gvisor', parallelism: p, attempts: p, limits: { cpus: true, mem: true, how: 'docker, runtime runsc' } });
      expect(b.attributes).toMatchObject({ 'docker.runtime': 'runsc', 'docker.user': '65534:65534' });
      expect(b.sha256, `P=${p}`).toBe(a.sha256);
      expect(b.words).toBe(a.words);
      expect(readFileSync(join(dir, `gvisor-${p}.tsv`)).equals(oracle)).toBe(true);
      expect(containersOf(sessions.gvisor)).toEqual([]);
      expect(runtimeOf(sessions.gvisor)).toEqual([]);
    }
  }, 600_000);

  it('a job whose tasks all time out fails (exit 1) and leaves no container and no runsc process', async () => {
    const session = sid('gto');
    const r = await isolab(['wordcount', '--input', input, '--backend', 'gvisor', '--timeout', '0.05', '--max-retries', '0'], { ISOLAB_SESSION: session });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^isolab: wordcount failed: .*timed out/)]);
    expect(containersOf(session)).toEqual([]);
    expect(runtimeOf(session)).toEqual([]);
  });

  it('SIGINT mid-job exits 130 and leaves no container, no runsc process and no temp folder', async () => {
    const big = join(dir, 'big.txt');
    writeFileSync(big, generateCorpus({ bytes: 20_000_000, seed: 5 }));
    const session = sid('gint');
    const child = spawn(ISOLAB, ['wordcount', '--input', big, '--backend', 'gvisor', '-p', '6', '--task-resources', 'cpus:0.25;mem:256'], {
      env: { ...process.env, ISOLAB_SESSION: session }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const closed = new Promise<number | null>((r) => child.on('close', r));
    const seen = new Set<string>();
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      for (const id of containersOf(session)) seen.add(id);
      if (processesOf(seen).some((p) => p.includes('runsc-sandbox'))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(processesOf(seen).length).toBeGreaterThan(0);
    child.kill('SIGINT');
    expect(await closed).toBe(130);
    expect(stderr).toMatch(/SIGINT received, cleaning up/);
    for (const id of containersOf(session)) seen.add(id);
    expect(containersOf(session)).toEqual([]);
    expect(processesOf(seen)).toEqual([]);
    expect(runtimeOf(session)).toEqual([]);
    expect(existsSync(join(stateDir(), 'tmp', `isolab-${session}-tmp`))).toBe(false);
  }, 120_000);

  it('reap --dry-run lists, and reap removes, a sandbox container and the runsc processes of a failed start another session left', async () => {
    const docker = (await connectDocker()).docker;
    const img = await ensureImage();
    const other = sid('greap');
    const c = await docker.createContainer({
      name: `isolab-${other}-m1`, Image: img.dockerTag, Cmd: ['/bin/true'], HostConfig: { NetworkMode: 'none', Runtime: 'runsc' },
      Labels: { 'isolab.owned': 'true', 'isolab.session': other, 'isolab.task': 'm1', 'isolab.backend': 'gvisor', 'isolab.image': img.id },
    });
    const failed = await leaveFailedStart(docker, img, other);
    expect(processesOf([failed]).length).toBeGreaterThan(0);
    const tmp = join(stateDir(), 'tmp', `isolab-${other}-tmp`);
    mkdirSync(tmp, { recursive: true });
    const dry = await isolab(['reap', '--dry-run', '--json', '--session', other]);
    expect(dry.code, dry.stderr).toBe(0);
    const items = JSON.parse(dry.stdout).items as { backend: string; kind: string; id: string }[];
    expect(items).toEqual(expect.arrayContaining([
      expect.objectContaining({ backend: 'gvisor', kind: 'container', removed: false }),
      expect.objectContaining({ backend: 'gvisor', kind: 'runtime-task', id: failed, removed: false }),
    ]));
    expect(items.filter((i) => i.backend === 'docker')).toEqual([]);
    expect(processesOf([failed]).length).toBeGreaterThan(0);
    const real = await isolab(['reap', '--session', other]);
    expect(real.code, real.stdout + real.stderr).toBe(0);
    expect(real.stdout).toMatch(/3 leftover\(s\) found, 3 removed/);
    expect(containersOf(other)).toEqual([]);
    expect(processesOf([failed, c.id])).toEqual([]);
    expect(existsSync(tmp)).toBe(false);
  }, 120_000);
});

describe('gvisor on a machine without runsc (injected: ISOLAB_GVISOR_RUNTIME names a runtime dockerd does not know)', () => {
  const MISSING = { ISOLAB_GVISOR_RUNTIME: 'isolab-no-such-runsc' };
  const why = /^dockerd does not know the runtime isolab-no-such-runsc: isolab-no-such-runsc is not installed \(Debian package runsc; scripts\/setup\.sh installs it and registers it with dockerd\)$/;

  it('doctor says gvisor is not usable and why, in one line, and still exits 0', async () => {
    const d = await isolab(['doctor', '--json'], MISSING);
    expect(d.code).toBe(0);
    const fp = JSON.parse(d.stdout).gvisor;
    expect(fp.health).toBe('undetected');
    expect(fp.description).toMatch(why);
    expect(fp.descriptor).toMatchObject({ kind: 'sandbox', boundary: 'user-space-kernel' });
    const text = await isolab(['doctor'], MISSING);
    expect(text.stdout).toMatch(/^gvisor\s+NOT usable\s+undetected\s+dockerd does not know the runtime isolab-no-such-runsc: /m);
  });

  it('wordcount --backend gvisor exits 2 with one clear line; an experiment reports gvisor as SKIPPED with the reason', async () => {
    const input = join(tempDir(), 'small.txt');
    writeFileSync(input, 'a b c\n');
    const r = await isolab(['wordcount', '--input', input, '--backend', 'gvisor'], MISSING);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^isolab: backend gvisor is not usable: dockerd does not know the runtime isolab-no-such-runsc: .*\n$/);
    const out = tempDir();
    const e = await isolab(['experiment', 'startup', '--backends', 'gvisor,process', '--repeat', '1', '--warmup', '0', '--out', out], MISSING, 120_000);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stderr).toMatch(/backend gvisor SKIPPED: undetected: dockerd does not know the runtime isolab-no-such-runsc/);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toMatch(/\| gVisor[^|]* +\| SKIPPED: undetected: dockerd does not know the runtime isolab-no-such-runsc/);
    expect(md).toMatch(/Skipped or incomplete: gVisor[^;]* was not measured at all \(undetected: dockerd does not know the runtime isolab-no-such-runsc/);
  }, 120_000);
});
