import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { splitLines } from '../../executor/line-splitter.js';
import { maxMessageBytes } from '../../executor/protocol.js';
import { dockerImageId } from '../../image/docker-image.js';
import { currentImage, type ImageInfo } from '../../image/index.js';
import { LABELS, session } from '../../session/session.js';
import type {
  Backend, ExitResult, Fingerprint, LimitsEnforced, OwnedResource, TaskHandle, TaskSink, TaskSpec, TaskStats,
} from '../backend.js';
import { dockerConnection, isNotFound, type DockerConnection } from './connection.js';
import { containerOptions } from './container-spec.js';

interface ContainerState {
  name: string;
  sink: TaskSink;
  docker: Docker;
  creating?: Promise<Docker.Container | undefined>;
  container?: Docker.Container;
  exit?: Promise<ExitResult>;
  timedOut: boolean;
  timer?: NodeJS.Timeout;
  removeCleanup: () => void;
  removal?: Promise<void>;
}

/** The image tasks run in: its manifest and the engine's id for it. */
interface ReadyImage {
  info: ImageInfo;
  imageId: string;
}

const now = (): number => performance.timeOrigin + performance.now();
const firstLine = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0]!.trim();
const statusOf = (err: unknown): number | undefined => (err as { statusCode?: number })?.statusCode;

/** Thrown when the guest image is missing; the message says how to make it. */
export class ImageMissingError extends Error {}

/** Signal name for an exit status above 128 (128 + signal number), as a shell or tini reports it. */
export function signalOfStatus(status: number): NodeJS.Signals | undefined {
  if (status <= 128) return undefined;
  const n = status - 128;
  return (Object.entries(constants.signals) as [NodeJS.Signals, number][]).find(([, v]) => v === n)?.[0];
}

/** Memory in use by a container as `docker stats` shows it: usage minus inactive page cache. */
export function memoryInUse(m: Docker.ContainerStats['memory_stats'] | undefined): number | undefined {
  if (!m || typeof m.usage !== 'number') return undefined;
  const s = (m.stats ?? {}) as unknown as Record<string, number>;
  const inactive = s.total_inactive_file ?? s.inactive_file ?? 0;
  return Math.max(0, m.usage - (inactive < m.usage ? inactive : 0));
}

function parentPid(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) && ppid > 1 ? ppid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs the executor in a Docker container made from the guest image: no network, read-only
 * root, all capabilities dropped, no-new-privileges, pids/cpu/memory limits, input bind-mounted
 * read-only. Output comes over attach; the container is removed on destroy and by the session cleanup.
 */
export class DockerBackend implements Backend {
  readonly name = 'docker';
  private image?: Promise<ReadyImage>;

  private readyImage(docker: Docker): Promise<ReadyImage> {
    if (!this.image) {
      const p = (async () => {
        const info = await currentImage();
        if (!info) throw new ImageMissingError('guest image not built; run isolab image build');
        const imageId = await dockerImageId(docker, info.dockerTag);
        if (!imageId) throw new ImageMissingError(`guest image ${info.dockerTag} is not in the engine; run isolab image build`);
        return { info, imageId };
      })();
      this.image = p;
      p.catch(() => {
        if (this.image === p) this.image = undefined;
      });
    }
    return this.image;
  }

  async fingerprint(): Promise<Fingerprint> {
    let c: DockerConnection;
    try {
      c = await dockerConnection();
    } catch (err) {
      return { health: 'undetected', description: firstLine(err), attributes: {} };
    }
    const attributes: Record<string, string> = {
      'docker.endpoint': c.endpoint, 'docker.version': String(c.version.Version), 'docker.api': String(c.version.ApiVersion),
    };
    try {
      const info = await c.docker.info();
      attributes['docker.storage'] = String(info.Driver);
      attributes['docker.cgroup'] = `v${info.CgroupVersion ?? '1'} (${info.CgroupDriver})`;
      attributes['docker.runtimes'] = Object.keys(info.Runtimes ?? {}).sort().join(',');
      attributes['docker.defaultRuntime'] = String(info.DefaultRuntime);
      attributes['docker.kernel'] = String(info.KernelVersion);
    } catch (err) {
      return { health: 'unhealthy', description: `engine info failed: ${firstLine(err)}`, attributes };
    }
    try {
      const img = await this.readyImage(c.docker);
      attributes['docker.image'] = img.info.dockerTag;
      attributes['docker.node'] = img.info.nodeVersion;
    } catch (err) {
      return { health: 'unhealthy', description: firstLine(err), attributes };
    }
    return {
      health: 'healthy',
      description: `Docker ${attributes['docker.version']} (API ${attributes['docker.api']}), ${attributes['docker.storage']}, cgroup ${attributes['docker.cgroup']}, image ${attributes['docker.image']}`,
      attributes,
    };
  }

