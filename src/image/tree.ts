import { chmodSync, copyFileSync, lstatSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { execTool } from './exec.js';
import type { ImageInputs } from './inputs.js';
import { GUEST } from './layout.js';

const EMPTY_DIRS = ['proc', 'sys', 'dev', 'tmp', 'run', 'root', 'etc', 'input', 'usr/local/bin', 'lib64'];

function place(root: string, dest: string, src: string, mode: number): void {
  const to = join(root, dest);
  mkdirSync(dirname(to), { recursive: true });
  rmSync(to, { force: true });
  copyFileSync(src, to);
  chmodSync(to, mode);
}

/** Symlinks every busybox applet (as `busybox --list-full` names them) to /bin/busybox, keeping existing files. */
export async function linkApplets(root: string, busybox: string, only?: RegExp): Promise<number> {
  const { stdout } = await execTool(busybox, ['--list-full']);
  let n = 0;
  for (const rel of stdout.split('\n').map((s) => s.trim()).filter(Boolean)) {
    if (only && !only.test(rel)) continue;
    const at = join(root, rel);
    mkdirSync(dirname(at), { recursive: true });
    try {
      lstatSync(at);
      continue;
    } catch {
      /* free */
    }
    symlinkSync('/bin/busybox', at);
    n++;
  }
  return n;
}

/** Bytes of regular files under a folder (symlinks not followed). */
export function treeBytes(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += treeBytes(p);
    else if (e.isFile()) total += lstatSync(p).size;
  }
  return total;
}

/**
 * Lays out the guest root filesystem in `root`: busybox and its applets, the host's node and the
 * libraries it loads, the compiled executor under /opt/isolab, minimal /etc, empty mount points,
 * and the guest PID 1 as /sbin/init.
 */
export async function buildTree(root: string, inputs: ImageInputs): Promise<void> {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  for (const d of EMPTY_DIRS) mkdirSync(join(root, d), { recursive: true });
  chmodSync(join(root, 'tmp'), 0o1777);
  chmodSync(join(root, 'root'), 0o700);
  for (const f of inputs.files) {
    if (f.role === 'busybox') place(root, f.dest, f.src, 0o755);
    else if (f.role === 'node') place(root, f.dest, f.src, 0o755);
    else if (f.role === 'lib') place(root, f.dest, f.src, 0o755);
    else if (f.role === 'app') place(root, f.dest, f.src, 0o644);
  }
  place(root, GUEST.init, join(inputs.guestDir, 'init.sh'), 0o755);
  await linkApplets(root, join(root, 'bin', 'busybox'));
  const etc = join(root, 'etc');
  writeFileSync(join(etc, 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  writeFileSync(join(etc, 'group'), 'root:x:0:\nnogroup:x:65534:\n');
  writeFileSync(join(etc, 'hostname'), 'isolab-guest\n');
  writeFileSync(join(etc, 'isolab-image.json'), JSON.stringify({ id: inputs.id, hash: inputs.hash, node: inputs.node.version }) + '\n');
  writeFileSync(join(root, GUEST.appRoot, 'package.json'), JSON.stringify({ name: 'isolab-guest', private: true, type: 'module' }) + '\n');
}
