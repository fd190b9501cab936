import { BOUNDARY_LABELS, byIsolation, isEmulated, KIND_LABELS, type BackendDescriptor } from '../backends/descriptor.js';
import type { BackendInfo, ResultsFile, RowContext } from '../experiments/types.js';

/** The recorded descriptor of a backend in a run, or null when the run has none for it. */
export function descriptorOf(res: ResultsFile, backend: string): BackendDescriptor | null {
  return res.backends.find((b) => b.name === backend)?.descriptor ?? null;
}

/** The accelerator a backend ran with in a run: from its result rows, else its fingerprint, else `none`. */
export function accelOf(res: ResultsFile, backend: string): string {
  return [...res.startup, ...res.density, ...res.throughput].find((r) => r.backend === backend && r.accelerator !== 'unknown')?.accelerator
    ?? res.backends.find((b) => b.name === backend)?.accelerator ?? 'none';
}

/** The label every mention of an emulated accelerator carries, e.g. "TCG: emulated, not virtualised". */
export function emulationLabel(accelerator: string): string {
  return `${accelerator.toUpperCase()}: emulated, not virtualised`;
}

/**
 * How a backend's boundary is implemented, for names and headers: the runtime's detail (gVisor's
 * platform), and the accelerator; an emulated accelerator always reads "TCG: emulated, not virtualised".
 */
export function qualifierOf(d: BackendDescriptor, accelerator: string): string | null {
  const parts: string[] = [];
  if (d.runtime.detail) parts.push(d.runtime.detail);
  if (d.accelerator) {
    const a = accelerator && accelerator !== 'unknown' && accelerator !== 'none' ? accelerator : d.accelerator.value;
    if (a) parts.push(isEmulated(d, a) ? emulationLabel(a) : a.toUpperCase());
  }
  return parts.length > 0 ? parts.join(', ') : null;
}

/** True when this backend ran under an emulated accelerator in this run (a TCG VM). */
export function emulatedIn(res: ResultsFile, backend: string): boolean {
  return isEmulated(descriptorOf(res, backend), accelOf(res, backend));
}

/** How sentences name a backend: "process", "container", "gVisor (ptrace)", "VM (TCG: emulated, not virtualised)"; its name when it has no descriptor. */
export function nounOf(res: ResultsFile, backend: string, accelerator = accelOf(res, backend)): string {
  const d = descriptorOf(res, backend);
  if (!d) return backend;
  const q = qualifierOf(d, accelerator);
  return q ? `${d.noun} (${q})` : d.noun;
}

/** A column header for a backend: "gVisor (sandbox, user-space kernel, ptrace)"; its name when it has no descriptor. */
export function headerOf(res: ResultsFile, backend: string): string {
  const d = descriptorOf(res, backend);
  if (!d) return backend;
  const q = qualifierOf(d, accelOf(res, backend));
  return `${d.displayName} (${KIND_LABELS[d.kind]}, ${BOUNDARY_LABELS[d.boundary]}${q ? `, ${q}` : ''})`;
}

/** A short name for chart panels and legends: display name plus qualifier, e.g. "VM (TCG: emulated, not virtualised)". */
export function shortOf(res: ResultsFile, backend: string): string {
  const d = descriptorOf(res, backend);
  if (!d) return backend;
  const q = qualifierOf(d, accelOf(res, backend));
  return q ? `${d.displayName} (${q})` : d.displayName;
}

/** The run's backends along the isolation spectrum (unknown ones last). */
export function orderedBackends(res: ResultsFile): BackendInfo[] {
  return byIsolation(res.backends, (b) => b.descriptor);
}

/** The backend the summary's ratios are taken against: the baseline one, else the least isolated. */
export function baselineOf(res: ResultsFile): BackendInfo | undefined {
  const bs = orderedBackends(res);
  return bs.find((b) => b.descriptor?.baseline) ?? bs[0];
}

function sortRows<T extends RowContext>(res: ResultsFile, rows: readonly T[]): T[] {
  const order = new Map(orderedBackends(res).map((b, i) => [b.name, i]));
  return rows.map((r, i) => ({ r, i })).sort((a, b) => (order.get(a.r.backend) ?? 1e9) - (order.get(b.r.backend) ?? 1e9) || a.i - b.i).map((x) => x.r);
}

/** A copy of a run whose backends and result rows are in isolation order (each backend's rows keep their own order). */
export function inIsolationOrder(res: ResultsFile): ResultsFile {
  return {
    ...res,
    backends: orderedBackends(res),
    startup: sortRows(res, res.startup),
    density: sortRows(res, res.density),
    throughput: sortRows(res, res.throughput),
  };
}