  async start(spec: TaskSpec, sink: TaskSink, signal?: AbortSignal): Promise<TaskHandle> {
    signal?.throwIfAborted();
    const { docker } = await dockerConnection();
    const img = await this.readyImage(docker);
    signal?.throwIfAborted();
    const sess = session();
    const name = sess.name(spec.taskId);
    const st: ContainerState = { name, sink, docker, timedOut: false, removeCleanup: () => {} };
    const handle: TaskHandle = {
      taskId: spec.taskId, backend: this.name, instanceId: name, limits: { cpus: false, mem: false, how: 'docker' },
      attributes: { 'docker.image': img.info.dockerTag }, state: st,
    };
    st.removeCleanup = sess.defer(`docker container ${name}`, () => this.destroy(handle));
    const opts = containerOptions(spec, { name, image: img.info.dockerTag, imageId: img.info.id, labels: sess.labels(spec.taskId) });
    try {
      sink.phase('create', now());
      const creating = docker.createContainer(opts);
      st.creating = creating.catch(() => undefined);
      st.container = await creating.catch((err: unknown) => {
        throw new Error(`docker create ${name}: ${firstLine(err)}`);
      });
      sink.phase('created', now());
      handle.instanceId = st.container.id;
      signal?.throwIfAborted();
      const stream = (await st.container.attach({ stream: true, stdout: true, stderr: true })) as NodeJS.ReadableStream;
      const out = new PassThrough();
      const err = new PassThrough();
      docker.modem.demuxStream(stream, out, err);
      stream.once('end', () => {
        out.end();
        err.end();
      });
      stream.once('error', () => {
        out.end();
        err.end();
      });
      let stderr = '';
      err.on('data', (b: Buffer) => {
        if (stderr.length < 4096) stderr += b.toString();
      });
      const outputDone = splitLines(out, maxMessageBytes(spec.executor), (l) => sink.line(l));
      sink.phase('attached', now());
      signal?.throwIfAborted();
      await st.container.start();
      sink.phase('started', now());
      if (spec.timeoutMs !== undefined) {
        st.timer = setTimeout(() => {
          st.timedOut = true;
          void this.kill(st, 'SIGKILL');
        }, spec.timeoutMs);
      }
      const onAbort = (): void => void this.kill(st, 'SIGKILL');
      signal?.addEventListener('abort', onAbort, { once: true });
      st.exit = this.watch(st, outputDone, () => stderr).finally(() => signal?.removeEventListener('abort', onAbort));
      const hc = (await st.container.inspect()).HostConfig;
      handle.limits = limitsFrom(hc);
      Object.assign(handle.attributes, {
        'docker.memory': String(hc.Memory ?? 0), 'docker.nanoCpus': String(hc.NanoCpus ?? 0), 'docker.network': String(hc.NetworkMode),
        'docker.readonlyRootfs': String(hc.ReadonlyRootfs), 'docker.pidsLimit': String(hc.PidsLimit ?? ''),
      });
      return handle;
    } catch (err) {
      await this.destroy(handle).catch(() => {});
      throw err;
    }
  }

  private async watch(st: ContainerState, outputDone: Promise<void>, stderr: () => string): Promise<ExitResult> {
    const c = st.container!;
    let status: number | null = null;
    let message: string | undefined;
    try {
      const w = (await c.wait({ condition: 'not-running' })) as { StatusCode: number; Error?: { Message?: string } | null };
      status = w.StatusCode;
      if (w.Error?.Message) message = w.Error.Message;
    } catch (err) {
      message = firstLine(err);
    }
    if (st.timer) clearTimeout(st.timer);
    st.sink.phase('containerExited', now());
    await Promise.race([outputDone, new Promise((r) => setTimeout(r, 2000).unref())]);
    let oomKilled = false;
    try {
      const s = (await c.inspect()).State;
      oomKilled = Boolean(s.OOMKilled);
      if (status === null && !s.Running) status = s.ExitCode;
    } catch {
      /* removed meanwhile */
    }
    message ??= stderr().trim().split('\n').pop() || undefined;
    const signal = status !== null ? signalOfStatus(status) : undefined;
    return { exitCode: signal ? null : status, signal, timedOut: st.timedOut, oomKilled, message };
  }

