import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskHandle, TaskSink, TaskSpec } from '../../src/backends/backend.js';
import { connectDocker, isNotFound } from '../../src/backends/docker/connection.js';
import { containerOptions, type ContainerParams } from '../../src/backends/docker/container-spec.js';
import { DockerBackend } from '../../src/backends/docker/docker-backend.js';
import { endRuntimeTask, runtimeTaskOf, runtimeTasks } from '../../src/backends/docker/runtime-leftovers.js';
import { GVISOR_DESCRIPTOR } from '../../src/backends/gvisor/descriptor.js';
import { procArgs } from '../../src/backends/proc.js';
import { registry } from '../../src/backends/registry.js';
import { decodeMessage } from '../../src/executor/protocol.js';
import { ensureImage, type ImageInfo } from '../../src/image/index.js';
import { LABELS, session } from '../../src/session/session.js';
import { tempDir } from '../cli/helpers.js';
import { fingerprint, gvisor as b, leaveFailedStart, processesOf, sid, skipReason, title } from './helpers.js';

function recorder(): TaskSink & { lines: string[]; phases: Record<string, number> } {
  const lines: string[] = [];
  const phases: Record<string, number> = {};
  return { lines, phases, line: (l) => lines.push(l), phase: (n, at) => void (phases[n] ??= at) };
}

/** The gvisor backend with a container whose executable does not exist: runsc creates it, then fails to start it. */
class FailingStart extends DockerBackend {
  protected override createOptions(spec: TaskSpec, params: ContainerParams): Docker.ContainerCreateOptions {
    const o = super.createOptions(spec, params);
    return { ...o, Cmd: ['/nonexistent/executor'], HostConfig: { ...o.HostConfig, Init: false } };
  }
}

