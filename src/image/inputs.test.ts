import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findGuestKernel, importClosure, resolveModules, wantedModules } from './inputs.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'isolab-image-test-'));
  dirs.push(d);
  return d;
};

describe('resolveModules', () => {
  const dir = tmp();
  writeFileSync(join(dir, 'modules.dep'), [
    'kernel/drivers/virtio/virtio_ring.ko:',
    'kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko',
    'kernel/drivers/block/virtio_blk.ko.xz: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko',
    'kernel/drivers/char/hw_random/virtio-rng.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko',
    '',
  ].join('\n'));

  it('puts dependencies first, once, and keeps the listed order otherwise', () => {
    expect(resolveModules(dir, ['virtio_blk', 'virtio-rng']).map((m) => m.name)).toEqual(['virtio_ring', 'virtio', 'virtio_blk', 'virtio-rng']);
    expect(resolveModules(dir, ['virtio_ring', 'virtio', 'virtio_blk']).map((m) => m.src)).toEqual([
      join(dir, 'kernel/drivers/virtio/virtio_ring.ko'), join(dir, 'kernel/drivers/virtio/virtio.ko'), join(dir, 'kernel/drivers/block/virtio_blk.ko.xz'),
    ]);
  });

  it('treats - and _ alike and fails on an unknown module', () => {
    expect(resolveModules(dir, ['virtio_rng']).map((m) => m.name)).toEqual(['virtio_ring', 'virtio', 'virtio_rng']);
    expect(() => resolveModules(dir, ['nope'])).toThrow(/kernel module nope not found/);
  });

  it('reads the list the guest folder ships, virtio_blk included', () => {
    expect(wantedModules()).toContain('virtio_blk');
  });
});

describe('importClosure', () => {
  it('follows relative imports and re-exports of compiled files', () => {
    const d = tmp();
    mkdirSync(join(d, 'a'));
    mkdirSync(join(d, 'b'));
    writeFileSync(join(d, 'a', 'main.js'), "import { x } from '../b/x.js';\nimport 'node:fs';\nconst s = 'not from \"here\"';\n");
    writeFileSync(join(d, 'b', 'x.js'), "export { y } from './y.js';\nexport const x = 1;\n");
    writeFileSync(join(d, 'b', 'y.js'), 'export const y = 2;\n');
    writeFileSync(join(d, 'b', 'unused.js'), '');
    expect(importClosure(join(d, 'a', 'main.js'))).toEqual([join(d, 'a', 'main.js'), join(d, 'b', 'x.js'), join(d, 'b', 'y.js')]);
  });

  it('refuses package imports: the guest has no node_modules', () => {
    const d = tmp();
    writeFileSync(join(d, 'main.js'), "import Docker from 'dockerode';\n");
    expect(() => importClosure(join(d, 'main.js'))).toThrow(/imports package "dockerode"/);
  });
});

describe('findGuestKernel (a kernels folder laid out like scripts/setup.sh kernel leaves it)', () => {
  const unpacked = (release: string, record: object = { package: `linux-image-${release}`, version: '6.1.1-1', release }): string => {
    const dir = tmp();
    const pkg = join(dir, `linux-image-${release}_6.1.1-1`);
    mkdirSync(join(pkg, 'boot'), { recursive: true });
    mkdirSync(join(pkg, 'lib', 'modules', release), { recursive: true });
    writeFileSync(join(pkg, 'boot', `vmlinuz-${release}`), '');
    writeFileSync(join(pkg, 'lib', 'modules', release, 'modules.dep'), '');
    writeFileSync(join(pkg, 'isolab-kernel.json'), JSON.stringify(record));
    symlinkSync(`linux-image-${release}_6.1.1-1`, join(dir, 'current'));
    return dir;
  };

  it('takes the kernel and modules that kernels/current points at, never /boot', () => {
    const dir = unpacked('6.1.0-10-cloud-amd64');
    const pkg = join(dir, 'linux-image-6.1.0-10-cloud-amd64_6.1.1-1');
    expect(findGuestKernel(dir)).toEqual({
      version: '6.1.0-10-cloud-amd64', path: join(pkg, 'boot', 'vmlinuz-6.1.0-10-cloud-amd64'),
      modulesDir: join(pkg, 'lib', 'modules', '6.1.0-10-cloud-amd64'), package: 'linux-image-6.1.0-10-cloud-amd64 6.1.1-1',
    });
  });

  it('says how to get one when there is none, or the record is unusable', () => {
    expect(findGuestKernel(tmp())).toMatchObject({ none: expect.stringMatching(/scripts\/setup\.sh kernel/) });
    const evil = unpacked('6.1.0-10-cloud-amd64', { release: '../../../../boot/x' });
    expect(findGuestKernel(evil)).toMatchObject({ none: expect.stringMatching(/no valid kernel release/) });
    const noModules = unpacked('6.1.0-11-cloud-amd64');
    rmSync(join(noModules, 'linux-image-6.1.0-11-cloud-amd64_6.1.1-1', 'lib', 'modules', '6.1.0-11-cloud-amd64', 'modules.dep'));
    expect(findGuestKernel(noModules)).toMatchObject({ none: expect.stringMatching(/modules\.dep missing/) });
  });
});
