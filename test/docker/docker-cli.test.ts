import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { connectDocker } from '../../src/backends/docker/connection.js';
import { ensureImage, IMAGE_LABEL } from '../../src/image/index.js';
import { LABELS } from '../../src/session/session.js';
import { stateDir } from '../../src/session/state-dir.js';
import { generateCorpus } from '../../src/workload/corpus.js';
import { ISOLAB, isolab, tempDir } from '../cli/helpers.js';

/** Containers of a session, any state, as `docker ps -a --filter label=isolab.session=<id>` lists them. */
function containersOf(sessionId: string): string[] {
  const r = spawnSync('/usr/bin/docker', ['ps', '-aq', '--filter', `label=${LABELS.session}=${sessionId}`]);
  if (r.status !== 0) throw new Error(`docker ps failed: ${r.stderr.toString()}`);
  return r.stdout.toString().split('\n').filter(Boolean);
}

const sid = (tag: string): string => `${tag}${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const UNREACHABLE = { DOCKER_HOST: 'unix:///nonexistent.sock', ISOLAB_DOCKER_SOCKETS: '' };

describe('isolab wordcount --backend docker (real dockerd)', () => {
  let dir: string;
  let input: string;

  beforeAll(async () => {
    await ensureImage();
    dir = tempDir();
    input = join(dir, 'corpus.txt');
    writeFileSync(input, generateCorpus({ bytes: 1_000_000, seed: 11 }));
  });

  it('gives the same sha256 as the process backend for P = 1, 3 and 7, and leaves no container', async () => {
    const runs = await Promise.all([1, 3, 7].flatMap((p) => ['process', 'docker'].map(async (backend) => {
      const session = sid(`s${p}`);
      const r = await isolab(['wordcount', '--input', input, '--backend', backend, '-p', String(p), '--json'], { ISOLAB_SESSION: session });
      return { p, backend, session, r };
    })));
    for (const { p, backend, session, r } of runs) {
      expect(r.stderr, `${backend} P=${p}`).toBe('');
      expect(r.code).toBe(0);
      const j = JSON.parse(r.stdout);
      expect(j).toMatchObject({ backend, parallelism: p, session });
      if (backend === 'docker') {
        expect(j.limits).toEqual({ cpus: true, mem: true, how: 'docker' });
        expect(containersOf(session)).toEqual([]);
      }
    }
    for (const p of [1, 3, 7]) {
      const [a, b] = ['process', 'docker'].map((be) => JSON.parse(runs.find((x) => x.p === p && x.backend === be)!.r.stdout).sha256);
      expect(b, `P=${p}`).toBe(a);
    }
  });

  it('a job whose tasks all time out fails (exit 1) and leaves no container', async () => {
    const session = sid('to');
    const r = await isolab(['wordcount', '--input', input, '--backend', 'docker', '--timeout', '0.05', '--max-retries', '0'], { ISOLAB_SESSION: session });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^isolab: wordcount failed: .*timed out/)]);
    expect(containersOf(session)).toEqual([]);
  });

  it('SIGINT mid-job exits 130 and leaves no container and no session record (the lock it held while running)', async () => {
    const big = join(dir, 'big.txt');
    writeFileSync(big, generateCorpus({ bytes: 20_000_000, seed: 5 }));
    const session = sid('int');
    const child = spawn(ISOLAB, ['wordcount', '--input', big, '--backend', 'docker', '-p', '12', '--task-resources', 'cpus:0.25;mem:256'], {
      env: { ...process.env, ISOLAB_SESSION: session }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const closed = new Promise<number | null>((r) => child.on('close', r));
    const deadline = Date.now() + 30_000;
    while (containersOf(session).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(containersOf(session).length).toBeGreaterThan(0);
    const record = join(stateDir(), 'sessions', session);
    expect(existsSync(join(record, 'lock'))).toBe(true);
    child.kill('SIGINT');
    expect(await closed).toBe(130);
    expect(stderr).toMatch(/SIGINT received, cleaning up/);
    expect(containersOf(session)).toEqual([]);
    expect(existsSync(record)).toBe(false);
  });

  it('with the engine unreachable: a docker run exits 2 with one clear line, doctor says docker is not usable and why', async () => {
    const r = await isolab(['wordcount', '--input', input, '--backend', 'docker'], UNREACHABLE);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^isolab: .*Docker engine not reachable \(tried DOCKER_HOST=unix:\/\/\/nonexistent\.sock: no such socket\)\n$/);
    const d = await isolab(['doctor', '--json'], UNREACHABLE);
    const fp = JSON.parse(d.stdout).docker;
    expect(fp.health).toBe('undetected');
    expect(fp.description).toMatch(/^Docker engine not reachable \(tried DOCKER_HOST=unix:\/\/\/nonexistent\.sock: no such socket\)$/);
    const text = await isolab(['doctor'], UNREACHABLE);
    expect(text.stdout).toMatch(/^docker\s+NOT usable\s+undetected\s+Docker engine not reachable/m);
  });

  it('reap --dry-run lists, and reap removes, containers and temp folders another session left', async () => {
    const other = sid('reap');
    const docker = (await connectDocker()).docker;
    const img = await ensureImage();
    await docker.createContainer({
      name: `isolab-${other}-m1`, Image: img.dockerTag, Cmd: ['/bin/true'], HostConfig: { NetworkMode: 'none' },
      Labels: { [LABELS.owned]: 'true', [LABELS.session]: other, [LABELS.task]: 'm1', [IMAGE_LABEL]: img.id },
    });
    const tmp = join(stateDir(), 'tmp', `isolab-${other}-tmp`);
    mkdirSync(tmp, { recursive: true });
    writeFileSync(join(tmp, 'left.txt'), 'x');
    const dry = await isolab(['reap', '--dry-run', '--json', '--session', other]);
    expect(dry.code).toBe(0);
    const listed = JSON.parse(dry.stdout);
    expect(listed.items).toEqual(expect.arrayContaining([
      expect.objectContaining({ backend: 'docker', kind: 'container', name: `isolab-${other}-m1`, id: expect.stringMatching(/^[0-9a-f]{64}$/), removed: false }),
      expect.objectContaining({ backend: 'files', kind: 'tmpdir', id: tmp, removed: false }),
    ]));
    expect(containersOf(other)).toHaveLength(1);
    const real = await isolab(['reap', '--session', other]);
    expect(real.code).toBe(0);
    expect(real.stdout).toMatch(/2 leftover\(s\) found, 2 removed/);
    expect(containersOf(other)).toEqual([]);
    expect(existsSync(tmp)).toBe(false);
  });
});
