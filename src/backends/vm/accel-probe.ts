import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { domainXml, type Accelerator } from './domain-xml.js';
import type { VmImage } from './guest-image.js';
import type { HostFacts } from './host-facts.js';
import { libvirtMessage, type LibvirtConnection } from './libvirt-connection.js';
import { makeRunDir } from './paths.js';
import { SerialLogReader } from './serial-log.js';

/** Environment variable forcing the accelerator (`kvm` or `tcg`) without a probe. */
export const ACCEL_ENV = 'ISOLAB_VM_ACCEL';

/** Environment variable overriding the probe timeout (ms). */
export const PROBE_TIMEOUT_ENV = 'ISOLAB_VM_PROBE_TIMEOUT_MS';

/** How long a KVM probe boot may take to reach the guest's first process (ms). A working KVM needs well under 1 s. */
export const DEFAULT_PROBE_TIMEOUT_MS = 5000;

/** How long the TCG verification boot may take to reach init (ms); TCG needs 2-5 s here. */
export const TCG_PROBE_TIMEOUT_MS = 30_000;

/** How long a probe result cached on disk stays valid (ms). */
export const PROBE_CACHE_TTL_MS = 15 * 60_000;

/** The kernel line that proves the guest kernel booted all the way to user space. */
export const PROBE_MARKER = /Run \/init as init process|@isolab-guest/;

/**
 * When the accelerator may be probed (by booting two tiny VMs): `auto` probes when the on-disk cache
 * is missing or stale and writes the answer there; `cache-only` never boots nor writes anything and
 * answers from the cache whatever its age (or says the accelerator was not probed yet), which is
 * what a plain `isolab doctor` uses; `fresh` always probes.
 */
export type ProbePolicy = 'auto' | 'cache-only' | 'fresh';

let policy: ProbePolicy = 'auto';

/** Sets the probe policy of this process (see {@link ProbePolicy}). */
export function setProbePolicy(p: ProbePolicy): void {
  policy = p;
}

/** The probe policy of this process. */
export function probePolicy(): ProbePolicy {
  return policy;
}

/** What the accelerator probe found. */
export interface AccelResult {
  /** Accelerator VMs run under (`tcg` when not probed yet: the fallback). */
  accelerator: Accelerator;
  /**
   * What became of KVM: works, hangs (no marker in time), fails (creation error), not-offered (libvirt
   * has no kvm domain type, e.g. no /dev/kvm), forced (by env), not-probed (cache-only and no cache).
   */
  kvm: 'works' | 'hangs' | 'fails' | 'not-offered' | 'forced' | 'not-probed';
  /** One line: why this accelerator. */
  reason: string;
  /** Wall time of the KVM probe boot (create → marker or timeout → destroyed), ms. */
  probeMs?: number;
  /** Wall time (ms) of the TCG boot run beside the KVM one. */
  tcgProbeMs?: number;
  /** True when the TCG boot reached init. */
  tcgWorks?: boolean;
  /** Where the answer came from (`none`: not probed yet). */
  source: 'probe' | 'cache' | 'env' | 'none';
  /** When the probe ran (ms since epoch). */
  at: number;
  /** For a cached answer used whatever its age (cache-only): why it may be out of date, if it may be. */
  stale?: string;
}

/** Inputs of a probe. */
export interface ProbeOptions {
  /** libvirt connection. */
  conn: LibvirtConnection;
  /** Kernel and initramfs to boot. */
  image: VmImage;
  /** Versions and domain types (cache key, and whether kvm is offered at all). */
  facts: HostFacts;
  /** Folder for the cache file and the probe's serial log. */
  dir: string;
  /** Domain name prefix for the probe boots, e.g. `isolab-<session>-probe`; `-kvm`/`-tcg` is appended. Asked for only when a probe boots. */
  name: string | (() => string);
  /** Session id (metadata). */
  session: string;
  /** Probe timeout (ms). */
  timeoutMs?: number;
  /** Ignore the cache. */
  fresh?: boolean;
}

interface CacheFile {
  key: string;
  result: AccelResult;
}

