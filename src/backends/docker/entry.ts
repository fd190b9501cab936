import type { BackendEntry } from '../backend.js';
import { DOCKER_DESCRIPTOR, dockerRuntimeDescriptor } from './descriptor.js';

/**
 * Runtimes that have their own backend or are the docker backend itself, so never a `docker:`
 * variant: `io.containerd.runc.v2` and `io.containerd.runtime.v1.linux` are the names Docker 20.10
 * lists for its built-in runc shims.
 */
const NOT_VARIANTS = new Set(['runc', 'runsc', 'io.containerd.runc.v2', 'io.containerd.runtime.v1.linux']);

/** OCI runtimes doctor looks for on the host even when dockerd does not know them. */
export const WELL_KNOWN_RUNTIMES = ['crun', 'youki', 'kata-runtime'] as const;

/** The entry of `docker:<runtime>`: the docker backend on another OCI runtime, probed once before use. */
export function dockerRuntimeEntry(runtime: string): BackendEntry | undefined {
  if (NOT_VARIANTS.has(runtime) || !/^[a-z0-9][a-z0-9_.-]*$/i.test(runtime)) return undefined;
  const descriptor = dockerRuntimeDescriptor(runtime);
  return {
    descriptor,
    create: async () => new (await import('./docker-backend.js')).DockerBackend({ descriptor, runtime, probe: true }),
  };
}

/** Registry entry of the docker backend; `docker:<runtime>` selects its variants. */
export const DOCKER_ENTRY: BackendEntry = {
  descriptor: DOCKER_DESCRIPTOR,
  create: async () => new (await import('./docker-backend.js')).DockerBackend(),
  variant: dockerRuntimeEntry,
  discoverVariants: async () => {
    const [{ dockerConnection }, { findExecutable }] = await Promise.all([import('./connection.js'), import('./runtime.js')]);
    const names = new Set<string>();
    try {
      const info = (await (await dockerConnection()).docker.info()) as { Runtimes?: Record<string, unknown> };
      for (const r of Object.keys(info.Runtimes ?? {})) names.add(r);
    } catch {
      /* engine not reachable: only what is installed */
    }
    for (const r of WELL_KNOWN_RUNTIMES) if (findExecutable(r)) names.add(r);
    return [...names].filter((r) => dockerRuntimeEntry(r)).sort().map((r) => `docker:${r}`);
  },
};
