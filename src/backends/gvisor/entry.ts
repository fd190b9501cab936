import type { BackendEntry } from '../backend.js';
import { GVISOR_DESCRIPTOR } from './descriptor.js';

/**
 * Registry entry of the gvisor backend: the docker backend (same code, same locked-down container)
 * on the runsc runtime. Its Sentry and gofer threads count against the pids limit, hence a higher one.
 */
export const GVISOR_ENTRY: BackendEntry = {
  descriptor: GVISOR_DESCRIPTOR,
  create: async () => {
    const [{ DockerBackend }, { checkRunsc, gvisorRuntime, RUNSC_HINTS }] = await Promise.all([
      import('../docker/docker-backend.js'), import('./runsc.js'),
    ]);
    return new DockerBackend({
      descriptor: GVISOR_DESCRIPTOR, runtime: gvisorRuntime(), pidsLimit: 256, hints: RUNSC_HINTS, checkRuntime: (f) => checkRunsc(f),
    });
  },
};