/** Cache key: host kernel, QEMU and libvirt versions, URI and guest kernel (size); any change re-probes. */
export function probeKey(o: Pick<ProbeOptions, 'conn' | 'image' | 'facts'>): string {
  let kernel = '?';
  try {
    kernel = String(statSync(o.image.kernel).size);
  } catch {
    /* probed anyway */
  }
  return [release(), o.facts.qemuVersion ?? '?', o.facts.libvirtVersion ?? '?', o.conn.uri, kernel].join('|');
}

function cachePath(dir: string): string {
  return join(dir, 'accel-cache.json');
}

function readCacheFile(dir: string): CacheFile | undefined {
  try {
    const c = JSON.parse(readFileSync(cachePath(dir), 'utf8')) as CacheFile;
    return typeof c.key === 'string' && c.result && typeof c.result.at === 'number' ? c : undefined;
  } catch {
    return undefined;
  }
}

/** The cached result for this key, if fresh. */
export function readProbeCache(dir: string, key: string, now = Date.now()): AccelResult | undefined {
  const c = readCacheFile(dir);
  if (!c || c.key !== key || now - c.result.at > PROBE_CACHE_TTL_MS || now < c.result.at) return undefined;
  return { ...c.result, source: 'cache' };
}

/** How long ago, in words: `40 s`, `12 min`, `3 h`, `2 d`. */
export function ageText(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} d`;
}

/** The cached result whatever its age (cache-only), saying why it may be out of date; undefined when there is none. */
export function readProbeCacheAnyAge(dir: string, key: string, now = Date.now()): AccelResult | undefined {
  const c = readCacheFile(dir);
  if (!c) return undefined;
  const why: string[] = [];
  if (c.key !== key) why.push('host kernel, QEMU, libvirt or guest kernel changed since');
  if (now - c.result.at > PROBE_CACHE_TTL_MS) why.push(`older than the ${PROBE_CACHE_TTL_MS / 60_000} min a probe is trusted`);
  return { ...c.result, source: 'cache', stale: why.length ? why.join('; ') : undefined };
}

function writeProbeCache(dir: string, key: string, result: AccelResult): void {
  try {
    mkdirSync(dir, { recursive: true });
    const tmp = `${cachePath(dir)}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ key, result } satisfies CacheFile));
    renameSync(tmp, cachePath(dir));
  } catch {
    /* the cache is an optimisation */
  }
}

/**
 * Decides between KVM and TCG. `/dev/kvm` is not trusted: a tiny KVM domain boots the guest kernel and
 * initramfs and must print the kernel's "Run /init" line on its serial port within the timeout; if it
 * does not (or cannot be created), VMs run under TCG. A TCG domain boots alongside it, so the fallback
 * is known to work too. The answer is cached on disk for PROBE_CACHE_TTL_MS.
 */
export async function probeAccelerator(o: ProbeOptions): Promise<AccelResult> {
  const at = Date.now();
  const forced = process.env[ACCEL_ENV];
  if (forced === 'kvm' || forced === 'tcg') {
    return { accelerator: forced, kvm: 'forced', reason: `forced by ${ACCEL_ENV}=${forced}`, source: 'env', at };
  }
  if (o.facts.domainTypes.length > 0 && !o.facts.domainTypes.includes('kvm')) {
    return { accelerator: 'tcg', kvm: 'not-offered', reason: 'libvirt offers no kvm domain type', source: 'probe', at };
  }
  const key = probeKey(o);
  if (policy === 'cache-only') {
    return readProbeCacheAnyAge(o.dir, key) ?? {
      accelerator: 'tcg', kvm: 'not-probed', source: 'none', at,
      reason: 'not probed yet (isolab doctor --probe boots two tiny VMs to find out; any VM run does too)',
    };
  }
  if (!o.fresh && policy !== 'fresh') {
    const cached = readProbeCache(o.dir, key);
    if (cached) return cached;
  }
  const timeoutMs = o.timeoutMs ?? (Number(process.env[PROBE_TIMEOUT_ENV]) || DEFAULT_PROBE_TIMEOUT_MS);
  const named: ProbeOptions = { ...o, name: typeof o.name === 'function' ? o.name() : o.name };
  const [kvm, tcg] = await Promise.all([bootProbe(named, 'kvm', timeoutMs), bootProbe(named, 'tcg', TCG_PROBE_TIMEOUT_MS)]);
  let result: AccelResult;
  if (kvm.ok) {
    result = {
      accelerator: 'kvm', kvm: 'works', reason: `KVM guest reached init ${kvm.markerMs} ms after creation`, probeMs: kvm.probeMs,
      tcgProbeMs: tcg.probeMs, tcgWorks: tcg.ok, source: 'probe', at,
    };
  } else {
    result = {
      accelerator: 'tcg', kvm: kvm.created && !kvm.stopped ? 'hangs' : 'fails', source: 'probe', at, probeMs: kvm.probeMs,
      reason: `${kvm.reason}; using TCG`, tcgProbeMs: tcg.probeMs, tcgWorks: tcg.ok,
    };
    if (!tcg.ok) result.reason += ` (but TCG failed too: ${tcg.reason})`;
  }
  writeProbeCache(o.dir, key, result);
  return result;
}

