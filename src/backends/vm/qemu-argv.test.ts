import { describe, expect, it } from 'vitest';
import { hostTscKhz, microCmdline, qemuArgv } from './qemu-argv.js';
import { templateName } from './snapshot.js';

describe('direct QEMU command lines', () => {
  it('reads the host TSC frequency from /proc/cpuinfo text, to the MHz', () => {
    expect(hostTscKhz('processor\t: 0\ncpu MHz\t\t: 2096.041\n')).toBe(2_096_000);
    expect(hostTscKhz('processor\t: 0\n')).toBeUndefined();
    expect(microCmdline('console=ttyS0 quiet', 2_096_000)).toBe('console=ttyS0 quiet isolab.bus=mmio no_timer_check edd=off tsc_early_khz=2096000');
  });

  it('puts microvm devices on virtio-mmio and q35 ones on PCI, every disk read-only', () => {
    const spec = {
      emulator: 'qemu-system-x86_64', accelerator: 'tcg' as const, memMiB: 256, vcpus: 1, kernel: 'k', initramfs: 'i', cmdline: 'c',
      disks: [{ file: '/r', id: 'root' }, { file: '/in', id: 'input' }], serial: 'stdio',
    };
    const micro = qemuArgv({ ...spec, machine: 'microvm' }).join(' ');
    expect(micro).toContain('-machine microvm,acpi=on,x-option-roms=off,pit=off,pic=off -accel tcg,tb-size=16');
    expect(micro).toContain('-drive file=/in,format=raw,if=none,id=input,readonly=on -device virtio-blk-device,drive=input');
    expect(micro).toContain('-device virtio-rng-device,rng=rng0');
    const q35 = qemuArgv({ ...spec, machine: 'q35', accelerator: 'kvm' }).join(' ');
    expect(q35).toContain('-machine q35 -accel kvm');
    expect(q35).toContain('-device virtio-blk-pci,drive=root');
  });

  it('names a template by accelerator, size and a hash of QEMU version and command line', () => {
    const k = { imageId: 'abc', accelerator: 'tcg' as const, memMiB: 256, vcpus: 1, qemuVersion: '7.2.22', cmdline: 'x' };
    expect(templateName(k)).toMatch(/^tcg-256m-1c-[0-9a-f]{8}$/);
    expect(templateName({ ...k, qemuVersion: '8.0' })).not.toBe(templateName(k));
    expect(templateName({ ...k, imageId: 'other' })).toBe(templateName(k));
  });
});
