import { describe, expect, it } from 'vitest';
import { domainXml, METADATA_NS } from './domain-xml.js';
import { domainOwner } from './owned.js';

const xml = (name: string, session?: string): string =>
  session
    ? domainXml({ name, session, taskId: 't1', accelerator: 'tcg', vcpus: 1, memMiB: 128, kernel: '/k', initramfs: '/i', cmdline: '', disks: [], serialLog: '/s' })
    : `<domain type='qemu'><name>${name}</name></domain>`;

describe('domainOwner: which domains the reaper may take', () => {
  it('a transient domain named isolab-<session>-… with isolab metadata naming that session', () => {
    expect(domainOwner('isolab-ab12cd-t1', xml('isolab-ab12cd-t1', 'ab12cd'), true)).toBe('ab12cd');
  });

  it('never a persistent domain, whatever its name and metadata', () => {
    expect(domainOwner('isolab-ab12cd-t1', xml('isolab-ab12cd-t1', 'ab12cd'), false)).toBeUndefined();
  });

  it('never a domain without the metadata, with another session in it, or with a name not of the isolab form', () => {
    expect(domainOwner('isolab-foo', xml('isolab-foo'), true)).toBeUndefined();
    expect(domainOwner('isolab-ab12cd-t1', xml('isolab-ab12cd-t1'), true)).toBeUndefined();
    expect(domainOwner('isolab-ab12cd-t1', xml('isolab-ab12cd-t1', 'zz99zz'), true)).toBeUndefined();
    expect(domainOwner('vagrant_isolab-ab12cd-t1', xml('vagrant_isolab-ab12cd-t1', 'ab12cd'), true)).toBeUndefined();
    const foreignNs = `<domain><metadata><x:task xmlns:x='https://example.org/other' session='ab12cd'/></metadata></domain>`;
    expect(domainOwner('isolab-ab12cd-t1', foreignNs, true)).toBeUndefined();
    expect(domainOwner('isolab-ab12cd-t1', undefined, true)).toBeUndefined();
    expect(METADATA_NS).toMatch(/^https:\/\//);
  });
});
