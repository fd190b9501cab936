import { existsSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { sessionOfName } from '../../session/session-id.js';
import type { OwnedResource } from '../backend.js';
import type { CgroupCounterDirs, UsageSources } from '../usage.js';
import { cgroupSources } from '../usage.js';

/**
 * Per-task parent cgroups of docker-family containers. Each container is created with
 * `CgroupParent=/isolab-ct/<container name>` (cgroupfs driver), so its own cgroup (which holds
 * runsc's sandbox and gofer too) lives under a folder isolab owns. The kernel's counters are
 * hierarchical and outlive the removed child, so the task's CPU time, memory high-water mark and
 * block reads can be read after the container exited, before `destroy` removes the folder.
 */

/** Folder under each cgroup hierarchy holding the per-task parents. */
export const TASK_CGROUP_ROOT = 'isolab-ct';

const CGROUP_FS = '/sys/fs/cgroup';

/** The `CgroupParent` of a task's container. */
export function cgroupParentOf(name: string): string {
  return `/${TASK_CGROUP_ROOT}/${name}`;
}

/** The counter folders of a task's parent cgroup for a cgroup version. */
export function taskCounterDirs(name: string, version: 'cgroup-v1' | 'cgroup-v2', root = CGROUP_FS): CgroupCounterDirs {
  if (version === 'cgroup-v2') {
    const d = join(root, TASK_CGROUP_ROOT, name);
    return { version, memory: d, cpu: d, io: d };
  }
  return {
    version,
    memory: join(root, 'memory', TASK_CGROUP_ROOT, name),
    cpu: join(root, 'cpuacct', TASK_CGROUP_ROOT, name),
    io: join(root, 'blkio', TASK_CGROUP_ROOT, name),
  };
}

/** Sources of a container's figures read from its parent cgroup. */
export function containerSources(version: 'cgroup-v1' | 'cgroup-v2'): UsageSources {
  return { sources: cgroupSources(version, 'the container\'s per-task parent cgroup (runtime processes included)'), missing: {} };
}

/** Every folder of a task's parent cgroup, one per hierarchy (dockerd makes it in each), deepest first. */
function taskFolders(name: string, root = CGROUP_FS): string[] {
  const out: string[] = [];
  let hierarchies: string[] = [];
  try {
    hierarchies = readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(root, e.name));
  } catch {
    return out;
  }
  for (const h of [root, ...hierarchies]) {
    const d = join(h, TASK_CGROUP_ROOT, name);
    if (!existsSync(d)) continue;
    try {
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) out.push(join(d, e.name));
    } catch {
      /* gone */
    }
    out.push(d);
  }
  return out;
}

/** Removes a task's parent cgroup in every hierarchy (retrying briefly while the runtime removes the container's own); true when none is left. */
export async function removeTaskCgroupFolders(name: string, root = CGROUP_FS): Promise<boolean> {
  for (let i = 0; i < 40; i++) {
    let left = 0;
    for (const d of taskFolders(name, root)) {
      try {
        rmdirSync(d);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') left++;
      }
    }
    if (left === 0) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/**
 * Per-task parent cgroups named `isolab-<session>-…` (a valid session id), as owned resources of
 * `backend`; the caller drops those whose container still exists, the reaper those of live sessions.
 */
export function listTaskCgroupLeftovers(backend: string, root = CGROUP_FS): OwnedResource[] {
  const names = new Set<string>();
  let hierarchies: string[] = [];
  try {
    hierarchies = readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(root, e.name));
  } catch {
    return [];
  }
  for (const h of [root, ...hierarchies]) {
    const parent = join(h, TASK_CGROUP_ROOT);
    if (!existsSync(parent)) continue;
    try {
      for (const e of readdirSync(parent, { withFileTypes: true })) if (e.isDirectory() && e.name.startsWith('isolab-')) names.add(e.name);
    } catch {
      /* gone */
    }
  }
  const out: OwnedResource[] = [];
  for (const n of names) {
    const s = sessionOfName(n);
    if (s) out.push({ backend, kind: 'cgroup', id: n, name: n, session: s });
  }
  return out;
}