  private async kill(st: ContainerState, sig: NodeJS.Signals): Promise<void> {
    try {
      await st.container?.kill({ signal: sig });
    } catch {
      /* not running or gone */
    }
  }

  wait(handle: TaskHandle): Promise<ExitResult> {
    const st = handle.state as ContainerState;
    return st.exit ?? Promise.resolve({ exitCode: null, timedOut: false, message: 'container never started' });
  }

  async stop(handle: TaskHandle, timeoutMs: number, sig: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const st = handle.state as ContainerState;
    if (!st.exit) return;
    await this.kill(st, sig);
    const done = await Promise.race([st.exit.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), timeoutMs).unref())]);
    if (!done) await this.kill(st, 'SIGKILL');
    await st.exit;
  }

  destroy(handle: TaskHandle): Promise<void> {
    const st = handle.state as ContainerState;
    st.removal ??= (async () => {
      if (st.timer) clearTimeout(st.timer);
      const c = st.container ?? (await st.creating);
      if (c) {
        const t0 = now();
        try {
          await c.remove({ force: true, v: true });
        } catch (err) {
          const code = statusOf(err);
          if (code !== 404 && !(code === 409 && /already in progress/.test(firstLine(err)))) throw err;
        }
        st.sink.phase('removing', t0);
        st.sink.phase('removed', now());
        if (st.exit) await st.exit;
      }
      st.removeCleanup();
    })();
    const removal = st.removal;
    removal.catch(() => {
      if (st.removal === removal) st.removal = undefined;
    });
    return removal;
  }

  async stats(handle: TaskHandle): Promise<TaskStats> {
    const st = handle.state as ContainerState;
    const c = st.container;
    if (!c) return {};
    const [s, top, info] = await Promise.all([
      (c.stats({ stream: false, 'one-shot': true } as { stream: false }) as Promise<Docker.ContainerStats>).catch(() => undefined),
      (c.top() as Promise<{ Titles?: string[]; Processes?: string[][] }>).catch(() => undefined),
      c.inspect().catch(() => undefined),
    ]);
    const pids = new Set<number>();
    const col = top?.Titles?.findIndex((t) => t.trim().toUpperCase() === 'PID') ?? -1;
    if (top?.Processes && col >= 0) for (const row of top.Processes) pids.add(Number(row[col]));
    const main = info?.State?.Pid;
    if (main) {
      pids.add(main);
      const shim = parentPid(main);
      if (shim) pids.add(shim);
    }
    const cpuNs = s?.cpu_stats?.cpu_usage?.total_usage;
    return {
      memoryBytes: memoryInUse(s?.memory_stats),
      cpuMs: typeof cpuNs === 'number' ? cpuNs / 1e6 : undefined,
      pids: [...pids].filter((p) => Number.isInteger(p) && p > 0).sort((a, b) => a - b),
    };
  }

  async listOwned(): Promise<OwnedResource[]> {
    const { docker } = await dockerConnection();
    const self = session().id;
    const list = await docker.listContainers({ all: true, filters: { label: [`${LABELS.owned}=true`] } });
    return list
      .filter((c) => c.Labels?.[LABELS.session] !== self)
      .map((c) => ({
        backend: this.name, kind: 'container', id: c.Names?.[0]?.replace(/^\//, '') || c.Id, session: c.Labels?.[LABELS.session],
      }));
  }

  async removeOwned(r: OwnedResource): Promise<void> {
    if (r.kind !== 'container') return;
    const { docker } = await dockerConnection();
    try {
      await docker.getContainer(r.id).remove({ force: true, v: true });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

/** Which limits a container's HostConfig enforces. */
export function limitsFrom(hc: Docker.HostConfig): LimitsEnforced {
  return { cpus: (hc.NanoCpus ?? 0) > 0 || (hc.CpuQuota ?? 0) > 0, mem: (hc.Memory ?? 0) > 0, how: 'docker' };
}
