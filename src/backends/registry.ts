import type { Backend, BackendEntry, Fingerprint } from './backend.js';
import { byIsolation, type BackendDescriptor } from './descriptor.js';
import { DOCKER_ENTRY } from './docker/entry.js';
import { GVISOR_ENTRY } from './gvisor/entry.js';
import { PROCESS_ENTRY } from './process/entry.js';
import { VM_ENTRY } from './vm/entry.js';

/**
 * The backends one build knows: entries (descriptor + lazy factory), looked up by name, with
 * variants (`docker:crun`) resolved by their base entry. Everything outside src/backends/ asks a
 * registry or a descriptor, never a backend's name.
 */
export class BackendRegistry {
  private readonly entries: BackendEntry[];
  private readonly cache = new Map<string, Promise<Backend>>();

  constructor(entries: readonly BackendEntry[]) {
    this.entries = byIsolation(entries, (e) => e.descriptor);
  }

  /** Names of the registered backends, along the isolation spectrum (variants not included). */
  names(): string[] {
    return this.entries.map((e) => e.descriptor.name);
  }

  private entry(name: string): BackendEntry | undefined {
    const exact = this.entries.find((e) => e.descriptor.name === name);
    if (exact) return exact;
    const i = name.indexOf(':');
    if (i <= 0) return undefined;
    return this.entries.find((e) => e.descriptor.name === name.slice(0, i))?.variant?.(name.slice(i + 1));
  }

  /** True when `name` is a registered backend or a variant of one. */
  has(name: string): boolean {
    return this.entry(name) !== undefined;
  }

  /** The static descriptor of a backend or variant, or undefined when unknown. */
  describe(name: string): BackendDescriptor | undefined {
    return this.entry(name)?.descriptor;
  }

  /** The backend of that name (one instance per registry). Throws for an unknown name. */
  get(name: string): Promise<Backend> {
    const e = this.entry(name);
    if (!e) throw new Error(`unknown backend "${name}" (known: ${this.names().join(', ')})`);
    let b = this.cache.get(name);
    if (!b) {
      const made = e.create();
      this.cache.set(name, (b = made));
      made.catch(() => {
        if (this.cache.get(name) === made) this.cache.delete(name);
      });
    }
    return b;
  }

  /** Fingerprints a backend; any failure becomes an `unhealthy` fingerprint, never an exception. */
  async fingerprint(name: string): Promise<Fingerprint> {
    try {
      return await (await this.get(name)).fingerprint();
    } catch (err) {
      return { health: 'unhealthy', description: (err instanceof Error ? err.message : String(err)).split('\n')[0]!, attributes: {} };
    }
  }

  /** Variants the host seems to offer (e.g. `docker:crun`), in registry order; never throws. */
  async variants(): Promise<string[]> {
    const lists = await Promise.all(this.entries.map((e) => (e.discoverVariants ? e.discoverVariants().catch(() => []) : [])));
    return lists.flat();
  }
}

/** The entries of this build's backends. Adding a backend = its own folder plus one line here. */
export const BUILTIN_ENTRIES: readonly BackendEntry[] = [PROCESS_ENTRY, DOCKER_ENTRY, GVISOR_ENTRY, VM_ENTRY];

/** The backends of this build: `--backend` / `--backends` select among them. */
export const registry = new BackendRegistry(BUILTIN_ENTRIES);

/** Names of the real backends, along the isolation spectrum. */
export function backendNames(): string[] {
  return registry.names();
}

/** True when `name` is a known backend or variant. */
export function isBackendName(name: string): boolean {
  return registry.has(name);
}

/** The backend of that name (one instance per process). Throws for an unknown name. */
export function getBackend(name: string): Promise<Backend> {
  return registry.get(name);
}

/** Fingerprints a backend; any failure becomes an `unhealthy` fingerprint, never an exception. */
export function safeFingerprint(name: string): Promise<Fingerprint> {
  return registry.fingerprint(name);
}