describe.skipIf(skipReason !== undefined)(title('gvisor backend (real dockerd, runsc)'), () => {
  let docker: Docker;
  let image: ImageInfo;
  let input: string;

  beforeAll(async () => {
    expect(fingerprint.health, fingerprint.description).toBe('healthy');
    docker = (await connectDocker()).docker;
    image = await ensureImage();
    input = join(tempDir(), 'in.txt');
    writeFileSync(input, 'one two  two\nthree three three\n');
  });

  afterAll(async () => {
    await session().close();
  });

  const spec = (taskId: string, mode: TaskSpec['executor']['mode'], extra: Partial<TaskSpec> = {}): TaskSpec => ({
    taskId, resources: { cpus: 0.5, mem: 128 }, executor: { taskId, mode, input, start: 0, end: 30 }, ...extra,
  });

  async function gone(h: TaskHandle): Promise<boolean> {
    try {
      await docker.getContainer(h.instanceId).inspect();
      return false;
    } catch (err) {
      return isNotFound(err);
    }
  }

  it('is the docker backend on runsc: its fingerprint names runsc\'s version, its platform and that dockerd knows it', () => {
    expect(b).toBeInstanceOf(DockerBackend);
    expect(b.descriptor).toBe(GVISOR_DESCRIPTOR);
    expect(b.runtime).toBe('runsc');
    expect(fingerprint.attributes).toMatchObject({
      'docker.runtime': 'runsc', 'docker.runtime.known': 'true', 'docker.runtime.version': expect.stringMatching(/\d/),
      'gvisor.platform': expect.stringMatching(/^(ptrace|kvm|systrap)$/), 'gvisor.network': 'none',
    });
    expect(fingerprint.description).toMatch(/runtime runsc \S+ \(platform \w+\)/);
  });

  it('runs a wordcount, streams the executor lines and phases, and leaves no container and no runsc process', async () => {
    const sink = recorder();
    const h = await b.start(spec('wc', 'wordcount'), sink);
    expect(await b.wait(h)).toMatchObject({ exitCode: 0, timedOut: false, oomKilled: false });
    const msgs = sink.lines.map(decodeMessage).filter(Boolean);
    expect(msgs.map((m) => m!.type)).toEqual(['ready', 'result', 'done']);
    expect(msgs[1]).toMatchObject({ words: 6, distinct: 3 });
    await b.destroy(h);
    expect(await gone(h)).toBe(true);
    expect(runtimeTaskOf(h.instanceId)).toBeUndefined();
    expect(processesOf([h.instanceId])).toEqual([]);
  });

  it('locks the sandbox down like a container: limits read back from inspect; host stats count runsc-sandbox and runsc-gofer', async () => {
    const sink = recorder();
    const h = await b.start(spec('limits', 'idle'), sink);
    try {
      const i = await docker.getContainer(h.instanceId).inspect();
      expect(i.HostConfig).toMatchObject({
        Runtime: 'runsc', Memory: 128 * 2 ** 20, NanoCpus: 500_000_000, NetworkMode: 'none', ReadonlyRootfs: true, CapDrop: ['ALL'], PidsLimit: 256,
      });
      expect(i.HostConfig.SecurityOpt).toContain('no-new-privileges');
      expect(i.Config.User).toBe('65534:65534');
      expect(i.Config.Labels).toMatchObject({ [LABELS.session]: session().id, [LABELS.owned]: 'true', 'isolab.backend': 'gvisor' });
      expect(h.limits).toEqual({ cpus: true, mem: true, how: 'docker, runtime runsc' });
      expect(h.attributes).toMatchObject({ 'docker.runtime': 'runsc', 'docker.memory': String(128 * 2 ** 20), 'docker.pidsLimit': '256' });
      for (let n = 0; n < 400 && !sink.lines.some((l) => decodeMessage(l)?.type === 'ready'); n++) await new Promise((r) => setTimeout(r, 25));
      const s = await b.stats(h);
      const exes = s.pids!.map((p) => (procArgs(p) ?? [])[0] ?? '');
      expect(exes).toEqual(expect.arrayContaining(['runsc-sandbox', 'runsc-gofer']));
      expect(exes.some((e) => e.includes('containerd-shim'))).toBe(true);
      expect(s.pids).not.toContain(1);
      expect(s.memoryBytes).toBeGreaterThan(0);
      expect(s.cpuMs).toBeGreaterThan(0);
      await b.stop(h, 3000);
      expect(await b.wait(h)).toMatchObject({ exitCode: 0, timedOut: false });
    } finally {
      await b.destroy(h);
    }
    expect(await gone(h)).toBe(true);
    expect(processesOf([h.instanceId])).toEqual([]);
  });

  it('inside the sandbox: gVisor\'s kernel (uname -r 4.4.0), a read-only root, uid 65534, its memory limit, no network, a readable input', async () => {
    const params: ContainerParams = {
      name: session().name('probe'), image: image.dockerTag, imageId: image.id, labels: session().labels('probe'), backend: 'gvisor',
      session: session().id, runtime: 'runsc',
    };
    const opts = containerOptions(spec('probe', 'idle'), params);
    opts.Cmd = ['/bin/sh', '-c', 'uname -r; touch /x 2>/dev/null && echo rw || echo ro; id -u; grep MemTotal /proc/meminfo; ls /sys/class/net; cat /input/data >/dev/null && echo readable'];
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
      expect(out.split('\n').filter(Boolean)).toEqual(['4.4.0', 'ro', '65534', `MemTotal:         ${128 * 1024} kB`, 'lo', 'readable']);
    } finally {
      await c.remove({ force: true });
    }
  });

  it('reports a crashing executor (exit 3) and leaves no container and no runsc process', async () => {
    const h = await b.start(spec('crash', 'crash'), recorder());
    expect(await b.wait(h)).toMatchObject({ exitCode: 3, timedOut: false });
    await b.destroy(h);
    expect(await gone(h)).toBe(true);
    expect(processesOf([h.instanceId])).toEqual([]);
  });

  it('kills a task past its timeout, says so, and leaves no container and no runsc process', async () => {
    const t0 = Date.now();
    const h = await b.start(spec('hang', 'hang', { timeoutMs: 1500 }), recorder());
    expect(await b.wait(h)).toMatchObject({ timedOut: true, exitCode: null, signal: 'SIGKILL' });
    expect(Date.now() - t0).toBeLessThan(20_000);
    await b.destroy(h);
    expect(await gone(h)).toBe(true);
    expect(processesOf([h.instanceId])).toEqual([]);
  });

  it('a start runsc refuses (no such executable) fails with the reason and leaves no container, shim, sandbox or gofer', async () => {
    const failing = new FailingStart({ descriptor: GVISOR_DESCRIPTOR, runtime: 'runsc', pidsLimit: 256 });
    const mine = (): string[] => runtimeTasks().filter((t) => t.session === session().id).map((t) => t.containerId);
    expect(mine()).toEqual([]);
    const err = await failing.start(spec('nostart', 'idle'), { line: () => {}, phase: () => {} }).catch((e: unknown) => e as Error);
    expect((err as Error).message).toMatch(/^docker start isolab-\w+-nostart \(runtime runsc\): .*\/nonexistent\/executor/);
    expect(await docker.listContainers({ all: true, filters: { label: [`${LABELS.session}=${session().id}`, `${LABELS.task}=nostart`] } })).toEqual([]);
    expect(mine()).toEqual([]);
  });

  it('the session cleanup removes a running sandbox and its runsc processes', async () => {
    const h = await b.start(spec('left', 'hang'), recorder());
    expect(await gone(h)).toBe(false);
    expect(processesOf([h.instanceId]).length).toBeGreaterThanOrEqual(3);
    expect(await session().close()).toEqual([]);
    expect(await gone(h)).toBe(true);
    expect(processesOf([h.instanceId])).toEqual([]);
  });

  it('lists runtime processes a failed start of another session left (by container id and bundle), and ends them; docker leaves them to gvisor', async () => {
    const other = sid('orph');
    const id = await leaveFailedStart(docker, image, other);
    try {
      expect(processesOf([id]).length).toBeGreaterThan(0);
      const found = await b.listOwned();
      expect(found).toContainEqual({ backend: 'gvisor', kind: 'runtime-task', id, session: other });
      const dockerBackend = await registry.get('docker');
      expect((await dockerBackend.listOwned()).some((r) => r.id === id)).toBe(false);
      await b.removeOwned(found.find((r) => r.id === id)!);
      expect(processesOf([id])).toEqual([]);
      expect((await b.listOwned()).some((r) => r.id === id)).toBe(false);
    } finally {
      const t = runtimeTaskOf(id);
      if (t) await endRuntimeTask(t);
    }
  });
});
