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

/** Mesos' smallest offerable amounts: an agent with less free than this on every resource is not offered. */
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
