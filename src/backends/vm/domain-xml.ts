import type { Resources } from '../../master/resources.js';

/** XML namespace of isolab's `<metadata>` element in a domain. */
export const METADATA_NS = 'https://github.com/isolab/isolab/domain/1';

/** Smallest guest memory isolab gives a VM (MiB): the kernel, initramfs and node need about this much. */
export const MIN_GUEST_MEM_MIB = 128;

/** Accelerator a domain runs under: hardware (`kvm`) or QEMU's software emulator (`tcg`). */
export type Accelerator = 'kvm' | 'tcg';

/** A disk handed to the guest. Every disk is read-only. */
export interface DiskSpec {
  /** Host path of the raw file. */
  file: string;
  /** Guest device name: vda, vdb, ... */
  target: string;
  /**
   * Shared by every VM (the root disk): libvirt must not relabel it (`<seclabel model='dac'
   * relabel='no'/>`), so it stays root-owned and QEMU, running as an unprivileged user, can only
   * read it (it is world-readable). Other disks are per-session copies that libvirt may chown to QEMU.
   */
  shared?: boolean;
}

/** Everything that goes into one transient domain's XML. */
export interface DomainSpec {
  /** Domain name, `isolab-<session>-<task>`. */
  name: string;
  /** Session that owns the domain (metadata, for the reaper). */
  session: string;
  /** Task id (metadata). */
  taskId: string;
  /** kvm or tcg. */
  accelerator: Accelerator;
  /** Number of vCPUs. */
  vcpus: number;
  /** Guest memory (MiB). */
  memMiB: number;
  /** CFS quota for the whole domain as a fraction of cores, when the request is fractional. */
  cpuQuota?: number;
  /** Kernel file (direct kernel boot). */
  kernel: string;
  /** Initramfs file. */
  initramfs: string;
  /** Kernel command line. */
  cmdline: string;
  /** Read-only disks, in order. */
  disks: DiskSpec[];
  /** File the first serial port writes to. */
  serialLog: string;
  /** QEMU's translation-block cache size (MiB) under TCG; smaller saves host memory. */
  tbCacheMiB?: number;
}

/** vCPUs and guest memory for a task's resources, and whether they match what was asked. */
export interface GuestSize {
  /** vCPUs: the requested cpus rounded up, at least 1. */
  vcpus: number;
  /** Guest memory (MiB): the request rounded up, at least MIN_GUEST_MEM_MIB. */
  memMiB: number;
  /** Domain-wide CPU quota in cores when the cpus request is fractional, else undefined. */
  cpuQuota?: number;
  /** True when memMiB equals the request. */
  memExact: boolean;
}

/** Maps Mesos-style resources onto a VM's size. */
export function guestSize(r: Resources, minMemMiB = MIN_GUEST_MEM_MIB): GuestSize {
  const vcpus = Math.max(1, Math.ceil(r.cpus - 1e-9));
  const asked = Math.ceil(r.mem - 1e-9);
  const memMiB = Math.max(minMemMiB, asked);
  const fractional = r.cpus > 0 && Math.abs(r.cpus - vcpus) > 1e-9;
  return { vcpus, memMiB, cpuQuota: fractional ? r.cpus : undefined, memExact: memMiB === asked };
}

/** Escapes text for an XML attribute or element. */
export function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/**
 * The libvirt XML of a transient, network-less domain that boots `kernel` + `initramfs` directly,
 * with read-only virtio disks, virtio-rng and the first serial port written to a file.
 */
export function domainXml(d: DomainSpec): string {
  const e = xmlEscape;
  const type = d.accelerator === 'kvm' ? 'kvm' : 'qemu';
  const features =
    d.accelerator === 'tcg' ? `<acpi/><tcg><tb-cache unit='MiB'>${d.tbCacheMiB ?? 16}</tb-cache></tcg>` : '<acpi/>';
  const period = 100_000;
  const cputune =
    d.cpuQuota !== undefined
      ? `  <cputune><global_period>${period}</global_period><global_quota>${Math.max(1000, Math.round(d.cpuQuota * period))}</global_quota></cputune>\n`
      : '';
  const disks = d.disks
    .map(
      (k) =>
        `    <disk type='file' device='disk'><driver name='qemu' type='raw'/>` +
        (k.shared ? `<source file='${e(k.file)}'><seclabel model='dac' relabel='no'/></source>` : `<source file='${e(k.file)}'/>`) +
        `<target dev='${e(k.target)}' bus='virtio'/><readonly/></disk>\n`,
    )
    .join('');
  return (
    `<domain type='${type}'>\n` +
    `  <name>${e(d.name)}</name>\n` +
    `  <description>isolab task ${e(d.taskId)} of session ${e(d.session)}</description>\n` +
    `  <metadata><isolab:task xmlns:isolab='${METADATA_NS}' session='${e(d.session)}' task='${e(d.taskId)}'/></metadata>\n` +
    `  <memory unit='MiB'>${d.memMiB}</memory>\n` +
    `  <currentMemory unit='MiB'>${d.memMiB}</currentMemory>\n` +
    `  <vcpu placement='static'>${d.vcpus}</vcpu>\n` +
    cputune +
    `  <os><type arch='x86_64' machine='q35'>hvm</type>` +
    `<kernel>${e(d.kernel)}</kernel><initrd>${e(d.initramfs)}</initrd><cmdline>${e(d.cmdline)}</cmdline></os>\n` +
    `  <features>${features}</features>\n` +
    `  <clock offset='utc'/>\n` +
    `  <on_poweroff>destroy</on_poweroff><on_reboot>destroy</on_reboot><on_crash>destroy</on_crash>\n` +
    `  <devices>\n` +
    disks +
    `    <serial type='file'><source path='${e(d.serialLog)}'/><target port='0'/></serial>\n` +
    `    <rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>\n` +
    `    <memballoon model='none'/>\n` +
    `  </devices>\n` +
    `</domain>\n`
  );
}

/** Session and task read back from a domain's XML metadata, when it is an isolab domain. */
export function parseMetadata(xml: string): { session?: string; taskId?: string } {
  const m = /<(?:[a-z0-9]+:)?task\b[^>]*xmlns(?::[a-z0-9]+)?=['"]https:\/\/github\.com\/isolab\/isolab\/domain\/1['"][^>]*>/i.exec(xml);
  if (!m) return {};
  const attr = (n: string): string | undefined => new RegExp(`\\b${n}=['"]([^'"]*)['"]`).exec(m[0])?.[1];
  return { session: attr('session'), taskId: attr('task') };
}
