import type { Backend, Fingerprint } from '../backends/backend.js';
import { acceleratorOf, byIsolation, resolveDescriptor, type BackendDescriptor } from '../backends/descriptor.js';
import { registry } from '../backends/registry.js';
import type { BackendInfo } from './types.js';

/** Where experiments get their backends from; the registry in real runs, a stub in tests. */
export interface BackendSource {
  /** Names of the registered backends, along the isolation spectrum. */
  names(): string[];
  /** The static descriptor of a backend or variant; undefined for a name the source does not know. */
  describe(name: string): BackendDescriptor | undefined;
  /** The backend of that name (known names only). */
  get(name: string): Promise<Backend>;
  /** Its fingerprint; never throws. */
  fingerprint(name: string): Promise<Fingerprint>;
}

/** The backend registry (`src/backends/registry.ts`) as a source. */
export const registrySource: BackendSource = registry;

/** The default `--backends`: every registered backend, along the isolation spectrum. */
export function defaultBackends(src: BackendSource = registrySource): string[] {
  return orderBackends(src.names(), src);
}

/** Names the source does not know, neither as backends nor as variants (bad usage). */
export function unknownBackends(names: readonly string[], src: BackendSource = registrySource): string[] {
  return names.filter((n) => src.describe(n) === undefined);
}

/** Names sorted along the isolation spectrum (process, container, sandbox, vm), unknown ones last, stable. */
export function orderBackends(names: readonly string[], src: BackendSource = registrySource): string[] {
  return byIsolation(names, (n) => src.describe(n));
}

/** Fingerprints each named backend; unknown and unhealthy ones come back unusable, with the reason. In isolation order. */
export async function inspectBackends(names: readonly string[], src: BackendSource = registrySource): Promise<BackendInfo[]> {
  const infos = await Promise.all(
    names.map(async (name): Promise<BackendInfo> => {
      const d = src.describe(name);
      if (!d) {
        return {
          name, descriptor: null, registered: false, health: 'undetected', description: 'backend not registered in this build',
          attributes: {}, accelerator: acceleratorOf(null, {}), usable: false,
        };
      }
      const fp = await src.fingerprint(name);
      const descriptor = resolveDescriptor(d, fp.attributes);
      return {
        name, descriptor, registered: true, health: fp.health, description: fp.description, attributes: fp.attributes,
        accelerator: acceleratorOf(descriptor, fp.attributes), usable: fp.health === 'healthy',
      };
    }),
  );
  return byIsolation(infos, (b) => b.descriptor);
}
