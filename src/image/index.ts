import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectDocker, type DockerConnection } from '../backends/docker/connection.js';
import { session } from '../session/session.js';
import { digestEntries, seedDigests } from './digest.js';
import { dockerImageId, importTree } from './docker-image.js';
import { execTool } from './exec.js';
import { buildInitramfs } from './initramfs.js';
import { extractVmlinux } from './vmlinux.js';
import { collectInputs, type ImageInputs } from './inputs.js';
import { acquireLock } from './lock.js';
import { BUILDER_VERSION, DOCKER_REPO, GUEST } from './layout.js';
import { imageDir, imageIds, imagesDir, listManifests, readManifest, writeManifest, type ImageInfo } from './manifest.js';
import { buildTree, treeBytes } from './tree.js';

export { GUEST, DOCKER_REPO, IMAGE_LABEL, BUILDER_VERSION } from './layout.js';
export { imageDir, imageIds, imagesDir, listManifests, type ImageInfo } from './manifest.js';
export { collectInputs, findGuestKernel, kernelsDir, type ImageInputs, type InputFile } from './inputs.js';

/** Options of {@link ensureImage}. */
export interface EnsureOptions {
  /** Rebuild even when an image for the current inputs exists. */
  force?: boolean;
  /** Make the Docker image too (default true); when no engine answers, only the disk parts are made. */
  docker?: boolean;
  /** Receives progress lines. */
  log?: (line: string) => void;
}

/** An image as {@link ensureImage} left it. */
export interface EnsuredImage extends ImageInfo {
  /** True when this call built (part of) it; false when it was already there. */
  built: boolean;
  /** Why the Docker image is missing, when it is. */
  dockerSkipped?: string;
}

const SUGGESTED_CMDLINE = 'console=ttyS0 quiet panic=-1';
const DIGESTS_FILE = 'digests.json';
let digestsLoaded = false;

async function inputsNow(): Promise<ImageInputs> {
  const file = join(imagesDir(), DIGESTS_FILE);
  if (!digestsLoaded) {
    digestsLoaded = true;
    try {
      seedDigests(JSON.parse(readFileSync(file, 'utf8')));
    } catch {
      /* none yet */
    }
  }
  const inputs = await collectInputs();
  try {
    mkdirSync(imagesDir(), { recursive: true });
    writeFileSync(`${file}.${process.pid}`, JSON.stringify(digestEntries()));
    renameSync(`${file}.${process.pid}`, file);
  } catch {
    /* a cache only */
  }
  return inputs;
}

function complete(info: ImageInfo | undefined): info is ImageInfo {
  if (!info || !existsSync(info.rootDisk)) return false;
  if (info.kernel && !(existsSync(info.kernel) && info.initramfs && existsSync(info.initramfs))) return false;
  return true;
}

/** The image for the current inputs (node, libraries, executor, guest scripts, kernel), or undefined when not built. */
export async function currentImage(): Promise<ImageInfo | undefined> {
  const inputs = await inputsNow();
  const info = readManifest(imageDir(inputs.id));
  return complete(info) && info.hash === inputs.hash ? info : undefined;
}

const since = (t0: number): number => Math.round(performance.now() - t0);
const mb = (b: number): string => `${(b / 1e6).toFixed(1)} MB`;

/**
 * Makes sure the guest image for the current inputs exists and returns it. Skips the build when
 * the manifest, the disk files and (if an engine answers) the Docker image are there; `force` rebuilds.
 * Concurrent callers wait for one another through a lock file.
 */
