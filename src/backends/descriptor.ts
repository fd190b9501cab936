/**
 * What a backend is, in data: callers ask the descriptor instead of testing a backend's name
 * (Nomad's driver Capabilities). A backend has a static descriptor; `resolveDescriptor` fills in
 * the versions, platform and accelerator its fingerprint found, and that resolved descriptor is
 * what results.json records per backend and the report reads.
 */

/** Where a backend sits on the isolation spectrum, least isolated first. */
export type IsolationKind = 'process' | 'container' | 'sandbox' | 'vm';

/** The isolation kinds in spectrum order. */
export const ISOLATION_KINDS: readonly IsolationKind[] = ['process', 'container', 'sandbox', 'vm'];

/** What stands between the workload and the host: the boundary an escape has to cross. */
export type Boundary = 'host-kernel' | 'user-space-kernel' | 'hypervisor';

/** How a boundary is named in headers and sentences. */
export const BOUNDARY_LABELS: Readonly<Record<Boundary, string>> = {
  'host-kernel': 'host kernel',
  'user-space-kernel': 'user-space kernel',
  hypervisor: 'hypervisor',
};

/** How a kind is named in headers. */
export const KIND_LABELS: Readonly<Record<IsolationKind, string>> = {
  process: 'plain process',
  container: 'container',
  sandbox: 'sandbox',
  vm: 'virtual machine',
};

/** A piece of software a backend runs on: the engine (Docker, libvirt) or the runtime (runc, runsc, QEMU). */
export interface Component {
  /** Name, e.g. `Docker Engine`, `runsc`, `QEMU`. */
  name: string;
  /** Version, once resolved from the fingerprint; null when unknown. */
  version: string | null;
  /** A qualifier of how it runs, e.g. gVisor's platform `ptrace`; null when none or unknown. */
  detail: string | null;
  /** Fingerprint attribute holding the version. */
  versionAttribute?: string;
  /** Fingerprint attribute holding the detail. */
  detailAttribute?: string;
}

/** A backend whose boundary can be hardware-assisted or emulated (a VM's KVM or TCG). */
export interface AcceleratorInfo {
  /** Fingerprint and handle attribute naming the accelerator, e.g. `vm.accelerator`. */
  attribute: string;
  /** Values that mean emulation rather than hardware virtualisation, e.g. `tcg`. */
  emulatedValues: string[];
  /** The accelerator found, once resolved; null when unknown. */
  value: string | null;
  /** True when `value` is one of `emulatedValues`; null when unknown. */
  emulated: boolean | null;
}

/** Which limits a backend can enforce at all (what one task got is in its handle's `limits`). */
export interface LimitCapabilities {
  /** CPU cap. */
  cpus: boolean;
  /** Memory cap. */
  mem: boolean;
  /** Cap on the number of processes/threads. */
  pids: boolean;
  /** By what, e.g. `cgroups (when the host lets isolab write them)`, `Docker HostConfig`, `guest size`. */
  how: string;
}

/** Prior figures the progress estimates start from, corrected as a run goes. */
export interface Priors {
  /** One cold start through the master (s). */
  startupSeconds: number;
  /** One density launch to executor ready (s). */
  launchSeconds: number;
  /** Wordcount speed of one map task (MB/s), everything per byte (read, count, sort, encode, transfer); measured on a 2-core host (TCG for VMs). */
  countMBps: number;
}

/** What a backend is. Every field is data the experiments and the report read; none is a name test. */
export interface BackendDescriptor {
  /** Name on the command line: `process`, `docker`, `gvisor`, `vm`, `docker:crun`. */
  name: string;
  /** Name in headers, e.g. `gVisor`. */
  displayName: string;
  /** Name in sentences, e.g. `container` ("container 305 ms = 1.3× process"). */
  noun: string;
  /** Isolation kind. */
  kind: IsolationKind;
  /** What the workload shares with the host and must cross to reach it. */
  boundary: Boundary;
  /** Sort key along the isolation spectrum: reports list backends by it, least isolated first. */
  isolationOrder: number;
  /** True for the backend the summary's ratios are taken against (the least isolated one). */
  baseline: boolean;
  /** One paragraph in plain words: what this isolation is and what it costs. */
  summary: string;
  /** What an instance shares with the host, in a few words. */
  shares: string;
  /** What the workload can reach of the host (its attack surface), in a few words. */
  attackSurface: string;
  /** The host processes an instance's memory and CPU are counted over. */
  hostProcesses: string;
  /** The engine that creates instances. */
  engine: Component;
  /** The runtime the instance runs in. */
  runtime: Component;
  /** The accelerator, for backends that have one (VMs: kvm or tcg); null otherwise. */
  accelerator: AcceleratorInfo | null;
  /** Limits it can enforce. */
  limits: LimitCapabilities;
  /** Task timeouts are this many times `TIMEOUT_UNIT` (slow backends get longer). */
  timeoutScale: number;
  /** Prior estimates for progress lines. */
  priors: Priors;
  /** Default density steps of K, or null for the run's general steps. */
  densitySteps: number[] | null;
}

