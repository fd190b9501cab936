import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskHandle, TaskSink, TaskSpec } from '../../src/backends/backend.js';
import { connectDocker, isNotFound } from '../../src/backends/docker/connection.js';
import { containerOptions } from '../../src/backends/docker/container-spec.js';
import { DockerBackend } from '../../src/backends/docker/docker-backend.js';
import { procStat } from '../../src/backends/proc.js';
import { decodeMessage } from '../../src/executor/protocol.js';
import { ensureImage, type ImageInfo } from '../../src/image/index.js';
import { reap } from '../../src/reaper/reaper.js';
import { LABELS, session } from '../../src/session/session.js';
import { tempDir } from '../cli/helpers.js';

const docker = (await connectDocker()).docker;

function recorder(): TaskSink & { lines: string[]; phases: Record<string, number> } {
  const lines: string[] = [];
  const phases: Record<string, number> = {};
  return { lines, phases, line: (l) => lines.push(l), phase: (n, at) => void (phases[n] ??= at) };
}

async function gone(h: TaskHandle): Promise<boolean> {
  try {
    await docker.getContainer(h.instanceId).inspect();
    return false;
  } catch (err) {
    return isNotFound(err);
  }
}

const mine = async (): Promise<string[]> =>
  (await docker.listContainers({ all: true, filters: { label: [`${LABELS.session}=${session().id}`] } })).map((c) => c.Id);

