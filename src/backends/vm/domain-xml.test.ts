import { describe, expect, it } from 'vitest';
import { domainXml, guestSize, MIN_GUEST_MEM_MIB, parseMetadata, xmlEscape, type DomainSpec } from './domain-xml.js';

const base: DomainSpec = {
  name: 'isolab-abc123-t1', session: 'abc123', taskId: 't1', accelerator: 'tcg', vcpus: 2, memMiB: 256,
  kernel: '/k/vmlinuz', initramfs: '/k/initramfs.cpio.gz', cmdline: 'console=ttyS0 isolab.task=eyJ4IjoxfQ',
  disks: [{ file: '/s/root.ext4', target: 'vda', shared: true }, { file: '/s/in & out.raw', target: 'vdb' }], serialLog: '/s/serial.log',
};

describe('guestSize', () => {
  it('rounds cpus up to whole vCPUs (at least 1) and caps fractional requests with a quota', () => {
    expect(guestSize({ cpus: 1, mem: 256 })).toEqual({ vcpus: 1, memMiB: 256, cpuQuota: undefined, memExact: true });
    expect(guestSize({ cpus: 3, mem: 512 })).toMatchObject({ vcpus: 3, cpuQuota: undefined });
    expect(guestSize({ cpus: 0.5, mem: 256 })).toMatchObject({ vcpus: 1, cpuQuota: 0.5 });
    expect(guestSize({ cpus: 1.5, mem: 256 })).toMatchObject({ vcpus: 2, cpuQuota: 1.5 });
    expect(guestSize({ cpus: 0, mem: 256 })).toMatchObject({ vcpus: 1, cpuQuota: undefined });
  });

  it('raises memory to the minimum and says so', () => {
    expect(guestSize({ cpus: 1, mem: 64 })).toMatchObject({ memMiB: MIN_GUEST_MEM_MIB, memExact: false });
    expect(guestSize({ cpus: 1, mem: 200.4 })).toMatchObject({ memMiB: 201, memExact: true });
  });
});

describe('domainXml', () => {
  it('describes a network-less direct-kernel-boot domain with read-only virtio disks, rng and a serial file', () => {
    const x = domainXml(base);
    expect(x).toMatch(/^<domain type='qemu'>/);
    expect(x).toContain("<name>isolab-abc123-t1</name>");
    expect(x).toContain("<memory unit='MiB'>256</memory>");
    expect(x).toContain("<vcpu placement='static'>2</vcpu>");
    expect(x).toContain('<kernel>/k/vmlinuz</kernel><initrd>/k/initramfs.cpio.gz</initrd>');
    expect(x).toContain("<tb-cache unit='MiB'>16</tb-cache>");
    expect(x.match(/<readonly\/>/g)).toHaveLength(2);
    expect(x).toContain("<source file='/s/in &amp; out.raw'/><target dev='vdb' bus='virtio'/>");
    expect(x).toContain("<source file='/s/root.ext4'><seclabel model='dac' relabel='no'/></source><target dev='vda' bus='virtio'/><readonly/>");
    expect(x.match(/<seclabel/g)).toHaveLength(1);
    expect(x).toContain("<serial type='file'><source path='/s/serial.log'/>");
    expect(x).toContain("<rng model='virtio'>");
    expect(x).not.toMatch(/<interface/);
    expect(x).not.toMatch(/<cputune>/);
    expect(x).toContain('<on_reboot>destroy</on_reboot>');
  });

  it('uses the kvm domain type without the TCG cache under KVM, and a CFS quota for fractional cpus', () => {
    const x = domainXml({ ...base, accelerator: 'kvm', cpuQuota: 1.5 });
    expect(x).toMatch(/^<domain type='kvm'>/);
    expect(x).not.toContain('tb-cache');
    expect(x).toContain('<global_period>100000</global_period><global_quota>150000</global_quota>');
  });

  it('carries the session and task in metadata that parseMetadata reads back', () => {
    expect(parseMetadata(domainXml(base))).toEqual({ session: 'abc123', taskId: 't1' });
    const live = `<domain><metadata>\n    <isolab:task xmlns:isolab="https://github.com/isolab/isolab/domain/1" session="s9" task="m-2"/>\n  </metadata></domain>`;
    expect(parseMetadata(live)).toEqual({ session: 's9', taskId: 'm-2' });
    expect(parseMetadata('<domain><name>other</name></domain>')).toEqual({});
  });

  it('escapes XML specials', () => {
    expect(xmlEscape(`a<b>&"c'`)).toBe('a&lt;b&gt;&amp;&quot;c&apos;');
  });
});
