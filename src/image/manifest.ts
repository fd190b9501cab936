import { existsSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stateDir } from '../session/state-dir.js';
import type { InputFile } from './inputs.js';
import type { GUEST } from './layout.js';

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

/** Reads an image's manifest; undefined when missing or unreadable. */
export function readManifest(dir: string): ImageInfo | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as ImageInfo;
  } catch {
    return undefined;
  }
}

/** Writes an image's manifest atomically. */
export function writeManifest(dir: string, info: ImageInfo): void {
  const tmp = join(dir, `.manifest.${process.pid}.tmp`);
  writeFileSync(tmp, JSON.stringify(info, null, 2) + '\n');
  renameSync(tmp, join(dir, 'manifest.json'));
}

/** Every image with a manifest in the images folder, newest first. */
export function listManifests(): ImageInfo[] {
  const dir = imagesDir();
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => /^[0-9a-f]{12}$/.test(n))
    .map((n) => readManifest(join(dir, n)))
    .filter((m): m is ImageInfo => m !== undefined)
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}
