import { appendFileSync, chownSync, lstatSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BootFileError, BootFileGuard } from './boot-files.js';
import type { VmImage } from './guest-image.js';

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

function fakeImage(sha256: VmImage['sha256'] = {}): { image: VmImage; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'isolab-boot-'));
  writeFileSync(join(dir, 'root.ext4'), 'root disk', { mode: 0o644 });
  writeFileSync(join(dir, 'vmlinuz'), 'kernel', { mode: 0o644 });
  writeFileSync(join(dir, 'initramfs.cpio.gz'), 'initramfs', { mode: 0o644 });
  const image: VmImage = {
    id: 'abcdef012345', hash: 'x', dir, rootDisk: join(dir, 'root.ext4'), kernel: join(dir, 'vmlinuz'), initramfs: join(dir, 'initramfs.cpio.gz'),
    startMarker: 's', endMarker: 'e', taskParam: 't', inputDevice: '/dev/vdb', cmdline: 'c', sha256,
  };
  return { image, dir };
}

const asRoot = process.getuid?.() === 0;

describe('BootFileGuard (files in a temp folder, not the real image)', () => {
  it('checks each file against the manifest digests and refuses a root disk that changed', async () => {
    const { image, dir } = fakeImage({ rootDisk: sha('root disk'), kernel: sha('kernel'), initramfs: sha('initramfs') });
    const g = new BootFileGuard(join(dir, 'digests'));
    expect((await g.check(image)).map((c) => c.reference)).toEqual(['manifest', 'manifest', 'manifest']);
    appendFileSync(image.rootDisk, '!');
    await expect(g.check(image)).rejects.toThrow(BootFileError);
    await expect(g.check(image)).rejects.toThrow(/root\.ext4 is not the file the guest image was built with .*isolab image build --force/);
  });

  it('without manifest digests, records them on first use (root-only) and catches a later change of the kernel', async () => {
    const { image, dir } = fakeImage();
    const g = new BootFileGuard(join(dir, 'digests'));
    expect((await g.check(image)).map((c) => c.reference)).toEqual(['first-use', 'first-use', 'first-use']);
    expect(lstatSync(join(dir, 'digests')).mode & 0o777).toBe(0o700);
    expect(lstatSync(join(dir, 'digests', `${image.id}.json`)).mode & 0o777).toBe(0o600);
    appendFileSync(image.kernel, 'x');
    await expect(new BootFileGuard(join(dir, 'digests')).check(image)).rejects.toThrow(/vmlinuz is not the file/);
    await expect(g.check(image)).rejects.toThrow(/vmlinuz is not the file/);
  });

  it('gives a root disk that libvirt chowned to QEMU (as isolab did before) back to root, mode 0644', async (ctx) => {
    if (!asRoot) ctx.skip('needs root (chown); make test runs as root');
    const { image, dir } = fakeImage({ rootDisk: sha('root disk') });
    chownSync(image.rootDisk, 64055, 64055);
    await new BootFileGuard(join(dir, 'digests')).check(image);
    const st = lstatSync(image.rootDisk);
    expect([st.uid, st.gid, st.mode & 0o7777]).toEqual([0, 0, 0o644]);
  });

  it('refuses a symlink in place of a boot file', async () => {
    const { image, dir } = fakeImage();
    writeFileSync(join(dir, 'other'), 'other');
    image.initramfs = join(dir, 'link');
    symlinkSync(join(dir, 'other'), image.initramfs);
    await expect(new BootFileGuard(join(dir, 'digests')).check(image)).rejects.toThrow(/link is not a regular file/);
  });
});
