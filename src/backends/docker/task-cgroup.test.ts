import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cgroupParentOf, listTaskCgroupLeftovers, removeTaskCgroupFolders, TASK_CGROUP_KIND, taskCounterDirs } from './task-cgroup.js';

/** A fake cgroup root (state injected: plain folders standing for cgroupfs hierarchies). */
function fakeRoot(names: string[]): string {
  const root = mkdtempSync(join(tmpdir(), 'isolab-cgfake-'));
  for (const h of ['memory', 'cpuacct', 'blkio', 'pids']) {
    for (const n of names) mkdirSync(join(root, h, 'isolab-ct', n, 'c0ffee'), { recursive: true });
  }
  return root;
}

describe('per-task parent cgroups of docker-family containers', () => {
  it('names the parent after the container and reads v1 counters per controller, v2 from one folder', () => {
    expect(cgroupParentOf('isolab-abcd1234-map-0-1')).toBe('/isolab-ct/isolab-abcd1234-map-0-1');
    expect(taskCounterDirs('n', 'cgroup-v1', '/r')).toEqual({ version: 'cgroup-v1', memory: '/r/memory/isolab-ct/n', cpu: '/r/cpuacct/isolab-ct/n', io: '/r/blkio/isolab-ct/n' });
    expect(taskCounterDirs('n', 'cgroup-v2', '/r')).toEqual({ version: 'cgroup-v2', memory: '/r/isolab-ct/n', cpu: '/r/isolab-ct/n', io: '/r/isolab-ct/n' });
  });
  it('lists leftovers of valid session names once (kind sorting after container) and removes them in every hierarchy', async () => {
    const root = fakeRoot(['isolab-abcd1234-map-0-1', 'isolab-NOT_A_SESSION', 'other']);
    const left = listTaskCgroupLeftovers('docker', root);
    expect(left).toEqual([{ backend: 'docker', kind: TASK_CGROUP_KIND, id: 'isolab-abcd1234-map-0-1', name: 'isolab-abcd1234-map-0-1', session: 'abcd1234' }]);
    expect(TASK_CGROUP_KIND > 'container').toBe(true);
    expect(await removeTaskCgroupFolders('isolab-abcd1234-map-0-1', root)).toBe(true);
    for (const h of ['memory', 'cpuacct', 'blkio', 'pids']) expect(existsSync(join(root, h, 'isolab-ct', 'isolab-abcd1234-map-0-1'))).toBe(false);
    expect(existsSync(join(root, 'memory', 'isolab-ct', 'other'))).toBe(true);
  });
});
