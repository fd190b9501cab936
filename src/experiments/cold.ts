import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { currentImage } from '../image/index.js';
import { stateDir } from '../session/state-dir.js';
import { errorMessage } from './util.js';

/** Environment variable that turns on dropping the page cache before each cold start (same as --drop-caches). */
export const DROP_CACHES_ENV = 'ISOLAB_DROP_CACHES';

/** True when ISOLAB_DROP_CACHES asks for cold starts with the page cache dropped. */
export function dropCachesFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[DROP_CACHES_ENV] === '1' || env[DROP_CACHES_ENV] === 'true';
}

/**
 * Drops the host's page cache, dentries and inodes (`sync; echo 3 > /proc/sys/vm/drop_caches`),
 * so the next start reads the image, binaries and input from disk. Needs root; slows everything
 * else on the host for a while. Returns undefined when done, else why not.
 */
export function dropPageCache(): string | undefined {
  try {
    execFileSync('sync', [], { stdio: 'ignore', timeout: 60_000 });
    writeFileSync('/proc/sys/vm/drop_caches', '3');
    return undefined;
  } catch (err) {
    return `cannot drop the page cache: ${errorMessage(err)}`;
  }
}

/**
 * True the first time it is asked for (backend, current guest image) on this host: the first start
 * since the image was built, the nearest thing to a cold start without dropping caches. Leaves a
 * marker in the state folder; false when the marker cannot be written either.
 */
export async function firstSinceImageBuild(backend: string): Promise<boolean> {
  try {
    const img = await currentImage();
    const dir = join(stateDir(), 'measure', 'first-start');
    const marker = join(dir, `${backend.replace(/[^a-zA-Z0-9_.-]/g, '_')}-${img?.id ?? 'no-image'}`);
    if (existsSync(marker)) return false;
    mkdirSync(dir, { recursive: true });
    writeFileSync(marker, new Date().toISOString() + '\n');
    return true;
  } catch {
    return false;
  }
}
