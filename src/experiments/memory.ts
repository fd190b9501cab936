import { readFile } from 'node:fs/promises';
import * as si from 'systeminformation';

/** PSS (bytes) of one process from /proc/<pid>/smaps_rollup, or null when it is gone or unreadable. */
export async function pssOf(pid: number): Promise<number | null> {
  try {
    const text = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
    const m = /^Pss:\s+(\d+)\s+kB/m.exec(text);
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * PSS summed over every host process of an instance (the executor; for a container its processes
 * and its containerd-shim; for a VM its qemu), or null when none could be read.
 */
export async function instancePss(pids: readonly number[]): Promise<number | null> {
  const values = await Promise.all([...new Set(pids)].map((p) => pssOf(p)));
  const known = values.filter((v): v is number => v !== null);
  return known.length === 0 ? null : known.reduce((a, b) => a + b, 0);
}

/** Host available memory (bytes), as systeminformation reads MemAvailable. */
export async function availableMemory(): Promise<number> {
  return (await si.mem()).available;
}

/** Median of `n` reads of host available memory, `gapMs` apart: one read is too noisy. */
export async function steadyAvailableMemory(n = 3, gapMs = 100): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, gapMs));
    xs.push(await availableMemory());
  }
  xs.sort((a, b) => a - b);
  return xs[Math.floor(xs.length / 2)]!;
}
