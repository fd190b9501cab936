import { describe, expect, it } from 'vitest';
import { inputAccess } from './input-access.js';
import { listRuntimeLeftovers, runtimeTasks, taskOfProcess } from './runtime-leftovers.js';

const ID = 'a'.repeat(64);
const OTHER = 'b'.repeat(64);
const BUNDLE = `/run/docker/containerd/daemon/io.containerd.runtime.v2.task/moby/${ID}`;

/** Command lines as `ps -eo pid,args` showed them after a runsc container failed to start. */
const procs = [
  { pid: 10, ppid: 1, args: ['/usr/bin/containerd-shim-runc-v2', '-namespace', 'moby', '-id', ID, '-address', '/var/run/docker/containerd/containerd.sock'] },
  { pid: 11, ppid: 10, args: ['runsc-gofer', '--root=/var/run/docker/runtime-runc/moby', '--network=none', 'gofer', '--bundle', BUNDLE, '--spec-fd=4'] },
  { pid: 12, ppid: 10, args: ['runsc-sandbox', '--root=/var/run/docker/runtime-runc/moby', 'boot', `--bundle=${BUNDLE}`, '--cpu-num', '2', ID] },
  { pid: 20, ppid: 1, args: ['/usr/bin/containerd-shim-runc-v2', '-namespace', 'moby', '-id', OTHER, '-address', '/x.sock'] },
  { pid: 30, ppid: 1, args: ['runsc-sandbox', 'boot', 'not-a-container-id'] },
  { pid: 31, ppid: 1, args: ['/usr/bin/sleep', ID] },
];

describe('runtime processes left by a container', () => {
  it('ties shim, gofer and sandbox to their container by the id on their command lines, never by name alone', () => {
    expect(taskOfProcess(procs[0]!)).toMatchObject({ containerId: ID, kind: 'shim', namespace: 'moby' });
    expect(taskOfProcess(procs[1]!)).toMatchObject({ containerId: ID, kind: 'runsc', bundle: BUNDLE });
    expect(taskOfProcess(procs[2]!)).toMatchObject({ containerId: ID, kind: 'runsc' });
    expect(taskOfProcess(procs[4]!)).toBeUndefined();
    expect(taskOfProcess(procs[5]!)).toBeUndefined();
  });

  it('takes the owner from the bundle\'s environment: only isolab\'s are listed, for their backend, and only once dockerd forgot the container', () => {
    const owner = (b: string) => (b === BUNDLE ? { session: 'deadbeef', backend: 'gvisor' } : {});
    const tasks = runtimeTasks(procs, owner);
    expect(tasks.find((t) => t.containerId === ID)).toMatchObject({ pids: [10, 11, 12], session: 'deadbeef', backend: 'gvisor', address: '/var/run/docker/containerd/containerd.sock' });
    expect(tasks.find((t) => t.containerId === OTHER)?.session).toBeUndefined();
    expect(listRuntimeLeftovers('gvisor', 'cafe0001', new Set(), tasks)).toEqual([{ backend: 'gvisor', kind: 'runtime-task', id: ID, session: 'deadbeef' }]);
    expect(listRuntimeLeftovers('docker', 'cafe0001', new Set(), tasks)).toEqual([]);
    expect(listRuntimeLeftovers('gvisor', 'deadbeef', new Set(), tasks)).toEqual([]);
    expect(listRuntimeLeftovers('gvisor', 'cafe0001', new Set([ID]), tasks)).toEqual([]);
  });
});

describe('input access for an unprivileged container user', () => {
  const copy = () => '/tmp/copy';
  it('runs as 65534:65534 when others may read the input, never as root', () => {
    expect(inputAccess('/in', { mode: 0o100644, uid: 0, gid: 0 }, copy)).toEqual({ user: '65534:65534', path: '/in' });
    expect(inputAccess('/in', { mode: 0o100640, uid: 0, gid: 42 }, copy)).toMatchObject({ user: '65534:42', path: '/in' });
    expect(inputAccess('/in', { mode: 0o100600, uid: 1000, gid: 1000 }, copy)).toMatchObject({ user: '1000:1000', path: '/in' });
    expect(inputAccess('/in', { mode: 0o100600, uid: 0, gid: 0 }, copy)).toMatchObject({ user: '65534:65534', path: '/tmp/copy' });
  });
});
