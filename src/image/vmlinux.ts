import { closeSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { execTool } from './exec.js';

/** Magic bytes of the compressors a bzImage's payload may use, with the tool that inflates each. */
const PAYLOADS: readonly { magic: Buffer; tool: string }[] = [
  { magic: Buffer.from([0x02, 0x21, 0x4c, 0x18]), tool: 'lz4 -dc' },
  { magic: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), tool: 'zstd -dcq' },
  { magic: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), tool: 'xz -dcq' },
  { magic: Buffer.from([0x1f, 0x8b, 0x08]), tool: 'gzip -dcq' },
];

function isElf(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(4);
    return readSync(fd, b, 0, 4, 0) === 4 && b.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  } finally {
    closeSync(fd);
  }
}

/**
 * Extracts the uncompressed kernel (ELF `vmlinux`) from a bzImage into `out`, as the kernel's
 * scripts/extract-vmlinux does: tries each compressor's magic in the file with its command-line
 * tool until one yields an ELF. QEMU boots it through its PVH entry point, so a TCG guest does not
 * decompress its kernel at every boot. Returns false (and leaves no file) when no tool or payload works.
 */
export async function extractVmlinux(vmlinuz: string, out: string): Promise<boolean> {
  const data = readFileSync(vmlinuz);
  for (const p of PAYLOADS) {
    for (let at = data.indexOf(p.magic); at >= 0; at = data.indexOf(p.magic, at + 1)) {
      try {
        await execTool('sh', ['-c', `tail -c +"$1" "$2" | ${p.tool} > "$3" 2>/dev/null; [ -s "$3" ]`, 'sh', String(at + 1), vmlinuz, out]);
        if (isElf(out)) return true;
      } catch {
        /* not this one */
      }
      rmSync(out, { force: true });
    }
  }
  return false;
}
