import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectDocker } from '../../src/backends/docker/connection.js';
import { currentImage, ensureImage, GUEST } from '../../src/image/index.js';
import { stateDir } from '../../src/session/state-dir.js';
import { isolab, tempDir } from '../cli/helpers.js';

/** Every file under `dir` with its size and mtime, to show that nothing was rewritten. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const s = statSync(p);
        out[p] = `${s.size}:${s.mtimeMs}:${s.ino}`;
      }
    }
  };
  walk(dir);
  return out;
}

describe('guest image (real dockerd)', () => {
  it('is content-addressed: a second ensureImage builds nothing (same id and Docker image, no file written, no build step logged)', async () => {
    const first = await ensureImage();
    const imagesBefore = readdirSync(join(stateDir(), 'images')).filter((n) => !n.endsWith('.json')).sort();
    const filesBefore = snapshot(first.dir);
    const log: string[] = [];
    const second = await ensureImage({ log: (l) => log.push(l) });
    expect(second.built).toBe(false);
    expect(log).toEqual([]);
    expect(second.hash).toBe(first.hash);
    expect(second.dockerImageId).toBe(first.dockerImageId);
    expect(snapshot(second.dir)).toEqual(filesBefore);
    expect(readdirSync(join(stateDir(), 'images')).filter((n) => !n.endsWith('.json')).sort()).toEqual(imagesBefore);
    expect((await currentImage())?.hash).toBe(first.hash);
    expect(second.dockerTag).toBe(`isolab-guest:${first.hash.slice(0, 12)}`);
    expect(second.dir).toBe(join(stateDir(), 'images', first.id));
    for (const f of [second.rootDisk, second.kernel!, second.initramfs!, join(second.dir, 'manifest.json')]) expect(existsSync(f)).toBe(true);
    expect(JSON.parse(readFileSync(join(second.dir, 'manifest.json'), 'utf8')).hash).toBe(first.hash);
    const docker = (await connectDocker()).docker;
    const inspect = await docker.getImage(second.dockerTag).inspect();
    expect(inspect.Id).toBe(second.dockerImageId);
  });

  it('holds the host node, the executor, the guest init, and the kernel setup unpacked into the state folder (not /boot)', async () => {
    const img = await ensureImage();
    expect(img.nodeVersion).toBe(process.version);
    const roles = new Set(img.inputs.map((i) => i.role));
    for (const r of ['node', 'lib', 'busybox', 'app', 'guest', 'kernel', 'module']) expect(roles.has(r as never)).toBe(true);
    const app = img.inputs.filter((i) => i.role === 'app').map((i) => i.dest);
    expect(app).toContain(GUEST.executor);
    expect(app).toContain('/opt/isolab/dist/executor/protocol.js');
    expect(img.modules.indexOf('virtio_blk')).toBeGreaterThan(img.modules.indexOf('virtio_ring'));
    for (const i of img.inputs.filter((f) => f.role === 'kernel' || f.role === 'module')) {
      expect(i.src.startsWith(realpathSync(join(stateDir(), 'kernels')) + '/'), i.src).toBe(true);
      expect(i.src).not.toMatch(/^\/(boot|lib\/modules|usr\/lib\/modules)\//);
    }
  });
});

describe('isolab image list / prune (CLI, scratch state folder, real dockerd)', () => {
  it('list shows the folders by id; prune removes old images/<id> folders and their tags only, never a path a manifest names', async () => {
    const docker = (await connectDocker()).docker;
    const base = await ensureImage();
    const state = tempDir('isolab-image-prune-');
    const sentinel = tempDir('isolab-image-sentinel-');
    writeFileSync(join(sentinel, 'keep.txt'), 'not isolab\'s\n');
    const [oldId, halfId, foreignId] = [0, 1, 2].map(() => randomBytes(6).toString('hex'));
    const images = join(state, 'images');
    mkdirSync(join(images, oldId!), { recursive: true });
    mkdirSync(join(images, halfId!), { recursive: true });
    mkdirSync(join(images, 'not-an-id'), { recursive: true });
    writeFileSync(join(images, oldId!, 'root.ext4'), '');
    // A manifest naming a folder outside the state folder: prune and list must not use it.
    writeFileSync(join(images, oldId!, 'manifest.json'), JSON.stringify({
      hash: oldId!.padEnd(64, '0'), id: oldId, builderVersion: 1, createdAt: '2020-01-01T00:00:00.000Z', dir: sentinel,
      dockerTag: `isolab-guest:${oldId}`, rootDisk: join(sentinel, 'keep.txt'), rootDiskBytes: 0, modules: [], nodeVersion: 'v0',
      guest: {}, treeBytes: 0, buildMs: {}, inputs: [],
    }));
    await docker.getImage(base.dockerTag).tag({ repo: 'isolab-guest', tag: oldId });
    await docker.getImage(base.dockerTag).tag({ repo: 'isolab-guest', tag: foreignId });
    const env = { ISOLAB_STATE_DIR: state };
    try {
      const list = await isolab(['image', 'list', '--json'], env);
      expect(list.code, list.stderr).toBe(0);
      const listed = JSON.parse(list.stdout) as { current: string | null; images: { id: string; dir: string; rootDisk: string }[] };
      expect(listed.images.map((i) => i.id)).toEqual([oldId]);
      expect(listed.images[0]).toMatchObject({ dir: join(images, oldId!), rootDisk: join(images, oldId!, 'root.ext4') });

      const dry = await isolab(['image', 'prune', '--dry-run', '--json'], env);
      expect(dry.code, dry.stderr).toBe(0);
      const planned = JSON.parse(dry.stdout) as { dryRun: boolean; items: { kind: string; id: string }[] };
      expect(planned.items).toEqual(expect.arrayContaining([
        { kind: 'disk', id: join(images, oldId!) }, { kind: 'disk', id: join(images, halfId!) }, { kind: 'docker', id: `isolab-guest:${oldId}` },
      ]));
      expect(planned.items).toHaveLength(3);
      expect(existsSync(join(images, oldId!))).toBe(true);

      const pruned = await isolab(['image', 'prune'], env);
      expect(pruned.code, pruned.stderr).toBe(0);
      expect(pruned.stdout).toContain('3 old image part(s) removed');
      expect(readdirSync(images).filter((n) => n !== 'digests.json').sort()).toEqual(['not-an-id']);
      expect(readFileSync(join(sentinel, 'keep.txt'), 'utf8')).toBe('not isolab\'s\n');
      const tags = (await docker.getImage(base.dockerTag).inspect()).RepoTags;
      expect(tags).not.toContain(`isolab-guest:${oldId}`);
      expect(tags).toContain(`isolab-guest:${foreignId}`);
      expect(tags).toContain(base.dockerTag);
    } finally {
      for (const t of [oldId, foreignId]) await docker.getImage(`isolab-guest:${t}`).remove().catch(() => {});
      rmSync(state, { recursive: true, force: true });
      rmSync(sentinel, { recursive: true, force: true });
    }
  });
});
