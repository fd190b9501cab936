import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { OwnedResource } from '../backends/backend.js';
import { backendNames, getBackend } from '../backends/registry.js';
import { imagesDir } from '../image/manifest.js';
import { NAME_PREFIX, session } from '../session/session.js';
import { stateDir } from '../session/state-dir.js';
import { pidAlive as alive } from '../session/pid-alive.js';

/** Pseudo-backend name for files the reaper itself finds (session temp folders, interrupted image builds). */
export const FILES_OWNER = 'files';

/** A leftover and what the reaper did with it. */
export interface ReapItem extends OwnedResource {
  /** True once removed (always false in a dry run). */
  removed: boolean;
  /** Why removal failed. */
  error?: string;
}

/** What a reap found and did. */
export interface ReapReport {
  /** Nothing was removed. */
  dryRun: boolean;
  /** Every leftover found. */
  items: ReapItem[];
  /** Backends that could not be asked, with the reason (engine not reachable, native module missing). */
  skipped: { backend: string; reason: string }[];
}

/** Options of {@link reap}. */
export interface ReapOptions {
  /** Only list. */
  dryRun?: boolean;
  /** Only leftovers of this session. */
  session?: string;
  /** Only these backends (default: every registered one, plus files). */
  backends?: string[];
}

/** Session temp folders (`stateDir()/tmp/isolab-<session>-*`) of other sessions and image build folders of dead processes. */
export function leftoverFiles(): OwnedResource[] {
  const out: OwnedResource[] = [];
  const self = session().id;
  const tmp = join(stateDir(), 'tmp');
  if (existsSync(tmp)) {
    for (const n of readdirSync(tmp)) {
      if (!n.startsWith(NAME_PREFIX)) continue;
      const s = /^isolab-([0-9A-Za-z_.]+?)-/.exec(n)?.[1];
      if (s !== self) out.push({ backend: FILES_OWNER, kind: 'tmpdir', id: join(tmp, n), session: s });
    }
  }
  const images = imagesDir();
  if (existsSync(images)) {
    for (const n of readdirSync(images)) {
      const m = /^\.build-[0-9a-f]+-(\d+)$/.exec(n);
      if (m && !alive(Number(m[1]))) out.push({ backend: FILES_OWNER, kind: 'image-build', id: join(images, n) });
    }
  }
  return out;
}

async function removeFile(r: OwnedResource): Promise<void> {
  rmSync(r.id, { recursive: true, force: true });
}

/**
 * Finds (and unless dryRun removes) everything isolab sessions left behind: each backend's
 * owned resources (containers, domains, cgroups, processes, per-task files) and leftover files.
 * A backend that cannot be asked is reported as skipped, never fatal. The current session is left alone.
 */
export async function reap(opts: ReapOptions = {}): Promise<ReapReport> {
  const report: ReapReport = { dryRun: Boolean(opts.dryRun), items: [], skipped: [] };
  const wanted = opts.backends ?? [...backendNames(), FILES_OWNER];
  const found: { r: OwnedResource; remove: (r: OwnedResource) => Promise<void> }[] = [];
  await Promise.all(
    wanted.map(async (name) => {
      try {
        if (name === FILES_OWNER) {
          for (const r of leftoverFiles()) found.push({ r, remove: removeFile });
          return;
        }
        const b = await getBackend(name);
        for (const r of await b.listOwned()) found.push({ r, remove: (x) => b.removeOwned(x) });
      } catch (err) {
        report.skipped.push({ backend: name, reason: (err instanceof Error ? err.message : String(err)).split('\n')[0]! });
      }
    }),
  );
  const order = (r: OwnedResource): number => wanted.indexOf(r.backend);
  found.sort((a, b) => order(a.r) - order(b.r) || a.r.kind.localeCompare(b.r.kind) || a.r.id.localeCompare(b.r.id));
  for (const { r, remove } of found) {
    if (opts.session !== undefined && r.session !== opts.session) continue;
    const item: ReapItem = { ...r, removed: false };
    if (!opts.dryRun) {
      try {
        await remove(r);
        item.removed = true;
      } catch (err) {
        item.error = (err instanceof Error ? err.message : String(err)).split('\n')[0];
      }
    }
    report.items.push(item);
  }
  report.skipped.sort((a, b) => wanted.indexOf(a.backend) - wanted.indexOf(b.backend));
  return report;
}
