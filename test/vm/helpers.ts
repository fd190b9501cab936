import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccelResult } from '../../src/backends/vm/accel-probe.js';
import { vmRunRoot } from '../../src/backends/vm/paths.js';
import { kernelsDir, type ImageInfo } from '../../src/image/index.js';

/**
 * Entries of the VM run folder whose names start with `prefix`. A missing run folder means none;
 * any other read error fails the test (it must not pass by default).
 */
export function runFiles(prefix: string, root = vmRunRoot()): string[] {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names.filter((f) => f.startsWith(prefix));
}

/** The libvirt domain type VMs run under for a probe answer. */
export function domainTypeOf(a: Pick<AccelResult, 'accelerator'>): 'kvm' | 'qemu' {
  return a.accelerator === 'kvm' ? 'kvm' : 'qemu';
}

/** The accelerator consistent with a probe outcome: KVM only when it works (or is forced). */
export function expectedAccelerator(a: Pick<AccelResult, 'kvm' | 'accelerator'>): 'kvm' | 'tcg' {
  if (a.kvm === 'works') return 'kvm';
  if (a.kvm === 'forced') return a.accelerator;
  return 'tcg';
}

/** A fresh state folder (traversable by QEMU) that shares the built guest image and guest kernels through symlinks. */
export function stateWithImage(info: ImageInfo): string {
  const state = mkdtempSync(join(tmpdir(), 'isolab-vmstate-'));
  chmodSync(state, 0o711);
  const dir = join(state, 'images', info.id);
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(info.dir, 'manifest.json'), join(dir, 'manifest.json'));
  for (const f of readdirSync(info.dir)) if (f !== 'manifest.json') symlinkSync(join(info.dir, f), join(dir, f));
  symlinkSync(kernelsDir(), join(state, 'kernels'));
  return state;
}
