import { constants } from 'node:os';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { splitLines } from '../../executor/line-splitter.js';
import { maxMessageBytes } from '../../executor/protocol.js';
import { dockerImageId } from '../../image/docker-image.js';
import { currentImage, type ImageInfo } from '../../image/index.js';
import { session } from '../../session/session.js';
import type {
  Backend, ExitResult, Fingerprint, LimitsEnforced, OwnedResource, PlainCommand, TaskHandle, TaskSink, TaskSpec, TaskStats, TaskUsage,
} from '../backend.js';
import { cgroupTreePids, readCgroupCounters, readCharsOf, UsageMeter } from '../usage.js';
import {
  cgroupParentOf, containerSources, listTaskCgroupLeftovers, removeTaskCgroupFolders, taskCounterDirs,
} from './task-cgroup.js';
import type { BackendDescriptor } from '../descriptor.js';
import { unmeasuredUsage as unmeasured } from '../backend.js';
import { parentPid, processTree, procUsage } from '../proc.js';
import { settlesWithin, stopWithTimeout } from '../stop.js';
import { dockerConnection, type DockerConnection } from './connection.js';
import { BACKEND_LABEL, containerOptions, madeBy, type ContainerParams } from './container-spec.js';
import { DOCKER_DESCRIPTOR, RUNTIME_VERSION_ATTR } from './descriptor.js';
import { ReadableCopies } from './input-access.js';
import { listOwnedContainers, removeOwnedContainer } from './owned.js';
import {
  endRuntimeTask, listRuntimeLeftovers, removeRuntimeLeftover, RUNTIME_TASK, runtimeTaskOf,
} from './runtime-leftovers.js';
import { runtimeFacts, unknownRuntimeReason, type RuntimeFacts, type RuntimeHints } from './runtime.js';

/** A docker-family backend's state for one task. */
export interface ContainerState {
  /** Container name. */
  name: string;
  /** Where lines and phases go. */
  sink: TaskSink;
  /** The engine client. */
  docker: Docker;
  /** The create call, while it runs. */
  creating?: Promise<Docker.Container | undefined>;
  /** The container, once created. */
  container?: Docker.Container;
  /** Resolves when the container has ended and its output is read. */
  exit?: Promise<ExitResult>;
  /** Killed at its timeout. */
  timedOut: boolean;
  /** The timeout's timer. */
  timer?: NodeJS.Timeout;
  /** Drops the session cleanup once removed. */
  removeCleanup: () => void;
  /** The removal, once begun. */
  removal?: Promise<void>;
  /** The container's cgroup version when it has a per-task parent cgroup (cgroupfs driver); undefined otherwise. */
  cgroupVersion?: 'cgroup-v1' | 'cgroup-v2';
  /** Why it has none. */
  noCgroup?: string;
  /** Reads the container's own counters while it runs. */
  meter?: UsageMeter;
  /** Clock time the engine reported the container not running. */
  exitedAt?: number;
}

/** The image tasks run in: its manifest and the engine's id for it. */
interface ReadyImage {
  info: ImageInfo;
  imageId: string;
}

const now = (): number => performance.timeOrigin + performance.now();
const firstLine = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0]!.trim();
/** dockerode's prefix of an engine error ("(HTTP code 500) server error - "). */
const ENGINE_PREFIX = /^\(HTTP code \d+\) [^-]*- /;
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

/** What a runtime check adds to a fingerprint: attributes, and a problem that makes the backend unhealthy. */
export interface RuntimeCheck {
  /** Attributes to record, e.g. `gvisor.platform`. */
  attributes: Record<string, string>;
  /** Why the runtime cannot run isolab's containers, in one line; undefined when it can. */
  problem?: string;
  /** Words for the healthy description, e.g. `platform ptrace`. */
  note?: string;
}

/** One member of the docker family: what it is, and which dockerd runtime its containers run on. */
export interface DockerFlavour {
  /** Its descriptor (the name is the backend's name). */
  descriptor: BackendDescriptor;
  /** dockerd runtime name; undefined: dockerd's default runtime (runc). */
  runtime?: string;
  /** Most processes/threads per container (gVisor's Sentry and gofer threads count too). */
  pidsLimit?: number;
  /** How to install and register the runtime, for the reason when dockerd does not know it. */
  hints?: RuntimeHints;
  /** Checks beyond dockerd knowing the runtime (runsc: its platform and --network=none); never throws. */
  checkRuntime?: (facts: RuntimeFacts) => Promise<RuntimeCheck>;
  /** Start one throw-away container during the first fingerprint (for runtimes that may not work on this host). */
  probe?: boolean;
}

