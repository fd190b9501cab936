import { currentImage, GUEST, imageDir } from '../../image/index.js';

/** The files a VM boots from, and what the guest's PID 1 prints. */
export interface VmImage {
  /** Image id (first 12 hex digits of its content hash). */
  id: string;
  /** Content hash of the image. */
  hash: string;
  /** The image's content-addressed folder (`<state>/images/<id>`); snapshot templates live under it. */
  dir: string;
  /** Kernel copy (direct kernel boot). */
  kernel: string;
  /** The kernel uncompressed (ELF, PVH boot) for vm:micro and vm:snapshot, when the image has one. */
  vmlinux?: string;
  /** Busybox initramfs. */
  initramfs: string;
  /** ext4 root disk, attached read-only to every VM. */
  rootDisk: string;
  /** Line PID 1 prints before the executor starts. */
  startMarker: string;
  /** Line prefix PID 1 prints after the executor, followed by ` rc=<exit code>`. */
  endMarker: string;
  /** Kernel command line parameter carrying the base64url task. */
  taskParam: string;
  /** Block device the input disk appears as in the guest. */
  inputDevice: string;
  /** Suggested kernel command line (console, quiet, panic). */
  cmdline: string;
  /**
   * sha256 the boot files must have, as the image manifest records them (the kernel's from its
   * input list; the root disk's and initramfs's from `rootDiskSha256`/`initramfsSha256` when the
   * builder writes them). Missing ones are recorded on first use (boot-files.ts).
   */
  sha256: { rootDisk?: string; kernel?: string; initramfs?: string };
}

/** Thrown when no guest image with a kernel exists for the current inputs. */
export class VmImageMissingError extends Error {}

/** The current guest image (built by `isolab image build`); throws VmImageMissingError when it is not there. */
export async function vmImage(): Promise<VmImage> {
  const info = await currentImage();
  if (!info) throw new VmImageMissingError('guest image not built; run isolab image build');
  if (!info.kernel || !info.initramfs) {
    throw new VmImageMissingError(`guest image ${info.id} has no kernel: ${info.noKernel ?? 'unknown reason'}`);
  }
  const g = { ...GUEST, ...info.guest };
  return {
    id: info.id, hash: info.hash, dir: imageDir(info.id), kernel: info.kernel, vmlinux: info.vmlinux, initramfs: info.initramfs, rootDisk: info.rootDisk,
    startMarker: g.startMarker, endMarker: g.endMarker, taskParam: g.taskParam, inputDevice: g.inputDevice,
    cmdline: g.cmdline || 'console=ttyS0 quiet panic=-1',
    sha256: {
      rootDisk: digestField(info, 'rootDiskSha256'),
      kernel: info.inputs?.find((f) => f.role === 'kernel')?.sha256,
      initramfs: digestField(info, 'initramfsSha256'),
    },
  };
}

function digestField(info: object, key: string): string | undefined {
  const v = (info as Record<string, unknown>)[key];
  return typeof v === 'string' && /^[0-9a-f]{64}$/.test(v) ? v : undefined;
}