/** One probe boot. */
export interface BootOutcome {
  /** The marker was seen in time. */
  ok: boolean;
  /** libvirt created the domain. */
  created: boolean;
  /** One line. */
  reason: string;
  /** create → marker or timeout → destroyed (ms). */
  probeMs: number;
  /** create returned → marker (ms). */
  markerMs?: number;
  /** The guest stopped on its own before the marker (crashed, or powered off). */
  stopped?: boolean;
}

/** Boots the image's kernel + initramfs under `accel` until the init line appears or `timeoutMs` passes, then destroys it. */
export async function bootProbe(o: ProbeOptions, accel: Accelerator, timeoutMs: number): Promise<BootOutcome> {
  const name = `${typeof o.name === 'function' ? o.name() : o.name}-${accel}`;
  const runDir = join(o.dir, 'run', name);
  makeRunDir(runDir);
  const serial = join(runDir, 'serial.log');
  const t0 = performance.now();
  let marker = false;
  let lastLine = '';
  const reader = new SerialLogReader(serial, (l) => {
    if (l.trim()) lastLine = l.trim();
    if (PROBE_MARKER.test(l)) marker = true;
  });
  const xml = domainXml({
    name, session: o.session, taskId: `${accel}-probe`, accelerator: accel, vcpus: 1, memMiB: 128,
    kernel: o.image.kernel, initramfs: o.image.initramfs, cmdline: 'console=ttyS0 loglevel=7 panic=-1 isolab.probe=1',
    disks: [], serialLog: serial,
  });
  let created = false;
  try {
    await o.conn.createXml(xml);
    created = true;
    reader.start();
    const createdAt = performance.now();
    const deadline = createdAt + timeoutMs;
    let gone = false;
    let nextCheck = createdAt + 500;
    while (!marker && !gone && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
      reader.poll();
      if (!marker && performance.now() >= nextCheck) {
        nextCheck += 500;
        gone = (await o.conn.info(name).catch(() => undefined)) === undefined;
        reader.poll();
      }
    }
    const markerMs = Math.round(performance.now() - createdAt);
    reader.stop();
    await o.conn.destroy(name).catch(() => {});
    const probeMs = Math.round(performance.now() - t0);
    if (marker) return { ok: true, created, reason: 'marker seen', probeMs, markerMs };
    const last = lastLine ? ` (last: ${lastLine.slice(0, 80)})` : ' (no serial output)';
    return {
      ok: false, created, probeMs, stopped: gone,
      reason: gone
        ? `${accel.toUpperCase()} guest stopped before init${last}`
        : `${accel.toUpperCase()} guest printed no init line within ${timeoutMs} ms${last}`,
    };
  } catch (err) {
    reader.stop();
    await o.conn.destroy(name).catch(() => {});
    return { ok: false, created, probeMs: Math.round(performance.now() - t0), reason: `${accel.toUpperCase()} domain failed: ${libvirtMessage(err)}` };
  } finally {
    rmSync(runDir, { recursive: true, force: true });
  }
}
