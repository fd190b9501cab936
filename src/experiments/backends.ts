import type { Backend, Fingerprint } from '../backends/backend.js';
import { backendNames, getBackend, safeFingerprint } from '../backends/registry.js';
import type { BackendInfo } from './types.js';

/** Where experiments get their backends from; the registry in real runs, a stub in tests. */
export interface BackendSource {
  /** Names of the registered backends. */
  names(): string[];
  /** The backend of that name (registered names only). */
  get(name: string): Promise<Backend>;
  /** Its fingerprint; never throws. */
  fingerprint(name: string): Promise<Fingerprint>;
}

/** The backend registry (`src/backends/registry.ts`) as a source. */
export const registrySource: BackendSource = { names: backendNames, get: getBackend, fingerprint: safeFingerprint };

/** The backends the lab compares; reported (as skipped) even when a build does not register them. */
export const LAB_BACKENDS = ['process', 'docker', 'vm'] as const;

/** The default `--backends`: the lab's three, then any other registered backend except the mock. */
export function defaultBackends(src: BackendSource = registrySource): string[] {
  return [...new Set([...LAB_BACKENDS, ...src.names().filter((n) => n !== 'mock')])];
}

/** Names that are neither registered nor one of the lab's backends (bad usage). */
export function unknownBackends(names: readonly string[], src: BackendSource = registrySource): string[] {
  const known = new Set<string>([...LAB_BACKENDS, ...src.names()]);
  return names.filter((n) => !known.has(n));
}

/** The accelerator a backend reports (`*.accelerator` attribute); `none` for non-VM backends. */
export function acceleratorOf(name: string, attributes: Record<string, string>): string {
  const key = Object.keys(attributes).find((k) => k.endsWith('.accelerator'));
  if (key) return attributes[key]!;
  return name === 'vm' ? 'unknown' : 'none';
}

/** Fingerprints each named backend; unregistered and unhealthy ones come back unusable, with the reason. */
export async function inspectBackends(names: readonly string[], src: BackendSource = registrySource): Promise<BackendInfo[]> {
  const registered = new Set(src.names());
  return Promise.all(
    names.map(async (name): Promise<BackendInfo> => {
      if (!registered.has(name)) {
        return {
          name, registered: false, health: 'undetected', description: 'backend not registered in this build',
          attributes: {}, accelerator: acceleratorOf(name, {}), usable: false,
        };
      }
      const fp = await src.fingerprint(name);
      return {
        name, registered: true, health: fp.health, description: fp.description, attributes: fp.attributes,
        accelerator: acceleratorOf(name, fp.attributes), usable: fp.health === 'healthy',
      };
    }),
  );
}
