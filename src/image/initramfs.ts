import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { execTool } from './exec.js';
import { allModules, type KernelInputs } from './inputs.js';
import { linkApplets } from './tree.js';

async function placeModule(src: string, to: string): Promise<void> {
  if (src.endsWith('.ko')) return copyFileSync(src, to);
  if (src.endsWith('.ko.gz')) return writeFileSync(to, gunzipSync(readFileSync(src)));
  const tool = src.endsWith('.ko.xz') ? 'xz' : src.endsWith('.ko.zst') ? 'zstd' : undefined;
  if (!tool) throw new Error(`unknown module format: ${src}`);
  await execTool('sh', ['-c', `${tool} -dc "$1" > "$2"`, 'sh', src, to]);
}

/**
 * Builds the VM's initramfs (gzipped newc cpio) at `out`: busybox, the kernel modules in load
 * order (decompressed), /etc/modules naming them for q35 (PCI) and /etc/modules.mmio for microvm
 * (MMIO), /dev/console, and src/image/guest/initramfs-init.sh as /init.
 */
export async function buildInitramfs(work: string, out: string, kernel: KernelInputs, initScript: string, busybox: string): Promise<void> {
  rmSync(work, { recursive: true, force: true });
  for (const d of ['bin', 'sbin', 'etc', 'proc', 'sys', 'dev', 'newroot', 'lib/modules']) mkdirSync(join(work, d), { recursive: true });
  copyFileSync(busybox, join(work, 'bin', 'busybox'));
  chmodSync(join(work, 'bin', 'busybox'), 0o755);
  await linkApplets(work, join(work, 'bin', 'busybox'), /^s?bin\//);
  for (const m of allModules(kernel)) await placeModule(m.src, join(work, 'lib', 'modules', `${m.name}.ko`));
  writeFileSync(join(work, 'etc', 'modules'), kernel.modules.map((m) => m.name).join('\n') + '\n');
  writeFileSync(join(work, 'etc', 'modules.mmio'), kernel.mmioModules.map((m) => m.name).join('\n') + '\n');
  copyFileSync(initScript, join(work, 'init'));
  chmodSync(join(work, 'init'), 0o755);
  await execTool('mknod', ['-m', '600', join(work, 'dev', 'console'), 'c', '5', '1']);
  await execTool('sh', ['-c', 'cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -6n > "$2"', 'sh', work, out]);
}