describe('docker backend (real dockerd)', () => {
  const b = new DockerBackend();
  let image: ImageInfo;
  let input: string;

  beforeAll(async () => {
    image = await ensureImage();
    input = join(tempDir(), 'in.txt');
    writeFileSync(input, 'one two  two\nthree three three\n');
  });

  afterAll(async () => {
    await session().close();
    expect(await mine()).toEqual([]);
  });

  const spec = (taskId: string, mode: TaskSpec['executor']['mode'], extra: Partial<TaskSpec> = {}): TaskSpec => ({
    taskId, resources: { cpus: 0.5, mem: 128 }, executor: { taskId, mode, input, start: 0, end: 30 }, ...extra,
  });

  it('is healthy and names the engine, storage driver, cgroup version and runtimes', async () => {
    const fp = await b.fingerprint();
    expect(fp.health).toBe('healthy');
    expect(fp.attributes).toMatchObject({ 'docker.image': image.dockerTag, 'docker.api': expect.any(String) });
    for (const k of ['docker.version', 'docker.storage', 'docker.cgroup', 'docker.runtimes']) expect(fp.attributes[k]).toBeTruthy();
  });

  it('runs a wordcount, streams the executor lines and phases, and leaves no container', async () => {
    const sink = recorder();
    const h = await b.start(spec('wc', 'wordcount'), sink);
    const exit = await b.wait(h);
    expect(exit).toMatchObject({ exitCode: 0, timedOut: false, oomKilled: false });
    const msgs = sink.lines.map(decodeMessage).filter(Boolean);
    expect(msgs.map((m) => m!.type)).toEqual(['ready', 'result', 'done']);
    expect(msgs[1]).toMatchObject({ words: 6, distinct: 3 });
    await b.destroy(h);
    await b.destroy(h);
    expect(await gone(h)).toBe(true);
    const p = sink.phases;
    expect(p.create! <= p.created! && p.created! <= p.running! && p.running! <= p.exited! && p.exited! <= p.removed!).toBe(true);
  });

  it('enforces the limits: read back from inspect, and as the container sees them', async () => {
    const sink = recorder();
    const h = await b.start(spec('limits', 'idle'), sink);
    try {
      const i = await docker.getContainer(h.instanceId).inspect();
      expect(i.HostConfig).toMatchObject({
        Memory: 128 * 2 ** 20, NanoCpus: 500_000_000, NetworkMode: 'none', ReadonlyRootfs: true, CapDrop: ['ALL'], PidsLimit: 128,
      });
      expect(i.HostConfig.SecurityOpt).toContain('no-new-privileges');
      expect(i.Config.Labels).toMatchObject({ [LABELS.session]: session().id, [LABELS.task]: 'limits', [LABELS.owned]: 'true' });
      expect(h.limits).toEqual({ cpus: true, mem: true, how: 'docker' });
      expect(i.Config.User).toBe('65534:65534');
      expect(i.Config.Labels).toMatchObject({ 'isolab.backend': 'docker' });
      for (let i = 0; i < 200 && !sink.lines.some((l) => decodeMessage(l)?.type === 'ready'); i++) await new Promise((r) => setTimeout(r, 25));
      const s = await b.stats(h);
      expect(s.memoryBytes).toBeGreaterThan(0);
      expect(s.pids!.length).toBeGreaterThanOrEqual(3);
      expect(s.pids).toContain(i.State.Pid);
      expect(s.pids!.map((p) => procStat(p)?.comm)).toEqual(expect.arrayContaining(['containerd-shim', 'docker-init', 'node']));
      await b.stop(h, 3000);
      expect(await b.wait(h)).toMatchObject({ exitCode: 0, timedOut: false });
    } finally {
      await b.destroy(h);
    }
    expect(await gone(h)).toBe(true);
  });

  it('a container built with the same options cannot write its root, has no network, sees its memory limit and runs as 65534, not root, and can read its input', async () => {
    const opts = containerOptions(spec('probe', 'idle'), {
      name: session().name('probe'), image: image.dockerTag, imageId: image.id, labels: session().labels('probe'), backend: 'docker', session: session().id,
    });
    expect(opts.User).toBe('65534:65534');
    opts.Cmd = ['/bin/sh', '-c', 'touch /x 2>/dev/null && echo rw || echo ro; ls /sys/class/net; cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max; id -u; cat /input/data >/dev/null && echo readable'];
    const c = await docker.createContainer(opts);
    try {
      const stream = await c.attach({ stream: true, stdout: true, stderr: true });
      const pass = new PassThrough();
      docker.modem.demuxStream(stream, pass, pass);
      let out = '';
      pass.on('data', (d: Buffer) => (out += d.toString()));
      const ended = new Promise((r) => stream.once('end', r));
      await c.start();
      await c.wait();
      await ended;
      const words = out.split(/\s+/).filter(Boolean);
      expect(words).toEqual(['ro', 'lo', String(128 * 2 ** 20), '65534', 'readable']);
    } finally {
      await c.remove({ force: true });
    }
  });

  it('counts an input only root may read (0600) through a world-readable copy, still as 65534', async () => {
    const secret = join(tempDir(), 'secret.txt');
    writeFileSync(secret, 'one two  two\nthree three three\n', { mode: 0o600 });
    const sink = recorder();
    const h = await b.start({ ...spec('secret', 'wordcount'), executor: { taskId: 'secret', mode: 'wordcount', input: secret, start: 0, end: 30 } }, sink);
    expect(h.attributes).toMatchObject({ 'docker.user': '65534:65534', 'docker.inputAccess': expect.stringMatching(/root only: a world-readable copy/) });
    expect(await b.wait(h)).toMatchObject({ exitCode: 0 });
    expect(sink.lines.map(decodeMessage).find((m) => m?.type === 'result')).toMatchObject({ words: 6, distinct: 3 });
    await b.destroy(h);
  });

  it('reports a crashing executor (exit 3) and removes its container', async () => {
    const h = await b.start(spec('crash', 'crash'), recorder());
    expect(await b.wait(h)).toMatchObject({ exitCode: 3, timedOut: false });
    await b.destroy(h);
    expect(await gone(h)).toBe(true);
  });

  it('kills a task past its timeout, says so, and removes its container', async () => {
    const t0 = Date.now();
    const h = await b.start(spec('hang', 'hang', { timeoutMs: 1000 }), recorder());
    const exit = await b.wait(h);
    expect(exit).toMatchObject({ timedOut: true, exitCode: null, signal: 'SIGKILL' });
    expect(Date.now() - t0).toBeLessThan(10_000);
    await b.destroy(h);
    expect(await gone(h)).toBe(true);
  });

  it('the session cleanup removes a container still running', async () => {
    const h = await b.start(spec('left', 'hang'), recorder());
    expect(await gone(h)).toBe(false);
    expect(await session().close()).toEqual([]);
    expect(await gone(h)).toBe(true);
    expect((await b.wait(h)).exitCode).not.toBe(0);
  });

  it('listOwned finds isolab containers by id (the reaper leaves its own session alone); removeOwned removes them', async () => {
    const other = `t${Date.now().toString(36)}`;
    const c = await docker.createContainer({
      name: `isolab-${other}-stray`, Image: image.dockerTag, Cmd: ['/bin/true'], HostConfig: { NetworkMode: 'none' },
      Labels: { [LABELS.owned]: 'true', [LABELS.session]: other, [LABELS.task]: 'stray' },
    });
    const own = await b.start(spec('own', 'idle'), recorder());
    try {
      const found = await b.listOwned();
      expect(found).toContainEqual({ backend: 'docker', kind: 'container', id: c.id, name: `isolab-${other}-stray`, session: other });
      expect(found).toContainEqual(expect.objectContaining({ id: own.instanceId, session: session().id }));
      expect((await reap({ backends: ['docker'], session: session().id, dryRun: true })).items).toEqual([]);
      await b.removeOwned(found.find((r) => r.session === other)!);
      await expect(c.inspect()).rejects.toMatchObject({ statusCode: 404 });
    } finally {
      await b.destroy(own);
      await c.remove({ force: true }).catch(() => {});
    }
  });
});
