import { describe, expect, it } from 'vitest';
import { parseCapabilities, parseVersion } from './host-facts.js';

describe('host facts parsing', () => {
  it('reads libvirt and QEMU versions from virsh version', () => {
    const text = 'Compiled against library: libvirt 9.0.0\nUsing library: libvirt 9.0.0\nUsing API: QEMU 9.0.0\nRunning hypervisor: QEMU 7.2.22\n';
    expect(parseVersion(text)).toEqual({ libvirtVersion: '9.0.0', hypervisor: 'QEMU 7.2.22', qemuVersion: '7.2.22' });
  });

  it('reads the x86_64 hvm domain types and emulator from capabilities', () => {
    const xml = `<capabilities><host/>
      <guest><os_type>hvm</os_type><arch name='i686'><emulator>/usr/bin/qemu-system-i386</emulator><domain type='qemu'/></arch></guest>
      <guest><os_type>hvm</os_type><arch name='x86_64'><wordsize>64</wordsize><emulator>/usr/bin/qemu-system-x86_64</emulator>
      <domain type='qemu'/><domain type='kvm'/></arch></guest></capabilities>`;
    expect(parseCapabilities(xml)).toEqual({ domainTypes: ['qemu', 'kvm'], emulator: '/usr/bin/qemu-system-x86_64' });
    expect(parseCapabilities('<capabilities/>')).toEqual({ domainTypes: [] });
  });
});