/**
 * Runs the executor in a Docker container made from the guest image, on the flavour's runtime: an
 * unprivileged user, no network, read-only root, all capabilities dropped, no-new-privileges,
 * pids/cpu/memory limits, input bind-mounted read-only. Output comes over attach; the container is
 * removed on destroy and by the session cleanup, with any runtime processes a failed start left.
 * `docker` is the plain flavour; `gvisor` (runsc) and `docker:<runtime>` are the same code with another runtime.
 */
export class DockerBackend implements Backend<ContainerState> {
  readonly name: string;
  readonly descriptor: BackendDescriptor;
  private image?: Promise<ReadyImage>;
  private probed?: Promise<string | undefined>;
  private readonly copies = new ReadableCopies(() => session().tmpDir());
  private engineCgroups?: Promise<{ version: 'cgroup-v1' | 'cgroup-v2' } | { unusable: string }>;

  constructor(private readonly flavour: DockerFlavour = { descriptor: DOCKER_DESCRIPTOR }) {
    this.descriptor = flavour.descriptor;
    this.name = flavour.descriptor.name;
  }

  /** The dockerd runtime this backend's containers run on; undefined for dockerd's default. */
  get runtime(): string | undefined {
    return this.flavour.runtime;
  }

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
    let facts: RuntimeFacts;
    try {
      const info = await c.docker.info();
      attributes['docker.storage'] = String(info.Driver);
      attributes['docker.cgroup'] = `v${info.CgroupVersion ?? '1'} (${info.CgroupDriver})`;
      attributes['docker.runtimes'] = Object.keys(info.Runtimes ?? {}).sort().join(',');
      attributes['docker.defaultRuntime'] = String(info.DefaultRuntime);
      attributes['docker.kernel'] = String(info.KernelVersion);
      facts = await runtimeFacts(info, this.flavour.runtime);
    } catch (err) {
      return { health: 'unhealthy', description: `engine info failed: ${firstLine(err)}`, attributes };
    }
    attributes['docker.runtime'] = facts.name;
    attributes['docker.runtime.known'] = String(facts.known);
    if (facts.path) attributes['docker.runtime.path'] = facts.path;
    if (facts.args.length > 0) attributes['docker.runtime.args'] = facts.args.join(' ');
    if (facts.version) attributes[RUNTIME_VERSION_ATTR] = facts.version;
    if (!facts.known) return { health: 'undetected', description: unknownRuntimeReason(facts, this.flavour.hints), attributes };
    if (!facts.binary && facts.path?.startsWith('/')) {
      return { health: 'unhealthy', description: `dockerd knows the runtime ${facts.name}, but its executable ${facts.path} is not there`, attributes };
    }
    const check = this.flavour.checkRuntime ? await this.flavour.checkRuntime(facts) : { attributes: {} };
    Object.assign(attributes, check.attributes);
    if (check.problem) return { health: 'unhealthy', description: check.problem, attributes };
    try {
      const img = await this.readyImage(c.docker);
      attributes['docker.image'] = img.info.dockerTag;
      attributes['docker.node'] = img.info.nodeVersion;
    } catch (err) {
      return { health: 'unhealthy', description: firstLine(err), attributes };
    }
    if (this.flavour.probe) {
      const problem = await this.probe(c.docker);
      if (problem) return { health: 'unhealthy', description: `runtime ${facts.name} cannot start a container here: ${problem}`, attributes };
    }
    const rt = `runtime ${facts.name}${facts.version ? ` ${facts.version}` : ''}${check.note ? ` (${check.note})` : ''}`;
    return {
      health: 'healthy',
      description: `Docker ${attributes['docker.version']} (API ${attributes['docker.api']}), ${rt}, ${attributes['docker.storage']}, cgroup ${attributes['docker.cgroup']}, image ${attributes['docker.image']}`,
      attributes,
    };
  }

  /** Starts `/bin/true` once on the runtime; resolves with the reason it failed, or undefined. */
  private probe(docker: Docker): Promise<string | undefined> {
    this.probed ??= (async () => {
      const img = await this.readyImage(docker);
      const sess = session();
      const c = await docker.createContainer({
        name: sess.name(`probe-${this.name.replace(/[^a-z0-9]/g, '-')}`), Image: img.info.dockerTag, Cmd: ['/bin/true'],
        Labels: { ...sess.labels('probe'), [BACKEND_LABEL]: this.name }, NetworkDisabled: true,
        HostConfig: { NetworkMode: 'none', Runtime: this.flavour.runtime, AutoRemove: false },
      });
      try {
        await c.start();
        const w = (await c.wait()) as { StatusCode: number };
        return w.StatusCode === 0 ? undefined : `/bin/true exited with ${w.StatusCode}`;
      } catch (err) {
        const m = firstLine(err).replace(ENGINE_PREFIX, '');
        return m.length > 240 ? `${m.slice(0, 240)}…` : m;
      } finally {
        await c.remove({ force: true, v: true }).catch(() => {});
        await this.endLeftovers(c.id, false);
      }
    })().catch((err: unknown) => firstLine(err));
    return this.probed;
  }

  /** Whether containers can get a per-task parent cgroup here: only with dockerd's cgroupfs driver (asked once). */
  private cgroupMode(docker: Docker): Promise<{ version: 'cgroup-v1' | 'cgroup-v2' } | { unusable: string }> {
    this.engineCgroups ??= (async () => {
      try {
        const info = (await docker.info()) as { CgroupDriver?: string; CgroupVersion?: string };
        if (info.CgroupDriver !== 'cgroupfs') return { unusable: `dockerd's cgroup driver is ${info.CgroupDriver ?? 'unknown'}, not cgroupfs: no per-task parent cgroup` };
        return { version: info.CgroupVersion === '2' ? 'cgroup-v2' as const : 'cgroup-v1' as const };
      } catch (err) {
        return { unusable: `docker info failed: ${firstLine(err)}` };
      }
    })();
    return this.engineCgroups;
  }

  async start(spec: TaskSpec, sink: TaskSink, signal?: AbortSignal): Promise<TaskHandle<ContainerState>> {
    signal?.throwIfAborted();
    const { docker } = await dockerConnection();
    const img = await this.readyImage(docker);
    const cg = await this.cgroupMode(docker);
    signal?.throwIfAborted();
    const sess = session();
    const name = sess.name(spec.taskId);
    const st: ContainerState = { name, sink, docker, timedOut: false, removeCleanup: () => {} };
    if ('version' in cg) st.cgroupVersion = cg.version;
    else st.noCgroup = cg.unusable;
    const handle: TaskHandle<ContainerState> = {
      taskId: spec.taskId, backend: this.name, instanceId: name, limits: { cpus: false, mem: false, how: this.limitsHow() },
      attributes: { 'docker.image': img.info.dockerTag }, state: st,
    };
    st.removeCleanup = sess.defer(`${this.name} container ${name}`, () => this.destroy(handle));
    const access = spec.executor.input !== undefined ? this.copies.access(spec.executor.input) : undefined;
    const opts = this.createOptions(spec, {
      name, image: img.info.dockerTag, imageId: img.info.id, labels: sess.labels(spec.taskId), backend: this.name, session: sess.id,
      runtime: this.flavour.runtime, user: access?.user, inputPath: access?.path, pidsLimit: this.flavour.pidsLimit,
      cgroupParent: st.cgroupVersion ? cgroupParentOf(name) : undefined,
    });
    const dirs = st.cgroupVersion ? taskCounterDirs(name, st.cgroupVersion) : undefined;
    st.meter = new UsageMeter(() => {
      if (!dirs) return undefined;
      const r = readCgroupCounters(dirs);
      if (!r) return undefined;
      const pids = cgroupTreePids(dirs.memory!);
      return { ...r, readBytes: pids.length > 0 ? readCharsOf(pids) : null };
    });
    const metered = st.meter.sink(sink);
    if (access?.note) handle.attributes['docker.inputAccess'] = access.note;
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
      const outputDone = splitLines(out, maxMessageBytes(spec.executor), (l) => metered.line(l));
      sink.phase('attached', now());
      signal?.throwIfAborted();
      await st.container.start().catch((e: unknown) => {
        throw new Error(`docker start ${name}${this.flavour.runtime ? ` (runtime ${this.flavour.runtime})` : ''}: ${firstLine(e).replace(ENGINE_PREFIX, '')}`);
      });
      sink.phase('running', now());
      st.meter.start();
      if (spec.timeoutMs !== undefined) {
        st.timer = setTimeout(() => {
          st.timedOut = true;
          void this.kill(st, 'SIGKILL');
        }, spec.timeoutMs);
      }
      const onAbort = (): void => void this.kill(st, 'SIGKILL');
      signal?.addEventListener('abort', onAbort, { once: true });
      st.exit = this.watch(st, outputDone, () => stderr).finally(() => signal?.removeEventListener('abort', onAbort));
      const inspected = await st.container.inspect();
      const hc = inspected.HostConfig;
      handle.limits = limitsFrom(hc);
      Object.assign(handle.attributes, {
        'docker.memory': String(hc.Memory ?? 0), 'docker.nanoCpus': String(hc.NanoCpus ?? 0), 'docker.network': String(hc.NetworkMode),
        'docker.readonlyRootfs': String(hc.ReadonlyRootfs), 'docker.pidsLimit': String(hc.PidsLimit ?? ''),
        'docker.runtime': String((hc as { Runtime?: string }).Runtime ?? ''), 'docker.user': String(inspected.Config.User ?? ''),
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
    st.exitedAt = now();
    st.sink.phase('exited', st.exitedAt);
    await settlesWithin(outputDone, 2000);
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

  /** The create options of one task's container (a subclass may change them, e.g. a test making the start fail). */
  protected createOptions(spec: TaskSpec, params: ContainerParams): Docker.ContainerCreateOptions {
    return containerOptions(spec, params);
  }

  private limitsHow(): string {
    return this.flavour.runtime ? `docker, runtime ${this.flavour.runtime}` : 'docker';
  }

  wait(handle: TaskHandle<ContainerState>): Promise<ExitResult> {
    return handle.state.exit ?? Promise.resolve({ exitCode: null, timedOut: false, message: 'container never started' });
  }

  async stop(handle: TaskHandle<ContainerState>, timeoutMs: number, sig: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const st = handle.state;
    if (!st.exit) return;
    await stopWithTimeout({ exited: st.exit, ask: () => this.kill(st, sig), force: () => this.kill(st, 'SIGKILL') }, timeoutMs);
  }

  /**
   * Ends what the runtime left of a removed container: runsc keeps its shim, sandbox and gofer
   * after a failed start (`started` false), so they are ended at once. After a normal run nothing
   * is left, or it ends by itself within a second.
   */
  private async endLeftovers(containerId: string, started: boolean): Promise<void> {
    const left = runtimeTaskOf(containerId);
    if (!left) return;
    if (started) {
      const ended = (async () => {
        while (runtimeTaskOf(containerId)) await new Promise((r) => setTimeout(r, 100));
      })();
      if (await settlesWithin(ended, 1000)) return;
    }
    await endRuntimeTask(runtimeTaskOf(containerId) ?? left);
  }

  destroy(handle: TaskHandle<ContainerState>): Promise<void> {
    const st = handle.state;
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
        await this.endLeftovers(c.id, st.exit !== undefined);
      }
      st.meter?.stop();
      if (st.cgroupVersion && !(await removeTaskCgroupFolders(st.name))) throw new Error(`cgroup ${cgroupParentOf(st.name)} still busy`);
      st.removeCleanup();
    })();
    const removal = st.removal;
    removal.catch(() => {
      if (st.removal === removal) st.removal = undefined;
    });
    return removal;
  }

  /**
   * Usage of the container: memory and CPU from its cgroup (which holds runsc's sandbox and gofer
   * too), and as host pids its containerd-shim with every descendant: docker-init and the executor
   * under runc; runsc-gofer, runsc-sandbox and the Sentry's stub processes under runsc. (`docker top`
   * is not used: under runsc it lists the host's pid 1.)
   */
  async stats(handle: TaskHandle<ContainerState>): Promise<TaskStats> {
    const c = handle.state.container;
    if (!c) return {};
    const [s, info] = await Promise.all([
      (c.stats({ stream: false, 'one-shot': true } as { stream: false }) as Promise<Docker.ContainerStats>).catch(() => undefined),
      c.inspect().catch(() => undefined),
    ]);
    const main = info?.State?.Pid;
    const pids = main ? processTree(parentPid(main) ?? main) : [];
    const cpuNs = s?.cpu_stats?.cpu_usage?.total_usage;
    return {
      memoryBytes: memoryInUse(s?.memory_stats),
      cpuMs: typeof cpuNs === 'number' ? cpuNs / 1e6 : pids.length > 0 ? procUsage(pids).cpuMs : undefined,
      pids,
    };
  }

  /** `docker run` of the same image, user, limits and runtime, the executor idle: timed outside isolab to its ready line. */
  async plainCommand(spec: TaskSpec): Promise<PlainCommand | undefined> {
    const { docker } = await dockerConnection();
    const img = await this.readyImage(docker);
    const sess = session();
    const name = sess.name(`${spec.taskId}-plain`);
    const opts = containerOptions({ ...spec, executor: { taskId: spec.taskId, mode: 'idle' } }, {
      name, image: img.info.dockerTag, imageId: img.info.id, labels: sess.labels(spec.taskId), backend: this.name, session: sess.id,
      runtime: this.flavour.runtime, pidsLimit: this.flavour.pidsLimit,
    });
    const hc = opts.HostConfig!;
    const argv = [
      'docker', 'run', '--rm', '--name', name, '--network', 'none', '--read-only', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges',
      '--init', '--user', String(opts.User), '--pids-limit', String(hc.PidsLimit), '--memory', String(hc.Memory), '--cpus', String((hc.NanoCpus ?? 1e9) / 1e9),
      '--tmpfs', '/tmp:rw,nosuid,nodev,noexec,size=16m', '--log-driver', 'none',
      ...(this.flavour.runtime ? ['--runtime', this.flavour.runtime] : []),
      ...Object.entries(opts.Labels ?? {}).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
      ...(opts.Env ?? []).flatMap((e) => ['--env', e]),
      img.info.dockerTag, ...(opts.Cmd as string[]),
    ];
    return {
      argv, marker: '@isolab {"type":"ready"', isolabPhase: 'ready',
      what: `docker run (the CLI, ${this.flavour.runtime ?? 'default runtime'}) to the executor's ready line, against isolab's requested → ready`,
      stop: async () => {
        await docker.getContainer(name).remove({ force: true, v: true }).catch(() => {});
      },
    };
  }

  /**
   * The container's own accounting, from its per-task parent cgroup (the container's cgroup with
   * runsc's sandbox and gofer in it is removed at exit; the parent keeps the hierarchical counters).
   */
  async usage(handle: TaskHandle<ContainerState>): Promise<TaskUsage> {
    const st = handle.state;
    if (!st.meter) return unmeasured('the container was never created');
    if (!st.cgroupVersion) {
      const why = st.noCgroup ?? 'no per-task parent cgroup';
      st.meter.stop();
      return { ...unmeasured(why), guest: st.meter.finish({ sources: {}, missing: {} }, { final: false }).guest };
    }
    return st.meter.finish(containerSources(st.cgroupVersion), { final: true, exitedAt: st.exitedAt });
  }

  /**
   * Containers of other sessions made by this backend, and runtime tasks (shim, runsc sandbox and
   * gofer) whose container dockerd no longer has but whose OCI bundle carries isolab's session and
   * this backend's name.
   */
  async listOwned(): Promise<OwnedResource[]> {
    const { docker } = await dockerConnection();
    const isDefault = this.flavour.runtime === undefined;
    const containers = await listOwnedContainers(docker, { backend: this.name, accept: (c) => madeBy(c.Labels, this.name, isDefault) });
    const all = await docker.listContainers({ all: true });
    const names = new Set(all.flatMap((c) => (c.Names ?? []).map((n) => n.replace(/^\//, ''))));
    const cgroups = isDefault ? listTaskCgroupLeftovers(this.name).filter((r) => !names.has(r.id)) : [];
    return [...containers, ...listRuntimeLeftovers(this.name, session().id, new Set(all.map((c) => c.Id))), ...cgroups];
  }

  async removeOwned(r: OwnedResource): Promise<void> {
    if (r.kind === RUNTIME_TASK) return removeRuntimeLeftover(r);
    if (r.kind === 'cgroup') {
      if (!(await removeTaskCgroupFolders(r.id))) throw new Error(`cgroup ${cgroupParentOf(r.id)} still busy`);
      return;
    }
    await removeOwnedContainer((await dockerConnection()).docker, r);
  }
}

/** Which limits a container's HostConfig enforces (read back from inspect). */
export function limitsFrom(hc: Docker.HostConfig): LimitsEnforced {
  const runtime = (hc as { Runtime?: string }).Runtime;
  const how = runtime && runtime !== 'runc' ? `docker, runtime ${runtime}` : 'docker';
  return { cpus: (hc.NanoCpus ?? 0) > 0 || (hc.CpuQuota ?? 0) > 0, mem: (hc.Memory ?? 0) > 0, how };
}
