import type { BackendDescriptor } from '../descriptor.js';

/** The process backend: the executor as a plain child process of the host, in its own cgroup where allowed. */
export const PROCESS_DESCRIPTOR: BackendDescriptor = {
  name: 'process',
  displayName: 'Process',
  noun: 'process',
  kind: 'process',
  boundary: 'host-kernel',
  isolationOrder: 10,
  baseline: true,
  summary:
    'a child process of the host. It shares everything with the host: the kernel, the file system, the network, the ' +
    'process table. Only a cgroup (when the host allows it) caps its CPU and memory. Starting one costs a fork/exec and ' +
    'the Node runtime start.',
  shares: 'everything: kernel, file system, network, process table',
  attackSurface:
    'every host system call, as the lab\'s own user; nothing in between',
  hostProcesses: 'the executor (node) and anything it starts',
  engine: { name: 'Linux', version: null, detail: null, versionAttribute: 'process.kernel' },
  runtime: { name: 'node', version: null, detail: null, versionAttribute: 'process.node' },
  accelerator: null,
  limits: { cpus: true, mem: true, pids: false, how: 'a cgroup per task (v1 or v2), when the host lets isolab create one' },
  timeoutScale: 2,
  priors: { startupSeconds: 0.3, launchSeconds: 0.2, countMBps: 90 },
  densitySteps: null,
};
