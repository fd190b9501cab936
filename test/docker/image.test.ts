import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectDocker } from '../../src/backends/docker/connection.js';
import { currentImage, ensureImage, GUEST } from '../../src/image/index.js';
import { stateDir } from '../../src/session/state-dir.js';

describe('guest image (real dockerd)', () => {
  it('is content-addressed: a second ensureImage skips the build, fast, with the same hash', async () => {
    const first = await ensureImage();
    const t0 = performance.now();
    const second = await ensureImage();
    const ms = performance.now() - t0;
    expect(second.built).toBe(false);
    expect(second.hash).toBe(first.hash);
    expect(ms).toBeLessThan(3000);
    expect((await currentImage())?.hash).toBe(first.hash);
    expect(second.dockerTag).toBe(`isolab-guest:${first.hash.slice(0, 12)}`);
    expect(second.dir).toBe(join(stateDir(), 'images', first.id));
    for (const f of [second.rootDisk, second.kernel!, second.initramfs!, join(second.dir, 'manifest.json')]) expect(existsSync(f)).toBe(true);
    expect(JSON.parse(readFileSync(join(second.dir, 'manifest.json'), 'utf8')).hash).toBe(first.hash);
    const docker = (await connectDocker()).docker;
    const inspect = await docker.getImage(second.dockerTag).inspect();
    expect(inspect.Id).toBe(second.dockerImageId);
  });

  it('holds the host node, the executor and the guest init', async () => {
    const img = (await ensureImage());
    expect(img.nodeVersion).toBe(process.version);
    const roles = new Set(img.inputs.map((i) => i.role));
    for (const r of ['node', 'lib', 'busybox', 'app', 'guest', 'kernel', 'module']) expect(roles.has(r as never)).toBe(true);
    const app = img.inputs.filter((i) => i.role === 'app').map((i) => i.dest);
    expect(app).toContain(GUEST.executor);
    expect(app).toContain('/opt/isolab/dist/executor/protocol.js');
    expect(img.modules.indexOf('virtio_blk')).toBeGreaterThan(img.modules.indexOf('virtio_ring'));
  });
});
