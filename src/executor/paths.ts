import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (folder holding package.json), found from this module's location. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the isolab repository root');
    dir = up;
  }
}

/** The compiled executor entry point; exists after `make build`. */
export function executorPath(): string {
  return join(repoRoot(), 'dist', 'executor', 'main.js');
}
