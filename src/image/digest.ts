import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';

interface Entry {
  key: string;
  digest: string;
}

const cache = new Map<string, Entry>();

function statKey(path: string): string {
  const s = statSync(path, { bigint: true });
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
}

/**
 * sha256 (hex) of a file's content. Digests are remembered per process, keyed by
 * device, inode, size, mtime and ctime, so asking twice for an unchanged file costs one stat.
 */
export async function fileDigest(path: string): Promise<string> {
  const key = statKey(path);
  const hit = cache.get(path);
  if (hit && hit.key === key) return hit.digest;
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  const digest = h.digest('hex');
  cache.set(path, { key, digest });
  return digest;
}

/** Seeds the digest cache from a list saved earlier; entries whose file changed are ignored on use. */
export function seedDigests(entries: { path: string; key: string; digest: string }[]): void {
  for (const e of entries) if (!cache.has(e.path)) cache.set(e.path, { key: e.key, digest: e.digest });
}

/** The cache's current entries, to save beside the images. */
export function digestEntries(): { path: string; key: string; digest: string }[] {
  return [...cache.entries()].map(([path, e]) => ({ path, key: e.key, digest: e.digest }));
}
