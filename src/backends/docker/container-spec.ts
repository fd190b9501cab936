import { realpathSync } from 'node:fs';
import type Docker from 'dockerode';
import type { ExecutorTask } from '../../executor/protocol.js';
import { encodeTask } from '../../executor/protocol.js';
import { GUEST, IMAGE_LABEL } from '../../image/layout.js';
import type { TaskSpec } from '../backend.js';

/** Most processes/threads one task container may have (node uses about a dozen threads). */
export const PIDS_LIMIT = 128;

/** The unprivileged user (nobody:nogroup) the executor runs as in every container. */
export const CONTAINER_USER = '65534:65534';

/** Label naming the backend (docker, gvisor, docker:crun) that created a container. */
export const BACKEND_LABEL = 'isolab.backend';

/** Container environment variable carrying the session: it is in the OCI bundle's config.json, where runtime leftovers are matched. */
export const CONTAINER_SESSION_ENV = 'ISOLAB_CONTAINER_SESSION';

/** Container environment variable carrying the backend name, likewise. */
export const CONTAINER_BACKEND_ENV = 'ISOLAB_BACKEND';

/**
 * True when a container with these labels was made by backend `name` (the docker family shares one
 * engine: each backend lists only its own); unlabelled ones, from before the label, belong to the default flavour.
 */
export function madeBy(labels: Record<string, string> | undefined, name: string, isDefaultFlavour: boolean): boolean {
  const b = labels?.[BACKEND_LABEL];
  return b === undefined ? isDefaultFlavour : b === name;
}

/** What, besides the task, decides a container's options. */
export interface ContainerParams {
  /** Container name. */
  name: string;
  /** Image reference. */
  image: string;
  /** Guest image id (label). */
  imageId: string;
  /** Session labels. */
  labels: Record<string, string>;
  /** Backend name, for the backend label and environment. */
  backend: string;
  /** Session id, for the environment. */
  session: string;
  /** dockerd runtime; undefined: dockerd's default. */
  runtime?: string;
  /** `uid:gid` the executor runs as (default `CONTAINER_USER`). */
  user?: string;
  /** Host path bind-mounted as the input instead of the task's own (a readable copy). */
  inputPath?: string;
  /** Process/thread limit (default `PIDS_LIMIT`). */
  pidsLimit?: number;
  /** Parent cgroup of the container (a per-task folder, for its own accounting); dockerd's default when absent. */
  cgroupParent?: string;
}

/** Path of the input file inside the container. */
export const CONTAINER_INPUT = `${GUEST.inputDir}/data`;

/**
 * Create options for one task: an unprivileged user, no network, read-only root, no capabilities,
 * no-new-privileges, limits from the task's resources, on the given runtime.
 */
export function containerOptions(spec: TaskSpec, o: ContainerParams): Docker.ContainerCreateOptions {
  const task: ExecutorTask = { ...spec.executor };
  const binds: string[] = [];
  if (task.input !== undefined) {
    // dockerd and runc resolve a bind source by name and refuse /proc/<pid>/fd/<n>: mount the file
    // that the open descriptor names now (the path given may have been swapped since it was opened).
    const given = o.inputPath ?? task.input;
    const source = /^\/proc\/\d+\/fd\/\d+$/.test(given) ? realpathSync(given) : given;
    binds.push(`${source}:${CONTAINER_INPUT}:ro`);
    task.input = CONTAINER_INPUT;
  }
  const memory = Math.round(spec.resources.mem * 2 ** 20);
  return {
    name: o.name,
    Image: o.image,
    Cmd: [GUEST.node, GUEST.executor, encodeTask(task)],
    Env: ['NO_COLOR=1', 'HOME=/tmp', `${CONTAINER_SESSION_ENV}=${o.session}`, `${CONTAINER_BACKEND_ENV}=${o.backend}`],
    WorkingDir: '/',
    User: o.user ?? CONTAINER_USER,
    Labels: { ...o.labels, [IMAGE_LABEL]: o.imageId, [BACKEND_LABEL]: o.backend },
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    OpenStdin: false,
    NetworkDisabled: true,
    HostConfig: {
      NetworkMode: 'none',
      ReadonlyRootfs: true,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      PidsLimit: o.pidsLimit ?? PIDS_LIMIT,
      Memory: memory,
      MemorySwap: memory,
      NanoCpus: Math.round(spec.resources.cpus * 1e9),
      Tmpfs: { '/tmp': 'rw,nosuid,nodev,noexec,size=16m' },
      Binds: binds,
      Init: true,
      AutoRemove: false,
      LogConfig: { Type: 'none', Config: {} },
      ...(o.runtime ? { Runtime: o.runtime } : {}),
      ...(o.cgroupParent ? { CgroupParent: o.cgroupParent } : {}),
    },
  };
}
