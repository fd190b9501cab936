import { readFileSync } from 'node:fs';
import type { Accelerator } from './domain-xml.js';

/**
 * Kernel command line additions of the micro boot path, each kept because it helped or is needed
 * (README, "vm:micro"): virtio over MMIO in the initramfs; the TSC frequency given instead of
 * calibrated (microvm has no HPET or PM timer to calibrate against: under a loaded TCG host the PIT
 * calibration fails and the boot hangs at the IO-APIC timer check); no timer check; no EDD probe.
 */
export const MICRO_CMDLINE = 'isolab.bus=mmio no_timer_check edd=off';

/** QEMU's microvm machine as isolab uses it: ACPI (the kernel finds its virtio-mmio devices there), no option ROMs, PIT or PIC. */
export const MICROVM_MACHINE = 'microvm,acpi=on,x-option-roms=off,pit=off,pic=off';

/** Size the guest sees its input disk as, in a snapshot (sparse): a restored guest keeps the template's disk size. */
export const SNAPSHOT_INPUT_CAPACITY = 16 * 2 ** 30;

/** The host's TSC frequency (kHz) from /proc/cpuinfo (TCG guests read the host's TSC), or undefined. */
export function hostTscKhz(cpuinfo?: string): number | undefined {
  let text = cpuinfo;
  try {
    text ??= readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return undefined;
  }
  const m = /^cpu MHz\s*:\s*([0-9.]+)/m.exec(text);
  const khz = m ? Math.round(Number(m[1])) * 1000 : NaN;
  return Number.isFinite(khz) && khz > 0 ? khz : undefined;
}

/** The micro boot path's kernel command line: the image's, the tuned additions, and the TSC frequency when known. */
export function microCmdline(imageCmdline: string, tscKhz = hostTscKhz()): string {
  return `${imageCmdline} ${MICRO_CMDLINE}${tscKhz ? ` tsc_early_khz=${tscKhz}` : ''}`;
}

/** A read-only raw disk given to a directly started QEMU. */
export interface QemuDisk {
  /** Host path. */
  file: string;
  /** Drive id (`root`, `input`). */
  id: string;
}

/** Everything in one directly started QEMU's command line. */
export interface QemuSpec {
  /** The QEMU binary. */
  emulator: string;
  /** `q35` (virtio over PCI, the libvirt boot path) or `microvm` (virtio over MMIO). */
  machine: 'q35' | 'microvm';
  /** kvm or tcg. */
  accelerator: Accelerator;
  /** Guest memory (MiB). */
  memMiB: number;
  /** vCPUs. */
  vcpus: number;
  /** Kernel, initramfs and command line (direct kernel boot). */
  kernel: string;
  /** Initramfs. */
  initramfs: string;
  /** Kernel command line. */
  cmdline: string;
  /** Read-only disks in order (vda, vdb). */
  disks: QemuDisk[];
  /** `-serial` value, e.g. `stdio`, `file:<path>`, `chardev:ser0`. */
  serial: string;
  /** Extra arguments (chardevs, QMP, -name, -pidfile, -incoming, -runas). */
  extra?: string[];
}

/**
 * The command line of a directly started QEMU: no defaults, no user config, no display, no reboot,
 * read-only virtio disks, virtio-rng from /dev/urandom, TCG's translation cache at 16 MiB.
 */
export function qemuArgv(s: QemuSpec): string[] {
  const bus = s.machine === 'microvm' ? 'device' : 'pci';
  const argv = [
    s.emulator, '-machine', s.machine === 'microvm' ? MICROVM_MACHINE : 'q35',
    '-accel', s.accelerator === 'kvm' ? 'kvm' : 'tcg,tb-size=16',
    '-m', String(s.memMiB), '-smp', String(s.vcpus),
    '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
    '-kernel', s.kernel, '-initrd', s.initramfs, '-append', s.cmdline,
  ];
  for (const d of s.disks) {
    argv.push('-drive', `file=${d.file},format=raw,if=none,id=${d.id},readonly=on`, '-device', `virtio-blk-${bus},drive=${d.id}`);
  }
  argv.push('-object', 'rng-random,id=rng0,filename=/dev/urandom', '-device', `virtio-rng-${bus},rng=rng0`);
  argv.push('-serial', s.serial, ...(s.extra ?? []));
  return argv;
}
