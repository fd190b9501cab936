import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stateDir } from '../../session/state-dir.js';

/** Per-task and per-session files of the vm backend live here (`<stateDir>/vm`). */
export function vmStateDir(): string {
  return join(stateDir(), 'vm');
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
  mkdirSync(root, { recursive: true, mode: 0o711 });
  if ((statSync(root).mode & 0o777) !== 0o711) chmodSync(root, 0o711);
  mkdirSync(dir, { mode: 0o700 });
  chmodSync(dir, 0o700);
  return dir;
}
