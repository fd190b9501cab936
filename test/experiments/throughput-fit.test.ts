import { describe, expect, it } from 'vitest';
import { sizesFromCalibration } from '../../src/experiments/runner.js';
import { computeSpeedups, fitBackend, summarizeThroughput, throughputConfigs } from '../../src/experiments/throughput.js';
import { makeSettings } from '../../src/experiments/settings.js';
import type { ThroughputResult, ThroughputRun } from '../../src/experiments/types.js';

function result(parallelism: number, bytes: number, seconds: number[]): ThroughputResult {
  const runs: ThroughputRun[] = seconds.map((s, i) => ({
    index: i + 1, bytes, ok: true, jobSeconds: s, startupSeconds: 0.3, steadySeconds: s - 0.3, allReadySeconds: 0.3, mbPerSecond: bytes / 1e6 / s,
    words: 1, sha256: 'x', attempts: parallelism, countMs: 1, timeline: [],
  }));
  const r = {
    backend: 'process', accelerator: 'none', limitsRequested: { cpus: 1, mem: 512 }, limitsEnforced: null,
    environment: { hostname: 'h', cpu: 'c', kernel: 'k', node: 'n', commit: null }, status: 'done', parallelism, bytes, input: 'x', runs,
    summary: undefined as never, meanCpuPct: null, peakMemUsedBytes: null,
  } as ThroughputResult;
  summarizeThroughput(r);
  return r;
}

describe('the fixed-cost fit over P=1 jobs', () => {
  it('recovers a = 0.5 s and 1/b = 100 MB/s from exact points, and says so with its intervals', () => {
    const rows = [result(1, 100e6, [1.5, 1.5, 1.5, 1.5, 1.5]), result(1, 400e6, [4.5, 4.5, 4.5, 4.5, 4.5])];
    rows[0]!.runs[0]!.jobSeconds = 1.49;
    rows[1]!.runs[0]!.jobSeconds = 4.51;
    const f = fitBackend('process', 'none', rows);
    expect(f.sizes).toEqual([100e6, 400e6]);
    expect(f.points).toHaveLength(10);
    expect(f.fixedSeconds!).toBeCloseTo(0.5, 2);
    expect(f.mbPerSecond!).toBeCloseTo(100, 0);
    expect(f.fixedInterval!.low).toBeLessThan(0.5);
    expect(f.fixedInterval!.high).toBeGreaterThan(0.5);
    expect(f.mbPerSecondInterval!.low).toBeLessThan(100.5);
    expect(f.mbPerSecondInterval!.high).toBeGreaterThan(99.5);
    expect(f.bootstrap).not.toBeNull();
  });
  it('says why there is no fit with one size', () => {
    expect(fitBackend('process', 'none', [result(1, 100e6, [1, 1.1, 1.2])]).note).toMatch(/2 or more input sizes/);
  });
});

describe('speed-ups', () => {
  it('are measurable only when the P=1 and P=2 intervals (n ≥ 6) do not overlap', () => {
    const p1 = result(1, 400e6, [4.0, 4.1, 4.2, 4.05, 4.15, 4.1]);
    const p2 = result(2, 400e6, [2.3, 2.4, 2.35, 2.45, 2.4, 2.38]);
    const p4 = result(4, 400e6, [3.9, 4.3, 4.0, 4.2, 4.1, 4.4]);
    const other = result(2, 100e6, [1, 1, 1, 1, 1, 1]);
    computeSpeedups([p1, p2, p4, other]);
    expect(p2.speedup!.measurable).toBe(true);
    expect(p2.speedup!.ratio!).toBeCloseTo(4.1 / 2.39, 2);
    expect(p2.speedup!.interval!.low).toBeCloseTo(4.0 / 2.45, 6);
    expect(p4.speedup).toMatchObject({ measurable: false, why: 'intervals overlap' });
    expect(other.speedup).toBeNull();
    expect(p1.speedup).toBeNull();
  });
  it('has no interval below 6 jobs', () => {
    const p1 = result(1, 1e6, [4, 4, 4, 4, 4]);
    const p2 = result(2, 1e6, [2, 2, 2, 2, 2]);
    computeSpeedups([p1, p2]);
    expect(p2.speedup).toMatchObject({ measurable: false, interval: null });
  });
});

describe('sizes and configurations', () => {
  it('picks the two fit sizes from a calibration job so P=1 jobs last ~2.5 and ~5 s, capped', () => {
    expect(sizesFromCalibration({ bytes: 180e6, jobSeconds: 2, startupSeconds: 0.5, mbPerSecond: 100 })).toEqual([200e6, 450e6]);
    expect(sizesFromCalibration({ bytes: 180e6, jobSeconds: 1, startupSeconds: 0.5, mbPerSecond: 1000 })).toEqual([1.2e9, 1.2e9]);
  });
  it('runs P=1 at every fit size and the other parallelisms at the common (larger) size', () => {
    const s = makeSettings({ experiments: ['throughput'], backends: ['process'], memBudgetBytes: 1, parallelism: [1, 2, 4] });
    s.throughputSizesByBackend = { process: [2e6, 6e6] };
    s.throughputParallelBytes = { process: 6e6 };
    expect(throughputConfigs(s, 'process')).toEqual([
      { parallelism: 1, bytes: 2e6, role: 'fit' }, { parallelism: 1, bytes: 6e6, role: 'both' },
      { parallelism: 2, bytes: 6e6, role: 'parallel' }, { parallelism: 4, bytes: 6e6, role: 'parallel' },
    ]);
  });
});
