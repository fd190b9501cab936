import * as si from 'systeminformation';
import type { SamplerCost, UsageSample } from './types.js';

/** Samples host CPU % and memory in use at a fixed rate until stopped. */
export class UsageSampler {
  private readonly samples: UsageSample[] = [];
  private timer?: NodeJS.Timeout;
  private busy = false;
  private t0 = 0;

  constructor(
    /** Samples per second; about 10 by default. */
    readonly hz = 10,
  ) {}

  /** Starts sampling; t = 0 is now. */
  async start(): Promise<void> {
    await si.currentLoad();
    this.t0 = performance.now();
    this.timer = setInterval(() => void this.tick(), 1000 / this.hz);
  }

  /** Stops sampling and returns the samples. */
  stop(): UsageSample[] {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    return this.samples;
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const t = (performance.now() - this.t0) / 1000;
      const [load, mem] = await Promise.all([si.currentLoad(), si.mem()]);
      if (this.timer) {
        this.samples.push({
          t: Math.round(t * 1000) / 1000,
          cpuPct: Math.round(load.currentLoad * 100) / 100,
          memUsedBytes: mem.total - mem.available,
        });
      }
    } catch {
      /* a missed sample is a gap, not a failure */
    } finally {
      this.busy = false;
    }
  }
}

function cpuMs(u: NodeJS.CpuUsage): number {
  return (u.user + u.system) / 1000;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    signal?.throwIfAborted();
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason as Error);
    }, { once: true });
  });

/**
 * Measures what the sampler costs: the lab process's CPU time per second while idle, then while
 * sampling at `hz` with nothing else running; the difference is the sampler's own cost.
 */
export async function measureSamplerCost(hz: number, seconds: number, signal?: AbortSignal): Promise<SamplerCost> {
  const idle0 = process.cpuUsage();
  const i0 = performance.now();
  await sleep(seconds * 1000, signal);
  const idleMs = cpuMs(process.cpuUsage(idle0));
  const idleS = (performance.now() - i0) / 1000;
  const sampler = new UsageSampler(hz);
  const s0 = process.cpuUsage();
  const w0 = performance.now();
  await sampler.start();
  try {
    await sleep(seconds * 1000, signal);
  } finally {
    sampler.stop();
  }
  const sampMs = cpuMs(process.cpuUsage(s0));
  const sampS = (performance.now() - w0) / 1000;
  const taken = sampler.stop();
  const n = taken.length;
  const hostCpu = n > 0 ? taken.reduce((a, x) => a + x.cpuPct, 0) / n : null;
  const sampling = sampMs / sampS;
  const idle = idleMs / idleS;
  return {
    hz, seconds: Math.round(sampS * 1000) / 1000, samples: n, achievedHz: Math.round((n / sampS) * 100) / 100,
    cpuMsPerSecondSampling: Math.round(sampling * 100) / 100, cpuMsPerSecondIdle: Math.round(idle * 100) / 100,
    costPctOfOneCore: Math.round(Math.max(0, sampling - idle) * 10) / 100,
    hostCpuPctNoJob: hostCpu === null ? null : Math.round(hostCpu * 10) / 10,
  };
}