/** Copies a descriptor with its versions, details and accelerator read from fingerprint attributes. */
export function resolveDescriptor(d: BackendDescriptor, attributes: Record<string, string>): BackendDescriptor {
  const comp = (c: Component): Component => ({
    ...c,
    version: (c.versionAttribute && attributes[c.versionAttribute]) || c.version,
    detail: (c.detailAttribute && attributes[c.detailAttribute]) || c.detail,
  });
  const a = d.accelerator;
  const value = a ? attributes[a.attribute] || a.value : null;
  return {
    ...d,
    engine: comp(d.engine),
    runtime: comp(d.runtime),
    limits: { ...d.limits },
    priors: { ...d.priors },
    densitySteps: d.densitySteps ? [...d.densitySteps] : null,
    accelerator: a ? { ...a, emulatedValues: [...a.emulatedValues], value, emulated: value ? a.emulatedValues.includes(value) : null } : null,
  };
}

/** The accelerator a descriptor's backend used, from instance or fingerprint attributes: its value, `unknown`, or `none` when it has none. */
export function acceleratorOf(d: BackendDescriptor | null, attributes: Record<string, string>): string {
  if (!d?.accelerator) {
    const key = Object.keys(attributes).find((k) => k.endsWith('.accelerator'));
    return key ? attributes[key]! : d ? 'none' : 'unknown';
  }
  return attributes[d.accelerator.attribute] || d.accelerator.value || 'unknown';
}

/** True when that accelerator value means emulation for this backend (a TCG VM). */
export function isEmulated(d: BackendDescriptor | null, accelerator: string): boolean {
  return Boolean(d?.accelerator?.emulatedValues.includes(accelerator));
}

/**
 * The qualifier of how the boundary is implemented, for headers: the runtime's detail (gVisor's
 * platform), the accelerator (`tcg, emulated`), or none.
 */
export function qualifier(d: BackendDescriptor, accelerator?: string): string | null {
  const parts: string[] = [];
  if (d.runtime.detail) parts.push(d.runtime.detail);
  if (d.accelerator) {
    const a = accelerator && accelerator !== 'unknown' && accelerator !== 'none' ? accelerator : d.accelerator.value;
    if (a) parts.push(isEmulated(d, a) ? `${a}, emulated` : a);
  }
  return parts.length > 0 ? parts.join(', ') : null;
}

/** A column header: display name, kind, boundary and qualifier, e.g. "gVisor (sandbox, user-space kernel, ptrace)". */
export function columnLabel(d: BackendDescriptor, accelerator?: string): string {
  const q = qualifier(d, accelerator);
  return `${d.displayName} (${KIND_LABELS[d.kind]}, ${BOUNDARY_LABELS[d.boundary]}${q ? `, ${q}` : ''})`;
}

/** The name in sentences, with the qualifier: "container", "VM (tcg, emulated)", "gVisor (ptrace)". */
export function sentenceNoun(d: BackendDescriptor, accelerator?: string): string {
  const q = qualifier(d, accelerator);
  return q ? `${d.noun} (${q})` : d.noun;
}

/** Sorts anything with a descriptor (or none: last, by name) along the isolation spectrum, stable. */
export function byIsolation<T>(items: readonly T[], descriptorOf: (t: T) => BackendDescriptor | null | undefined): T[] {
  const key = (t: T): number => descriptorOf(t)?.isolationOrder ?? Number.MAX_SAFE_INTEGER;
  return items.map((t, i) => ({ t, i })).sort((a, b) => key(a.t) - key(b.t) || a.i - b.i).map((x) => x.t);
}

/** The base task timeout (ms) and its per-MB part, both multiplied by a descriptor's `timeoutScale`. */
export const TIMEOUT_UNIT = { baseMs: 60_000, perMBms: 4_000 } as const;

/** Kill a task on this backend after this long (ms): the unit scaled, plus its share per input MB. */
export function taskTimeoutMs(d: BackendDescriptor | null, inputBytes = 0): number {
  const scale = d?.timeoutScale ?? 2;
  return Math.round(scale * (TIMEOUT_UNIT.baseMs + (inputBytes / 1e6) * TIMEOUT_UNIT.perMBms));
}

/** How long to wait for one instance's executor to be ready while `concurrent` start at once (ms). */
export function readyTimeoutMs(d: BackendDescriptor | null, concurrent: number): number {
  const scale = d?.timeoutScale ?? 2;
  return Math.round(scale * (36_000 + 9_000 * concurrent));
}