export async function ensureImage(opts: EnsureOptions = {}): Promise<EnsuredImage> {
  const log = opts.log ?? (() => {});
  const inputs = await inputsNow();
  const dir = imageDir(inputs.id);
  const dockerTag = `${DOCKER_REPO}:${inputs.id}`;
  let conn: DockerConnection | undefined;
  let dockerSkipped: string | undefined;
  if (opts.docker !== false) {
    try {
      conn = await connectDocker();
    } catch (err) {
      dockerSkipped = (err as Error).message;
    }
  } else {
    dockerSkipped = 'not asked for';
  }
  const dockerThere = async (): Promise<string | undefined> => (conn ? dockerImageId(conn.docker, dockerTag) : undefined);
  const fresh = async (): Promise<EnsuredImage | undefined> => {
    const info = readManifest(dir);
    if (opts.force || !complete(info) || info.hash !== inputs.hash) return undefined;
    if (!conn) return { ...info, built: false, dockerSkipped };
    const id = await dockerThere();
    return id ? { ...info, dockerImageId: id, built: false } : undefined;
  };
  const quick = await fresh();
  if (quick) return quick;

  mkdirSync(imagesDir(), { recursive: true });
  const release = await acquireLock(join(imagesDir(), '.lock'), {
    onWait: (pid) => log(`waiting for the image build of pid ${pid}`),
  });
  const stage = join(imagesDir(), `.build-${inputs.id}-${process.pid}`);
  const undefer = session().defer(`image build folder ${stage}`, () => {
    rmSync(stage, { recursive: true, force: true });
    release();
  });
  try {
    const again = opts.force ? undefined : await fresh();
    if (again) return again;
    const t0 = performance.now();
    const buildMs: Record<string, number> = {};
    const old = readManifest(dir);
    const diskOk = !opts.force && complete(old) && old.hash === inputs.hash;
    log(`image ${inputs.id}: building ${diskOk ? 'the Docker image' : 'tree, Docker image, root disk, kernel and initramfs'} (node ${inputs.node.version}${inputs.kernel ? `, kernel ${inputs.kernel.version}` : ''})`);
    rmSync(stage, { recursive: true, force: true });
    mkdirSync(stage, { recursive: true });
    const tree = join(stage, 'tree');
    let t = performance.now();
    await buildTree(tree, inputs);
    buildMs.tree = since(t);
    const bytes = treeBytes(tree);
    log(`  root tree: ${mb(bytes)} in ${buildMs.tree} ms`);
    let dockerImageIdNow: string | undefined;
    if (conn) {
      t = performance.now();
      const before = await dockerThere();
      dockerImageIdNow = await importTree(conn.docker, tree, DOCKER_REPO, inputs.id);
      buildMs.docker = since(t);
      log(`  docker import ${dockerTag}: ${buildMs.docker} ms (${conn.endpoint})`);
      if (before && before !== dockerImageIdNow) await conn.docker.getImage(before).remove().catch(() => {});
    } else {
      log(`  docker image skipped: ${dockerSkipped}`);
    }
    if (diskOk) {
      const info: ImageInfo = { ...old, dockerImageId: dockerImageIdNow, buildMs: { ...old.buildMs, docker: buildMs.docker ?? 0 } };
      writeManifest(dir, info);
      log(`image ${inputs.id}: Docker image restored in ${since(t0)} ms`);
      return { ...info, built: true, dockerSkipped };
    }
    t = performance.now();
    let vmlinux = false;
    const diskSize = Math.ceil((bytes * 1.15 + 16 * 2 ** 20) / 2 ** 20);
    await execTool('mkfs.ext4', ['-q', '-F', '-L', 'isolab-root', '-m', '0', '-O', '^has_journal', '-d', tree, join(stage, 'root.ext4'), `${diskSize}M`]);
    buildMs.ext4 = since(t);
    log(`  root disk root.ext4: ${diskSize} MiB in ${buildMs.ext4} ms`);
    if (inputs.kernel) {
      t = performance.now();
      copyFileSync(inputs.kernel.path, join(stage, 'vmlinuz'));
      vmlinux = await extractVmlinux(join(stage, 'vmlinuz'), join(stage, 'vmlinux'));
      const busybox = inputs.files.find((f) => f.role === 'busybox')!.src;
      await buildInitramfs(join(stage, 'initramfs-root'), join(stage, 'initramfs.cpio.gz'), inputs.kernel, join(inputs.guestDir, 'initramfs-init.sh'), busybox);
      buildMs.initramfs = since(t);
      log(`  kernel ${inputs.kernel.version} + initramfs (${mb(statSync(join(stage, 'initramfs.cpio.gz')).size)}, ${inputs.kernel.modules.length} modules) in ${buildMs.initramfs} ms`);
    } else {
      log(`  no VM kernel: ${inputs.noKernel}`);
    }
    rmSync(tree, { recursive: true, force: true });
    rmSync(join(stage, 'initramfs-root'), { recursive: true, force: true });
    buildMs.total = since(t0);
    const info: ImageInfo = {
      hash: inputs.hash, id: inputs.id, builderVersion: BUILDER_VERSION, createdAt: new Date().toISOString(), dir,
      dockerTag, dockerImageId: dockerImageIdNow, rootDisk: join(dir, 'root.ext4'), rootDiskBytes: statSync(join(stage, 'root.ext4')).size,
      kernel: inputs.kernel ? join(dir, 'vmlinuz') : undefined, vmlinux: vmlinux ? join(dir, 'vmlinux') : undefined, kernelVersion: inputs.kernel?.version,
      initramfs: inputs.kernel ? join(dir, 'initramfs.cpio.gz') : undefined, noKernel: inputs.noKernel,
      modules: inputs.kernel?.modules.map((m) => m.name) ?? [], nodeVersion: inputs.node.version,
      guest: { ...GUEST, cmdline: SUGGESTED_CMDLINE }, treeBytes: bytes, buildMs, inputs: inputs.files,
    };
    writeManifest(stage, info);
    rmSync(dir, { recursive: true, force: true });
    renameSync(stage, dir);
    log(`image ${inputs.id}: built in ${buildMs.total} ms (${dir})`);
    const others = listManifests().filter((m) => m.id !== inputs.id);
    if (others.length) log(`  ${others.length} older image(s) kept; "isolab image prune" removes them`);
    return { ...info, built: true, dockerSkipped };
  } finally {
    rmSync(stage, { recursive: true, force: true });
    undefer();
    release();
  }
}

