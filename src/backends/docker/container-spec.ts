import { realpathSync } from 'node:fs';
import type Docker from 'dockerode';
import type { ExecutorTask } from '../../executor/protocol.js';
import { encodeTask } from '../../executor/protocol.js';
import { GUEST, IMAGE_LABEL } from '../../image/layout.js';
import type { TaskSpec } from '../backend.js';

/** Most processes/threads one task container may have (node uses about a dozen threads). */
export const PIDS_LIMIT = 128;

/** Path of the input file inside the container. */
export const CONTAINER_INPUT = `${GUEST.inputDir}/data`;

/** Create options for one task: no network, read-only root, no capabilities, limits from the task's resources. */
export function containerOptions(spec: TaskSpec, o: { name: string; image: string; imageId: string; labels: Record<string, string> }): Docker.ContainerCreateOptions {
  const task: ExecutorTask = { ...spec.executor };
  const binds: string[] = [];
  if (task.input !== undefined) {
    // dockerd and runc resolve a bind source by name and refuse /proc/<pid>/fd/<n>: mount the file
    // that the open descriptor names now (the path given may have been swapped since it was opened).
    const source = /^\/proc\/\d+\/fd\/\d+$/.test(task.input) ? realpathSync(task.input) : task.input;
    binds.push(`${source}:${CONTAINER_INPUT}:ro`);
    task.input = CONTAINER_INPUT;
  }
  const memory = Math.round(spec.resources.mem * 2 ** 20);
  return {
    name: o.name,
    Image: o.image,
    Cmd: [GUEST.node, GUEST.executor, encodeTask(task)],
    Env: ['NO_COLOR=1', 'HOME=/tmp'],
    WorkingDir: '/',
    Labels: { ...o.labels, [IMAGE_LABEL]: o.imageId },
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
      PidsLimit: PIDS_LIMIT,
      Memory: memory,
      MemorySwap: memory,
      NanoCpus: Math.round(spec.resources.cpus * 1e9),
      Tmpfs: { '/tmp': 'rw,nosuid,nodev,noexec,size=16m' },
      Binds: binds,
      Init: true,
      AutoRemove: false,
      LogConfig: { Type: 'none', Config: {} },
    },
  };
}
