import type { BackendDescriptor } from '../descriptor.js';
import { RUNTIME_VERSION_ATTR } from '../docker/descriptor.js';

/** Attribute of the gvisor fingerprint holding runsc's platform (ptrace, kvm, systrap). */
export const PLATFORM_ATTR = 'gvisor.platform';

/** The gvisor backend: the docker backend's container on the runsc runtime, gVisor's user-space kernel. */
export const GVISOR_DESCRIPTOR: BackendDescriptor = {
  name: 'gvisor',
  displayName: 'gVisor',
  noun: 'gVisor',
  kind: 'sandbox',
  boundary: 'user-space-kernel',
  isolationOrder: 30,
  baseline: false,
  summary:
    'a container whose system calls never reach the host kernel directly. gVisor\'s Sentry, a kernel written in Go ' +
    'that runs as an ordinary host process (runsc-sandbox), intercepts every system call of the workload (here with ' +
    'ptrace, or with KVM where /dev/kvm works) and serves it itself; a second process (runsc-gofer) opens files for it. ' +
    'The host kernel sees only the Sentry\'s own small, seccomp-filtered set of calls. It costs a slower start, the ' +
    'Sentry\'s memory, and a toll on every system call, not a second machine.',
  shares: 'the host kernel only through the Sentry\'s reduced, seccomp-filtered system calls; namespaces and cgroups as a container',
  attackSurface:
    'the Sentry\'s own interface; the host kernel only through the small, seccomp-filtered set of calls the Sentry and gofer make',
  hostProcesses: 'its containerd-shim, runsc-gofer and runsc-sandbox (the Sentry, with its ptrace stub processes)',
  engine: { name: 'Docker Engine', version: null, detail: null, versionAttribute: 'docker.version' },
  runtime: { name: 'runsc', version: null, detail: null, versionAttribute: RUNTIME_VERSION_ATTR, detailAttribute: PLATFORM_ATTR },
  accelerator: null,
  limits: { cpus: true, mem: true, pids: true, how: 'Docker HostConfig (cgroups around the sandbox), read back from inspect' },
  timeoutScale: 3,
  priors: { startupSeconds: 1.0, launchSeconds: 0.8, countMBps: 60 },
  densitySteps: null,
};
