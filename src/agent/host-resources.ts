import type { Resources } from '../master/resources.js';

/** Memory kept back for the host when detecting an agent's resources (MiB). */
export const MEMORY_RESERVE_MIB = 1024;

/** The host's resources as an agent would advertise them: all cores, memory less a reserve. */
export async function detectHostResources(): Promise<Resources> {
  const si = await import('systeminformation');
  const [cpu, mem] = await Promise.all([si.cpu(), si.mem()]);
  const totalMiB = Math.floor(mem.total / (1024 * 1024));
  const reserve = Math.max(MEMORY_RESERVE_MIB, Math.round(totalMiB * 0.1));
  return { cpus: cpu.cores || 1, mem: Math.max(256, totalMiB - reserve) };
}
