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

/** The start modes of the vm family besides the libvirt cold boot: `vm:micro` and `vm:snapshot`. */
export const VM_VARIANTS = ['micro', 'snapshot'] as const;

/** A start mode of the vm family. */
export type VmVariant = (typeof VM_VARIANTS)[number];

/** The descriptor of `vm:micro` (trimmed cold boot) or `vm:snapshot` (restore of a saved guest). */
export function vmVariantDescriptor(v: VmVariant): BackendDescriptor {
  const micro = v === 'micro';
  return {
    ...VM_DESCRIPTOR,
    name: `vm:${v}`,
    displayName: micro ? 'VM (microvm)' : 'VM (snapshot)',
    noun: micro ? 'microVM' : 'restored VM',
    isolationOrder: VM_DESCRIPTOR.isolationOrder + (micro ? 1 : 2),
    summary: micro
      ? 'the same guest kernel, image and hypervisor as the VM, started directly with QEMU (no libvirt) on its microvm ' +
        'machine: virtio over MMIO instead of PCI, no option ROMs, PIT or PIC, an initramfs that loads only the MMIO ' +
        'modules and a kernel command line tuned for boot time. Same boundary, less virtual hardware to set up and probe.'
      : 'the same guest, restored instead of booted: a template guest was booted once on the microvm machine to the point ' +
        'where its executor waits for a task, and saved to a file (QEMU migration); each task starts a new QEMU that ' +
        'loads that file, gets its own input disk, and receives its task on the serial console. It skips the kernel ' +
        'boot and node\'s start-up; it pays by reading the saved memory and by every copy starting from the same state ' +
        '(clock, entropy and page cache are refreshed after the restore).',
    engine: { name: 'QEMU (direct)', version: null, detail: null, versionAttribute: 'vm.qemu.version' },
    limits: { cpus: true, mem: true, pids: false, how: 'the guest\'s vCPUs and memory size (no CPU quota: no libvirt cgroup)' },
    priors: micro ? { startupSeconds: 12, launchSeconds: 8, countMBps: 4 } : { startupSeconds: 6, launchSeconds: 2, countMBps: 4 },
  };
}
