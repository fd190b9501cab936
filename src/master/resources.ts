/** Scalar resources as Mesos names them: `cpus` (cores, fractional) and `mem` (MiB). */
export interface Resources {
  /** CPU cores; fractions allowed, kept to 3 decimals like Mesos. */
  cpus: number;
  /** Memory in MiB. */
  mem: number;
}

/** The empty resource set. */
export const NONE: Readonly<Resources> = Object.freeze({ cpus: 0, mem: 0 });

const round = (x: number): number => Math.round(x * 1000) / 1000;

/** a + b. */
export function add(a: Resources, b: Resources): Resources {
  return { cpus: round(a.cpus + b.cpus), mem: round(a.mem + b.mem) };
}

/** a - b, never below zero. */
export function subtract(a: Resources, b: Resources): Resources {
  return { cpus: Math.max(0, round(a.cpus - b.cpus)), mem: Math.max(0, round(a.mem - b.mem)) };
}

/** True when every resource of `inner` fits in `outer`. */
export function contains(outer: Resources, inner: Resources): boolean {
  return inner.cpus <= outer.cpus + 1e-9 && inner.mem <= outer.mem + 1e-9;
}

/** Mesos' smallest offerable amounts by default: less free than this on every resource is not offered. */
export function isAllocatable(r: Resources): boolean {
  return r.cpus >= 0.01 || r.mem >= 32;
}

/** Parses Mesos' `cpus:2;mem:4096` syntax; throws an Error naming the bad part. */
export function parseResources(text: string): Resources {
  const out: Resources = { cpus: 0, mem: 0 };
  const seen = new Set<string>();
  const parts = text.split(';').map((p) => p.trim()).filter(Boolean);
  if (parts.length === 0) throw new Error(`empty resources "${text}"`);
  for (const part of parts) {
    const m = /^([a-z_]+)\s*:\s*([0-9]*\.?[0-9]+)$/.exec(part);
    if (!m) throw new Error(`bad resource "${part}" (expected name:value, e.g. cpus:2;mem:4096)`);
    const name = m[1]!;
    if (name !== 'cpus' && name !== 'mem') throw new Error(`unknown resource "${name}" (known: cpus, mem)`);
    if (seen.has(name)) throw new Error(`resource "${name}" given twice`);
    seen.add(name);
    out[name] = round(Number(m[2]));
  }
  return out;
}

/** Formats resources in Mesos' syntax. */
export function formatResources(r: Resources): string {
  return `cpus:${r.cpus};mem:${r.mem}`;
}

/**
 * Mesos' `min_allocatable_resources`: a list of alternatives, each a set of quantities; resources are
 * allocatable when they contain every quantity of at least one alternative. Resources a quantity
 * does not name count as 0 (so `{cpus: 0.01, mem: 0}` means "at least 0.01 CPUs").
 */
export type MinAllocatable = readonly Resources[];

/** Mesos' default `--min_allocatable_resources=cpus:0.01|mem:32`. */
export const DEFAULT_MIN_ALLOCATABLE: MinAllocatable = Object.freeze([
  Object.freeze({ cpus: 0.01, mem: 0 }),
  Object.freeze({ cpus: 0, mem: 32 }),
]);

/** True when `r` contains at least one alternative of `min` (an empty list allows anything non-empty). */
export function meetsMinimum(r: Resources, min: MinAllocatable): boolean {
  if (!(r.cpus > 0 || r.mem > 0)) return false;
  if (min.length === 0) return true;
  for (const q of min) if (r.cpus + 1e-9 >= q.cpus && r.mem + 1e-9 >= q.mem) return true;
  return false;
}

/** Parses Mesos' flag syntax `cpus:0.01|mem:32` (alternatives separated by `|`, each in parseResources syntax). */
export function parseMinAllocatable(text: string): MinAllocatable {
  const alternatives = text.split('|').map((p) => p.trim());
  if (alternatives.some((p) => p === '')) throw new Error(`empty alternative in "${text}" (expected e.g. cpus:0.01|mem:32)`);
  return alternatives.map((p) => parseResources(p));
}

/** Formats a MinAllocatable in Mesos' flag syntax, naming only the non-zero quantities. */
export function formatMinAllocatable(min: MinAllocatable): string {
  return min
    .map((q) => [q.cpus > 0 ? `cpus:${q.cpus}` : '', q.mem > 0 ? `mem:${q.mem}` : ''].filter(Boolean).join(';') || 'cpus:0')
    .join('|');
}

/** Why `r` is not a valid task resource set (every value finite and >= 0, some value > 0), or undefined when it is. */
export function invalidResources(r: unknown): string | undefined {
  if (typeof r !== 'object' || r === null) return 'resources missing';
  const o = r as Record<string, unknown>;
  for (const k in o) if (k !== 'cpus' && k !== 'mem' && Object.hasOwn(o, k)) return `unknown resource "${k.slice(0, 32)}"`;
  for (const k of ['cpus', 'mem'] as const) {
    const v = o[k];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v)) return `${k} is not a finite number`;
    if (v < 0) return `${k} is negative (${v})`;
  }
  const cpus = (o.cpus as number | undefined) ?? 0;
  const mem = (o.mem as number | undefined) ?? 0;
  if (!(cpus > 0 || mem > 0)) return 'resources are empty (no cpus and no mem)';
  return undefined;
}
