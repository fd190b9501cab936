import { readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Domain, Hypervisor } from '@unraid/libvirt';
import { sessionOfName } from '../../session/session-id.js';
import type { OwnedResource } from '../backend.js';
import { parseMetadata } from './domain-xml.js';
import { isNoDomain, type LibvirtConnection } from './libvirt-connection.js';
import { vmRunRoot } from './paths.js';
import { directQemuProcesses } from './qemu-process.js';
import { listTemplates } from './snapshot.js';

/** libvirt's VIR_CONNECT_LIST_DOMAINS_TRANSIENT. */
const LIST_TRANSIENT = 8;

/** A transient domain as the reaper sees it. */
interface TransientDomain {
  name: string;
  uuid: string;
  domain: Domain;
}

async function transientDomains(hv: Hypervisor): Promise<TransientDomain[]> {
  const out: TransientDomain[] = [];
  for (const d of await hv.connectListAllDomains(LIST_TRANSIENT)) {
    try {
      out.push({ name: await hv.domainGetName(d), uuid: await hv.domainGetUUIDString(d), domain: d });
    } catch {
      /* vanished meanwhile */
    }
  }
  return out;
}

/**
 * The session owning a domain, when it is provably isolab's: transient (isolab never defines a
 * domain, so a persistent one is never taken, whatever its name), named `isolab-<session>-…`, and
 * carrying isolab's `<metadata>` element naming that same session. Undefined otherwise.
 */
export function domainOwner(name: string, xml: string | undefined, transient: boolean): string | undefined {
  if (!transient || !xml) return undefined;
  const s = sessionOfName(name);
  if (!s || parseMetadata(xml).session !== s) return undefined;
  return s;
}

async function ownedDomains(hv: Hypervisor): Promise<(TransientDomain & { session: string })[]> {
  const out: (TransientDomain & { session: string })[] = [];
  for (const d of await transientDomains(hv)) {
    if (!sessionOfName(d.name)) continue;
    const xml = await hv.domainGetXMLDesc(d.domain).catch(() => undefined);
    const s = domainOwner(d.name, xml, true);
    if (s) out.push({ ...d, session: s });
  }
  return out;
}

/** Run folders and input copies (`vmRunRoot()/isolab-<session>-…`) of any session. */
export function ownedRunFiles(backend: string): OwnedResource[] {
  let files: string[] = [];
  try {
    files = readdirSync(vmRunRoot());
  } catch {
    return [];
  }
  const out: OwnedResource[] = [];
  for (const f of files) {
    const s = sessionOfName(f);
    if (s) out.push({ backend, kind: 'file', id: join(vmRunRoot(), f), session: s });
  }
  return out;
}

/** QEMU processes started directly (vm:micro, vm:snapshot, template builds) and half-built snapshot templates, of any session. */
export function ownedDirect(backend: string): OwnedResource[] {
  const out: OwnedResource[] = directQemuProcesses().map((q) => ({ backend, kind: 'process', id: String(q.pid), name: q.runDir, session: q.session }));
  for (const t of listTemplates()) {
    const s = sessionOfName(basename(t.dir));
    if (s && !t.info) out.push({ backend, kind: 'template-build', id: t.dir, session: s });
  }
  return out;
}

/**
 * The vm backend's leftovers: isolab's transient domains (see {@link domainOwner}), QEMU processes
 * it started directly, half-built snapshot templates and run files. Files are listed when libvirt
 * cannot be reached.
 */
export async function listOwnedVm(conn: LibvirtConnection, backend: string): Promise<OwnedResource[]> {
  const out: OwnedResource[] = [];
  let hv: Hypervisor | undefined;
  try {
    hv = await conn.hypervisor();
  } catch {
    /* libvirt not reachable: only files */
  }
  if (hv) for (const d of await ownedDomains(hv)) out.push({ backend, kind: 'domain', id: d.name, session: d.session });
  out.push(...ownedDirect(backend), ...ownedRunFiles(backend));
  return out;
}

/**
 * Removes one leftover. A domain is powered off (destroyed) only after checking again that it is
 * still transient and isolab's; it is never undefined. A file must be directly in the run folder.
 */
export async function removeOwnedVm(conn: LibvirtConnection, r: OwnedResource): Promise<void> {
  if (r.kind === 'domain') {
    const hv = await conn.hypervisor();
    const d = (await ownedDomains(hv)).find((x) => x.name === r.id);
    if (!d) {
      const still = await hv.domainLookupByName(r.id).then(() => true, (err: unknown) => !isNoDomain(err));
      if (still) throw new Error(`domain ${r.id} is no longer a transient isolab domain; left alone`);
      return;
    }
    try {
      await hv.domainDestroy(d.domain);
    } catch (err) {
      if (!isNoDomain(err)) throw err;
    }
    return;
  }
  if (r.kind === 'process') {
    const q = directQemuProcesses().find((x) => String(x.pid) === r.id && x.runDir === r.name);
    if (!q) return;
    process.kill(q.pid, 'SIGKILL');
    return;
  }
  if (r.kind === 'template-build') {
    const s = sessionOfName(basename(r.id));
    const ok = s && listTemplates().some((t) => t.dir === r.id && !t.info) && dirname(r.id).endsWith('/snapshots');
    if (!ok) throw new Error(`not a half-built isolab snapshot template: ${r.id}`);
    rmSync(r.id, { recursive: true, force: true });
    return;
  }
  if (r.kind === 'file') {
    if (dirname(r.id) !== vmRunRoot() || !sessionOfName(basename(r.id))) throw new Error(`not an isolab run file: ${r.id}`);
    rmSync(r.id, { recursive: true, force: true });
  }
}
