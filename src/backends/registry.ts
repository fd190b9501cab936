import type { Backend, Fingerprint } from './backend.js';
import { ProcessBackend } from './process/process-backend.js';

type Factory = () => Promise<Backend>;

/** Backends selectable with `--backend`, in the order reports show them. */
const FACTORIES: Record<string, Factory> = {
  process: async () => new ProcessBackend(),
  docker: async () => new (await import('./docker/docker-backend.js')).DockerBackend(),
  vm: async () => new (await import('./vm/vm-backend.js')).VmBackend(),
};

/** Names of the real backends. */
export function backendNames(): string[] {
  return Object.keys(FACTORIES);
}

/** True when `name` is a known backend. */
export function isBackendName(name: string): boolean {
  return Object.hasOwn(FACTORIES, name);
}

const cache = new Map<string, Promise<Backend>>();

/** The backend of that name (one instance per process). Throws for an unknown name. */
export function getBackend(name: string): Promise<Backend> {
  const f = FACTORIES[name];
  if (!f) throw new Error(`unknown backend "${name}" (known: ${backendNames().join(', ')})`);
  let b = cache.get(name);
  if (!b) cache.set(name, (b = f()));
  return b;
}

/** Fingerprints a backend; any failure becomes an `unhealthy` fingerprint, never an exception. */
export async function safeFingerprint(name: string): Promise<Fingerprint> {
  try {
    return await (await getBackend(name)).fingerprint();
  } catch (err) {
    return { health: 'unhealthy', description: err instanceof Error ? err.message : String(err), attributes: {} };
  }
}
