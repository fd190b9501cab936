import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stateDir } from '../../session/state-dir.js';

/** Per-task and per-session files of the vm backend live here (`<stateDir>/vm`). */
export function vmStateDir(): string {
  return join(stateDir(), 'vm');
}

/**
 * Creates `<stateDir>/vm` if needed and lets every user traverse it (adds `o+x`, never read): QEMU,
 * an unprivileged user, opens input copies below it by name. A folder made by a recursive mkdir
 * with a private mode (e.g. for `vm/digests`) would otherwise shut QEMU out on a fresh host.
 */
export function makeVmStateDir(): string {
  const dir = vmStateDir();
  mkdirSync(dir, { recursive: true, mode: 0o711 });
  const mode = statSync(dir).mode & 0o777;
  if ((mode & 0o011) !== 0o011) chmodSync(dir, mode | 0o011);
  return dir;
}

/** Folder of per-task run folders (mode 0700: serial logs) and input copies. */
export function vmRunRoot(): string {
  return join(vmStateDir(), 'run');
}

/**
 * Creates a task's (or probe's) run folder with mode 0700: only root reads its serial log. The run
 * root above it is 0711, so QEMU (an unprivileged user) can reach the input copies in it by name
 * but nobody can list it. Returns the folder.
 */
export function makeRunDir(dir: string): string {
  const root = dirname(dir);
  makeVmStateDir();
  mkdirSync(root, { recursive: true, mode: 0o711 });
  if ((statSync(root).mode & 0o777) !== 0o711) chmodSync(root, 0o711);
  mkdirSync(dir, { mode: 0o700 });
  chmodSync(dir, 0o700);
  return dir;
}
