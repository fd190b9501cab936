import { createHash } from 'node:crypto';
import { createReadStream, chmodSync, chownSync, lstatSync, mkdirSync, readFileSync, renameSync, writeFileSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import type { VmImage } from './guest-image.js';

/** One boot file as checked. */
export interface CheckedFile {
  /** Path. */
  path: string;
  /** Its sha256. */
  sha256: string;
  /** Where the expected digest came from: the image manifest, or recorded the first time isolab used the file. */
  reference: 'manifest' | 'first-use';
}

/** Thrown when a boot file is not what the image built. */
export class BootFileError extends Error {}

type Role = 'rootDisk' | 'kernel' | 'initramfs';

interface Seen {
  key: string;
  sha256: string;
}

/** sha256 (hex) of a file, streamed. */
export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path).on('data', (b) => h.update(b)).once('error', reject).once('end', () => resolve(h.digest('hex')));
  });
}

/** Identity of a file's content: any write, chmod or chown changes ctime, which no unprivileged process can set back. */
const identity = (st: Stats): string => [st.dev, st.ino, st.size, st.mtimeMs, st.ctimeMs, st.uid, st.mode].join(':');

/**
 * Checks the files every VM boots from before each use. The root disk is shared by every VM and
 * handed to libvirt with relabelling off, so it must be a regular root-owned file that only root can
 * write (a root disk an older isolab let libvirt chown to QEMU is given back to root first); the
 * kernel and initramfs are chowned to QEMU by libvirt while a VM runs and given back afterwards.
 * Each file's sha256 must match the image manifest, or the digest recorded the first time it was
 * used (in `recordDir`, root-only). A file is hashed again only when its identity (inode, size,
 * times, owner, mode) changed since the stat taken before it was last hashed, so a change made at
 * any time after that (even while it was being hashed) is caught at the next start. (libvirt's
 * chown of the kernel and initramfs at every VM start changes their ctime too, so those two are
 * hashed again at each start while other VMs run: about 25 ms for 15 MB.)
 */
export class BootFileGuard {
  private readonly seen = new Map<string, Seen>();
  private readonly pending = new Map<string, Promise<CheckedFile>>();

  constructor(
    /** Folder for first-use digests (`<vm state>/digests`). */
    readonly recordDir: string,
  ) {}

  /** Checks the image's root disk, kernel and initramfs; throws {@link BootFileError} when one is not as built. */
  async check(image: VmImage): Promise<CheckedFile[]> {
    return Promise.all((['rootDisk', 'kernel', 'initramfs'] as const).map((role) => this.checkOne(image, role)));
  }

  private checkOne(image: VmImage, role: Role): Promise<CheckedFile> {
    const path = image[role];
    let p = this.pending.get(path);
    if (!p) {
      p = this.verify(image, role).finally(() => this.pending.delete(path));
      this.pending.set(path, p);
    }
    return p;
  }

  private async verify(image: VmImage, role: Role): Promise<CheckedFile> {
    const path = image[role];
    let st = lstatSync(path);
    if (!st.isFile()) throw new BootFileError(`${path} is not a regular file`);
    if (role === 'rootDisk' && process.getuid?.() === 0 && (st.uid !== 0 || st.gid !== 0 || (st.mode & 0o7777) !== 0o644)) {
      chownSync(path, 0, 0);
      chmodSync(path, 0o644);
      st = lstatSync(path);
    }
    if (role === 'rootDisk' && (st.mode & 0o022) !== 0) throw new BootFileError(`${path} is writable by others than its owner`);
    const manifest = image.sha256[role];
    const recorded = manifest ? undefined : this.recorded(image.id, role);
    const reference: CheckedFile['reference'] = manifest ? 'manifest' : 'first-use';
    const want = manifest ?? recorded;
    const key = identity(st);
    const prev = this.seen.get(path);
    if (prev && prev.key === key && (!want || prev.sha256 === want)) return { path, sha256: prev.sha256, reference };
    const sha256 = await sha256File(path);
    if (want && sha256 !== want) {
      this.seen.delete(path);
      throw new BootFileError(
        `${path} is not the file the guest image was built with (sha256 ${sha256.slice(0, 12)}…, expected ${want.slice(0, 12)}…); run isolab image build --force`,
      );
    }
    if (!want) this.record(image.id, role, sha256);
    this.seen.set(path, { key, sha256 });
    return { path, sha256, reference };
  }

  private file(imageId: string): string {
    return join(this.recordDir, `${imageId}.json`);
  }

  private recorded(imageId: string, role: Role): string | undefined {
    try {
      const v = (JSON.parse(readFileSync(this.file(imageId), 'utf8')) as Record<string, unknown>)[role];
      return typeof v === 'string' ? v : undefined;
    } catch {
      return undefined;
    }
  }

  private record(imageId: string, role: Role, sha256: string): void {
    mkdirSync(dirname(this.recordDir), { recursive: true, mode: 0o711 });
    mkdirSync(this.recordDir, { recursive: true, mode: 0o700 });
    let all: Record<string, string> = {};
    try {
      all = JSON.parse(readFileSync(this.file(imageId), 'utf8')) as Record<string, string>;
    } catch {
      /* first */
    }
    all[role] = sha256;
    const tmp = `${this.file(imageId)}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(all) + '\n', { mode: 0o600 });
    renameSync(tmp, this.file(imageId));
  }
}