/** What {@link pruneImages} found or removed. */
export interface PrunedImage {
  /** `disk` (a folder under images/) or `docker` (a tag). */
  kind: 'disk' | 'docker';
  /** Folder or Docker reference. */
  id: string;
  /** Set when removal failed. */
  error?: string;
}

/**
 * Removes every image but the current one from this state folder: the folders `images/<id>` and the
 * Docker tags `isolab-guest:<id>` of those ids. Paths are built from the folder names (ids), never
 * from manifest contents. Docker tags with no folder here belong to another state folder (another
 * user, checkout or test run sharing the engine) and are left alone.
 */
export async function pruneImages(opts: { dryRun?: boolean } = {}): Promise<PrunedImage[]> {
  const inputs = await inputsNow();
  const out: PrunedImage[] = [];
  const old = imageIds().filter((id) => id !== inputs.id);
  for (const id of old) {
    const dir = imageDir(id);
    const item: PrunedImage = { kind: 'disk', id: dir };
    if (!opts.dryRun) {
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch (err) {
        item.error = (err as Error).message;
      }
    }
    out.push(item);
  }
  if (!old.length) return out;
  let conn: DockerConnection | undefined;
  try {
    conn = await connectDocker();
  } catch {
    return out;
  }
  for (const id of old) {
    const ref = `${DOCKER_REPO}:${id}`;
    if (!(await dockerImageId(conn.docker, ref))) continue;
    const item: PrunedImage = { kind: 'docker', id: ref };
    if (!opts.dryRun) {
      try {
        await conn.docker.getImage(ref).remove();
      } catch (err) {
        item.error = (err as Error).message.split('\n')[0];
      }
    }
    out.push(item);
  }
  return out;
}
