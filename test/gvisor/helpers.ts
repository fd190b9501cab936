import { spawnSync } from 'node:child_process';
import type Docker from 'dockerode';
import type { Fingerprint } from '../../src/backends/backend.js';
import type { DockerBackend } from '../../src/backends/docker/docker-backend.js';
import { findExecutable } from '../../src/backends/docker/runtime.js';
import { listProcesses } from '../../src/backends/proc.js';
import { registry } from '../../src/backends/registry.js';
import { LABELS } from '../../src/session/session.js';

/** The gvisor backend of the registry. */
export const gvisor = (await registry.get('gvisor')) as DockerBackend;

/** Its fingerprint on this machine. */
export const fingerprint: Fingerprint = await gvisor.fingerprint();

/** `make test` sets this after setup installed every tool: a test that would skip for a missing one fails instead. */
const REQUIRE_ALL = process.env.ISOLAB_TEST_REQUIRE_ALL === '1';

/**
 * Why the tests that need runsc are skipped, or undefined when they run. They are skipped only
 * where runsc is not installed at all (a machine `scripts/setup.sh` has not set up) and not under
 * `make test` (ISOLAB_TEST_REQUIRE_ALL=1); where it is installed, as setup does here, they run and
 * fail with the fingerprint's reason if it is unusable.
 */
export const skipReason: string | undefined =
  REQUIRE_ALL || fingerprint.health === 'healthy' || findExecutable('runsc') ? undefined : `runsc not usable here: ${fingerprint.description}`;

if (skipReason) process.stderr.write(`gvisor tests SKIPPED: ${skipReason}\n`);

/** A describe title that carries the skip reason when there is one. */
export function title(what: string): string {
  return skipReason ? `${what} (SKIPPED: ${skipReason})` : what;
}

/** Containers of a session, any state, as `docker ps -a --filter label=isolab.session=<id>` lists them. */
export function containersOf(sessionId: string): string[] {
  const r = spawnSync('/usr/bin/docker', ['ps', '-aq', '--no-trunc', '--filter', `label=${LABELS.session}=${sessionId}`]);
  if (r.status !== 0) throw new Error(`docker ps failed: ${r.stderr.toString()}`);
  return r.stdout.toString().split('\n').filter(Boolean);
}

/** Host processes whose command line carries one of these container ids (shims, runsc-sandbox, runsc-gofer), as `ps -eo pid,args`. */
export function processesOf(containerIds: Iterable<string>): string[] {
  const ids = [...containerIds];
  if (ids.length === 0) return [];
  return listProcesses().filter((p) => ids.some((id) => p.args.some((a) => a.includes(id)))).map((p) => `${p.pid} ${p.args.join(' ').slice(0, 160)}`);
}

/** A fresh valid session id (lowercase letters and digits). */
export const sid = (tag: string): string => `${tag}${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`.slice(0, 32);

/**
 * Leaves what a failed runsc start leaves, for session `other`: creates a runsc container labelled
 * and marked as isolab's gvisor backend, whose start fails (no such executable), then removes it.
 * Its containerd-shim (and at times runsc-sandbox and runsc-gofer) stay behind. Resolves with its id.
 */
export async function leaveFailedStart(docker: Docker, image: { dockerTag: string; id: string }, other: string, backend = 'gvisor'): Promise<string> {
  const c = await docker.createContainer({
    name: `isolab-${other}-failed`, Image: image.dockerTag, Cmd: ['/nonexistent/executor'], NetworkDisabled: true,
    Env: [`ISOLAB_CONTAINER_SESSION=${other}`, `ISOLAB_BACKEND=${backend}`],
    Labels: { [LABELS.owned]: 'true', [LABELS.session]: other, [LABELS.task]: 'failed', 'isolab.backend': backend, 'isolab.image': image.id },
    HostConfig: { NetworkMode: 'none', Runtime: 'runsc' },
  });
  await expectReject(c.start());
  await c.remove({ force: true });
  return c.id;
}

async function expectReject(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch {
    return;
  }
  throw new Error('the start was expected to fail');
}
