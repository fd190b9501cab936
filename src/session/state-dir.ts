import { homedir } from 'node:os';
import { join } from 'node:path';

/** The lab's state folder: images, per-task copies, temp files. `ISOLAB_STATE_DIR` overrides it. */
export function stateDir(): string {
  if (process.env.ISOLAB_STATE_DIR) return process.env.ISOLAB_STATE_DIR;
  if (process.getuid?.() === 0) return '/var/lib/isolab';
  return join(homedir(), '.local', 'state', 'isolab');
}
