import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDocker, isNotFound } from '../../src/backends/docker/connection.js';
import { containerOwner, listOwnedContainers } from '../../src/backends/docker/owned.js';
import { ensureImage, IMAGE_LABEL, type ImageInfo } from '../../src/image/index.js';
import { reap } from '../../src/reaper/reaper.js';
import { sessionDir } from '../../src/session/session-lock.js';
import { LABELS } from '../../src/session/session.js';
import { killChild, sessionHolder, testSession } from './helpers.js';

const docker: Docker = (await connectDocker()).docker;
const OTHER_IMAGE = `isolabtest-other:${Date.now().toString(36)}`;
const created: string[] = [];
let img: ImageInfo;

/** An image that is not isolab's: an empty tarball imported under another name (no isolab.image label). */
function importOtherImage(): void {
  const dir = mkdtempSync(join(tmpdir(), 'isolab-other-img-'));
  const tar = spawnSync('tar', ['-C', dir, '-cf', '-', '.']);
  const r = spawnSync('docker', ['import', '-', OTHER_IMAGE], { input: tar.stdout });
  if (r.status !== 0) throw new Error(`docker import failed: ${r.stderr.toString()}`);
}

async function make(name: string, image: string, labels: Record<string, string>): Promise<string> {
  const c = await docker.createContainer({ name, Image: image, Cmd: ['/nothing'], Labels: labels, HostConfig: { NetworkMode: 'none' } });
  created.push(c.id);
  return c.id;
}

async function exists(id: string): Promise<boolean> {
  try {
    await docker.getContainer(id).inspect();
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

beforeAll(async () => {
  img = await ensureImage();
  importOtherImage();
}, 180_000);

afterAll(async () => {
  for (const id of created) await docker.getContainer(id).remove({ force: true }).catch(() => {});
  await docker.getImage(OTHER_IMAGE).remove({ force: true }).catch(() => {});
});

describe('reap --backend docker: only containers that are provably isolab\'s, removed by id', () => {
  it('leaves alone containers labelled isolab.owned=true by someone else; removes one made as isolab makes them', async () => {
    const s = testSession('rdock');
    const labels = { [LABELS.owned]: 'true', [LABELS.session]: s };
    const ours = await make(`isolab-${s}-t1`, img.dockerTag, { ...labels, [IMAGE_LABEL]: img.id });
    const otherImage = await make(`isolab-${s}-t2`, OTHER_IMAGE, labels);
    const forgedLabel = await make(`isolab-${s}-t3`, OTHER_IMAGE, { ...labels, [IMAGE_LABEL]: img.id });
    const noPrefix = await make(`someone-${s}-t4`, img.dockerTag, { ...labels, [IMAGE_LABEL]: img.id });
    const otherSessionName = await make(`isolab-zzzz${s.slice(4)}-t5`, img.dockerTag, { ...labels, [IMAGE_LABEL]: img.id });
    const listed = (await listOwnedContainers(docker, { backend: 'docker' })).filter((r) => r.session === s);
    expect(listed).toEqual([{ backend: 'docker', kind: 'container', id: ours, name: `isolab-${s}-t1`, session: s }]);
    const r = await reap({ backends: ['docker'], session: s });
    expect(r.items.map((i) => [i.id, i.removed, i.error])).toEqual([[ours, true, undefined]]);
    expect(await exists(ours)).toBe(false);
    for (const id of [otherImage, forgedLabel, noPrefix, otherSessionName]) expect(await exists(id), id).toBe(true);
  });

  it('leaves alone the containers of a running session unless --force', async () => {
    const s = testSession('rdlive');
    const holder = await sessionHolder(s);
    try {
      const id = await make(`isolab-${s}-t1`, img.dockerTag, { [LABELS.owned]: 'true', [LABELS.session]: s, [IMAGE_LABEL]: img.id });
      const r = await reap({ backends: ['docker'], session: s });
      expect(r.live).toEqual([expect.objectContaining({ session: s, pid: holder.pid })]);
      expect(r.items).toEqual([expect.objectContaining({ id, removed: false, skipped: expect.stringMatching(/is running/) })]);
      expect(await exists(id)).toBe(true);
      const f = await reap({ backends: ['docker'], session: s, force: true });
      expect(f.items).toEqual([expect.objectContaining({ id, removed: true })]);
      expect(await exists(id)).toBe(false);
    } finally {
      await killChild(holder);
      rmSync(sessionDir(s), { recursive: true, force: true });
    }
  });

  it('the ownership rule, case by case (no engine needed)', async () => {
    const label = async (imageId: string): Promise<string | undefined> => (imageId === 'sha256:isolab' ? '0123456789ab' : undefined);
    const c = (o: Partial<{ name: string; labels: Record<string, string>; image: string }>) => ({
      Id: 'x', Names: [`/${o.name ?? 'isolab-abcd1234-t1'}`], ImageID: o.image ?? 'sha256:isolab',
      Labels: o.labels ?? { [LABELS.owned]: 'true', [LABELS.session]: 'abcd1234', [IMAGE_LABEL]: '0123456789ab' },
    });
    expect(await containerOwner(c({}), label)).toBe('abcd1234');
    expect(await containerOwner(c({ image: 'sha256:other' }), label)).toBeUndefined();
    expect(await containerOwner(c({ name: 'isolab-other123-t1' }), label)).toBeUndefined();
    expect(await containerOwner(c({ name: 'mine' }), label)).toBeUndefined();
    expect(await containerOwner(c({ labels: { [LABELS.session]: 'abcd1234', [IMAGE_LABEL]: '0123456789ab' } }), label)).toBeUndefined();
    expect(await containerOwner(c({ labels: { [LABELS.owned]: 'true', [LABELS.session]: 'abcd1234' } }), label)).toBeUndefined();
    expect(await containerOwner(c({ labels: { [LABELS.owned]: 'true', [LABELS.session]: 'ABCD-1', [IMAGE_LABEL]: '0123456789ab' }, name: 'isolab-ABCD-1-t' }), label)).toBeUndefined();
  });
});
