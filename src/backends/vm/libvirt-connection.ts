import type { Domain, DomainInfo, Hypervisor } from '@unraid/libvirt';

/** Environment variable naming the libvirt URI (default `qemu:///system`). */
export const URI_ENV = 'ISOLAB_LIBVIRT_URI';

/** The libvirt URI isolab talks to: `ISOLAB_LIBVIRT_URI` or `qemu:///system`. */
export function libvirtUri(): string {
  return process.env[URI_ENV] || 'qemu:///system';
}

type LibvirtModule = typeof import('@unraid/libvirt');

let modulePromise: Promise<LibvirtModule> | undefined;

/** Loads the native binding on first use; rejects with a one-line reason when it is missing. */
export function loadLibvirt(): Promise<LibvirtModule> {
  modulePromise ??= import('@unraid/libvirt').catch((err: unknown) => {
    modulePromise = undefined;
    throw new Error(`@unraid/libvirt not usable: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  });
  return modulePromise;
}

/** libvirt's VIR_ERR_NO_DOMAIN. */
const ERR_NO_DOMAIN = 42;

/** True when a libvirt error says the domain does not exist (any more). */
export function isNoDomain(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { code?: number; message?: string };
  return e.code === ERR_NO_DOMAIN || /domain not found|no domain with matching/i.test(e.message ?? '');
}

/** One line for a libvirt error. */
export function libvirtMessage(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  return m.replace(/\s+/g, ' ').trim();
}

/** A lazily opened connection to one libvirt URI, shared by every task of a backend. */
export class LibvirtConnection {
  private hv?: Promise<Hypervisor>;
  /**
   * Domain objects a libvirt call is running on. The binding's workers hold a raw pointer to the
   * object, not a reference: if V8 collected it mid-call, its finalizer would free the domain under
   * the worker thread (use after free). Holding them here until the call settles prevents that.
   */
  private readonly pinned = new Set<Domain>();

  constructor(
    /** The libvirt URI. */
    readonly uri: string = libvirtUri(),
  ) {}

  /** The open hypervisor connection; opens it on first use. */
  hypervisor(): Promise<Hypervisor> {
    this.hv ??= (async () => {
      const lv = await loadLibvirt();
      const hv = new lv.Hypervisor({ uri: this.uri });
      await hv.connectOpen();
      return hv;
    })().catch((err: unknown) => {
      this.hv = undefined;
      throw new Error(`libvirt not reachable at ${this.uri}: ${libvirtMessage(err)}`);
    });
    return this.hv;
  }

  /** Starts a transient domain from XML; it is running when this resolves. */
  async createXml(xml: string): Promise<Domain> {
    return (await this.hypervisor()).domainCreateXML(xml);
  }

  /** The domain of that name, or undefined when there is none. */
  async lookup(name: string): Promise<Domain | undefined> {
    try {
      return await (await this.hypervisor()).domainLookupByName(name);
    } catch (err) {
      if (isNoDomain(err)) return undefined;
      throw err;
    }
  }

  /** Runs one libvirt call on a domain object while keeping that object reachable. */
  private async on<T>(d: Domain, call: (d: Domain) => Promise<T>): Promise<T> {
    this.pinned.add(d);
    try {
      return await call(d);
    } finally {
      this.pinned.delete(d);
    }
  }

  /** Domain info, or undefined when the domain is gone. */
  async info(name: string): Promise<DomainInfo | undefined> {
    const hv = await this.hypervisor();
    try {
      const d = await hv.domainLookupByName(name);
      return await this.on(d, (x) => hv.domainGetInfo(x));
    } catch (err) {
      if (isNoDomain(err)) return undefined;
      throw err;
    }
  }

  /** The live XML of a domain, or undefined when it is gone. */
  async xml(name: string): Promise<string | undefined> {
    const hv = await this.hypervisor();
    try {
      return await this.on(await hv.domainLookupByName(name), (x) => hv.domainGetXMLDesc(x));
    } catch (err) {
      if (isNoDomain(err)) return undefined;
      throw err;
    }
  }

  /** Powers a domain off at once (pulls the plug); isolab's domains are transient, so it is then gone. Never undefines. Idempotent. */
  async destroy(name: string): Promise<void> {
    const hv = await this.hypervisor();
    let d: Domain;
    try {
      d = await hv.domainLookupByName(name);
    } catch (err) {
      if (isNoDomain(err)) return;
      throw err;
    }
    try {
      await this.on(d, (x) => hv.domainDestroy(x));
    } catch (err) {
      if (!isNoDomain(err) && !/not running/i.test(libvirtMessage(err))) throw err;
    }
  }

  /** Names of every domain, running or defined. */
  async domainNames(): Promise<string[]> {
    const hv = await this.hypervisor();
    const doms = await hv.connectListAllDomains();
    const names: string[] = [];
    for (const d of doms) {
      try {
        names.push(await this.on(d, (x) => hv.domainGetName(x)));
      } catch {
        /* vanished meanwhile */
      }
    }
    return names;
  }

  /** Closes the connection if it was opened. */
  async close(): Promise<void> {
    const hv = this.hv;
    this.hv = undefined;
    if (!hv) return;
    try {
      await (await hv).connectClose();
    } catch {
      /* already closed or never opened */
    }
  }
}
