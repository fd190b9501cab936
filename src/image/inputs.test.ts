import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findGuestKernel, importClosure, resolveModules, wantedModules } from './inputs.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'isolab-image-test-'));

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

describe('findGuestKernel', () => {
  it('picks the newest cloud kernel that has modules', () => {
    const boot = tmp();
    const mods = tmp();
    for (const v of ['6.1.0-9-cloud-amd64', '6.1.0-10-cloud-amd64', '6.1.0-11-amd64']) {
      writeFileSync(join(boot, `vmlinuz-${v}`), '');
      mkdirSync(join(mods, v));
      writeFileSync(join(mods, v, 'modules.dep'), '');
    }
    expect(findGuestKernel(boot, mods)).toEqual({ version: '6.1.0-10-cloud-amd64', path: join(boot, 'vmlinuz-6.1.0-10-cloud-amd64'), modulesDir: join(mods, '6.1.0-10-cloud-amd64') });
    expect(findGuestKernel(tmp(), mods)).toMatchObject({ none: expect.stringMatching(/linux-image-cloud-amd64/) });
  });
});
