import type { BackendDescriptor } from '../descriptor.js';

/** The vm backend: a transient libvirt/QEMU domain per task, KVM where it works, else TCG emulation. */
export const VM_DESCRIPTOR: BackendDescriptor = {
  name: 'vm',
  displayName: 'VM',
  noun: 'VM',
  kind: 'vm',
  boundary: 'hypervisor',
  isolationOrder: 40,
  baseline: false,
  summary:
    'a separate guest kernel on virtual hardware emulated by a QEMU process; the hypervisor is KVM when the CPU\'s ' +
    'virtualisation extensions are usable, otherwise TCG, QEMU\'s instruction-by-instruction translator (much slower: ' +
    'emulation, not virtualisation). The guest shares no kernel, namespace or page cache with the host: it boots, has ' +
    'its own fixed guest memory (allocated by the host as the guest touches it), and reaches the input through a ' +
    'virtual disk. The QEMU process is what the host sees and pays for.',
  shares: 'only the hardware, through the hypervisor (and QEMU\'s device emulation on the host)',
  attackSurface:
    'the hypervisor\'s interface: KVM (or QEMU\'s TCG) and QEMU\'s emulated devices (here virtio disks, serial, rng); no host system call',
  hostProcesses: 'its QEMU process',
  engine: { name: 'libvirt', version: null, detail: null, versionAttribute: 'vm.libvirt.version' },
  runtime: { name: 'QEMU', version: null, detail: null, versionAttribute: 'vm.qemu.version' },
  accelerator: { attribute: 'vm.accelerator', emulatedValues: ['tcg'], value: null, emulated: null },
  limits: { cpus: true, mem: true, pids: false, how: 'the guest\'s vCPUs, CPU quota and memory size' },
  timeoutScale: 5,
  priors: { startupSeconds: 16.5, launchSeconds: 12, countMBps: 4 },
  densitySteps: [1, 2, 4],
};
