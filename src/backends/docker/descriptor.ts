import type { BackendDescriptor } from '../descriptor.js';

/** Attribute of a docker-family fingerprint holding the OCI runtime's version. */
export const RUNTIME_VERSION_ATTR = 'docker.runtime.version';

/** The docker backend: the executor in a locked-down Docker container on the default runtime (runc). */
export const DOCKER_DESCRIPTOR: BackendDescriptor = {
  name: 'docker',
  displayName: 'Docker',
  noun: 'container',
  kind: 'container',
  boundary: 'host-kernel',
  isolationOrder: 20,
  baseline: false,
  summary:
    'still a host process on the same kernel, but inside its own namespaces (process ids, mounts, network, hostname, ' +
    'IPC, users) with its own root file system image, and with cgroup limits set by the engine. There is no second ' +
    'kernel and no hypervisor: a container costs namespace and cgroup setup, an overlay mount, and a runtime shim ' +
    '(containerd-shim) that stays beside it.',
  shares: 'the host kernel (every system call reaches it), behind namespaces, cgroups and seccomp',
  attackSurface:
    'the host kernel\'s system calls, less those Docker\'s default seccomp profile blocks (about 44 of 300+), from inside namespaces with no capabilities',
  hostProcesses: 'its containerd-shim, docker-init and the executor',
  engine: { name: 'Docker Engine', version: null, detail: null, versionAttribute: 'docker.version' },
  runtime: { name: 'runc', version: null, detail: null, versionAttribute: RUNTIME_VERSION_ATTR },
  accelerator: null,
  limits: { cpus: true, mem: true, pids: true, how: 'Docker HostConfig (cgroups), read back from inspect' },
  timeoutScale: 2,
  priors: { startupSeconds: 0.6, launchSeconds: 0.5, countMBps: 90 },
  densitySteps: null,
};

/** The descriptor of `docker:<runtime>`: the docker backend on another OCI runtime dockerd knows (e.g. crun). */
export function dockerRuntimeDescriptor(runtime: string): BackendDescriptor {
  return {
    ...DOCKER_DESCRIPTOR,
    name: `docker:${runtime}`,
    displayName: `Docker (${runtime})`,
    noun: `container (${runtime})`,
    isolationOrder: DOCKER_DESCRIPTOR.isolationOrder + 1,
    runtime: { ...DOCKER_DESCRIPTOR.runtime, name: runtime },
  };
}
