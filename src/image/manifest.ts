import { existsSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stateDir } from '../session/state-dir.js';
import type { InputFile } from './inputs.js';
import { DOCKER_REPO, type GUEST } from './layout.js';

/** A built guest image: one root tree made into a Docker image, an ext4 root disk and (when a kernel exists) kernel + initramfs. */
export interface ImageInfo {
  /** sha256 (hex) of every input: the content address. */
  hash: string;
  /** First 12 hex digits of the hash; names the Docker tag and the disk folder. */
  id: string;
  /** Builder layout version the image was made with. */
  builderVersion: number;
  /** When it was built (ISO time). */
  createdAt: string;
  /** Folder holding the disk artefacts and manifest.json: `stateDir()/images/<id>`. */
  dir: string;
  /** Docker reference `isolab-guest:<id>`. */
  dockerTag: string;
  /** Docker image id, or undefined when no engine answered at build time. */
  dockerImageId?: string;
  /** ext4 root disk (mount read-only; the VM sees it as /dev/vda). */
  rootDisk: string;
  /** Size of the root disk file (bytes). */
  rootDiskBytes: number;
  /** Copy of the guest kernel, when one is installed. */
  kernel?: string;
  /** The same kernel uncompressed (ELF, booted through its PVH entry by vm:micro and vm:snapshot), when it could be extracted. */
  vmlinux?: string;
  /** Guest kernel release. */
  kernelVersion?: string;
  /** gzipped busybox initramfs that loads the virtio modules and switch_roots to /dev/vda. */
  initramfs?: string;
  /** Why there is no kernel/initramfs, when there is none. */
  noKernel?: string;
  /** Kernel modules the initramfs loads, in order. */
  modules: string[];
  /** Node version inside the image (the host's own node). */
  nodeVersion: string;
  /** Paths inside the guest and the markers the guest init prints. */
  guest: typeof GUEST & {
    /** Suggested kernel command line (append ` isolab.task=<base64url task>`). */
    cmdline: string;
  };
  /** Bytes of regular files in the root tree. */
  treeBytes: number;
  /** How long each build step took (ms), as measured when it was built. */
  buildMs: Record<string, number>;
  /** Every input file with its digest. */
  inputs: InputFile[];
}

/** Where images live: `stateDir()/images`. */
export function imagesDir(): string {
  return join(stateDir(), 'images');
}

/** The form of an image id: 12 lowercase hex digits (the start of the content hash). */
export const IMAGE_ID_RE = /^[0-9a-f]{12}$/;

/** The folder of image `id`: `imagesDir()/<id>`, built from the id alone (which must match {@link IMAGE_ID_RE}). */
export function imageDir(id: string): string {
  if (!IMAGE_ID_RE.test(id)) throw new Error(`not an image id: ${JSON.stringify(id)}`);
  return join(imagesDir(), id);
}

/**
 * Reads an image's manifest; undefined when missing or unreadable. Every path in the result is
 * built from `dir` (the folder it was read from), never taken from the file.
 */
export function readManifest(dir: string): ImageInfo | undefined {
  let info: ImageInfo;
  try {
    info = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as ImageInfo;
  } catch {
    return undefined;
  }
  if (!info || typeof info !== 'object') return undefined;
  return {
    ...info,
    dir,
    rootDisk: join(dir, 'root.ext4'),
    kernel: info.kernel ? join(dir, 'vmlinuz') : undefined,
    vmlinux: info.vmlinux ? join(dir, 'vmlinux') : undefined,
    initramfs: info.initramfs ? join(dir, 'initramfs.cpio.gz') : undefined,
  };
}

/** Writes an image's manifest atomically. */
export function writeManifest(dir: string, info: ImageInfo): void {
  const tmp = join(dir, `.manifest.${process.pid}.tmp`);
  writeFileSync(tmp, JSON.stringify(info, null, 2) + '\n');
  renameSync(tmp, join(dir, 'manifest.json'));
}

/** Ids of the image folders in the images folder (names matching {@link IMAGE_ID_RE}), with or without a manifest. */
export function imageIds(): string[] {
  const dir = imagesDir();
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((n) => IMAGE_ID_RE.test(n)).sort();
}

/** Every image with a manifest in the images folder, newest first; `id` and paths come from the folder name. */
export function listManifests(): ImageInfo[] {
  return imageIds()
    .map((id) => {
      const m = readManifest(imageDir(id));
      return m && { ...m, id, dockerTag: `${DOCKER_REPO}:${id}` };
    })
    .filter((m): m is ImageInfo => m !== undefined)
    .sort((a, b) => String(b.createdAt).localeCompare(String(a.createdAt)));
}
