import { availableParallelism, totalmem } from 'node:os';
import type { Resources } from '../master/resources.js';

/** Memory kept back for the host when detecting an agent's resources (MiB). */
export const MEMORY_RESERVE_MIB = 1024;

/**
 * The host's resources as an agent would advertise them: all logical CPUs this process may use,
 * memory less a reserve. Read from the kernel through node:os (sched_getaffinity, /proc/meminfo's
 * MemTotal): the same figures systeminformation's cpu().cores and mem().total give, without the
 * helper processes it starts (about 0.3 s per CLI call).
 */
export async function detectHostResources(): Promise<Resources> {
  const totalMiB = Math.floor(totalmem() / (1024 * 1024));
  const reserve = Math.max(MEMORY_RESERVE_MIB, Math.round(totalMiB * 0.1));
  return { cpus: availableParallelism() || 1, mem: Math.max(256, totalMiB - reserve) };
}
