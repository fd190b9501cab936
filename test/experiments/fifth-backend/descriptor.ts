import type { BackendDescriptor } from '../../../src/backends/descriptor.js';

/** A made-up fifth isolation level between gVisor and a full VM: a microVM per container, as Kata Containers does. */
export const KATA_DESCRIPTOR: BackendDescriptor = {
  name: 'kata',
  displayName: 'Kata',
  noun: 'Kata microVM',
  kind: 'sandbox',
  boundary: 'hypervisor',
  isolationOrder: 35,
  baseline: false,
  summary: 'a container inside its own lightweight VM (a test double: it counts in the test process).',
  shares: 'the hardware, through a minimal hypervisor',
  attackSurface: 'a minimal hypervisor\'s devices',
  hostProcesses: 'its hypervisor process',
  engine: { name: 'containerd', version: null, detail: null, versionAttribute: 'kata.containerd' },
  runtime: { name: 'kata-runtime', version: null, detail: null, versionAttribute: 'kata.version', detailAttribute: 'kata.hypervisor' },
  accelerator: null,
  limits: { cpus: true, mem: true, pids: false, how: 'guest size' },
  timeoutScale: 4,
  priors: { startupSeconds: 0.02, launchSeconds: 0.01, countMBps: 50 },
  densitySteps: [1, 3],
};
