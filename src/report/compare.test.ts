import { describe, expect, it } from 'vitest';
import { summarize, type Summary } from '../stats/summary.js';
import { judge, parseThreshold } from './compare.js';
import { intervalOf, overlaps, rangeOf, separation } from './intervals.js';
import type { MetricRow } from './metrics.js';

function row(summary: Summary, unit = 'ms'): MetricRow {
  return {
    experiment: 'startup', backend: 'docker', accelerator: 'none', config: '', metric: 'offerToReady', label: 'offer → ready', unit,
    better: unit === 'MB/s' ? 'higher' : unit === '%' ? 'none' : 'lower', summary, status: 'done',
    limitsRequested: { cpus: 1, mem: 256 }, limitsEnforced: null,
    environment: { hostname: 'h', cpu: 'c', kernel: 'k', node: 'n', commit: null },
  };
}

const opts = { maxRegression: 0.1 };
/** Twelve readings around 100 with a spread of ±6. */
const base = [94, 95, 96, 97, 98, 99, 100, 101, 102, 103, 104, 106];

describe('intervals', () => {
  it('uses the CI (from n = 6), never a small sample\'s range', () => {
    expect(intervalOf(summarize(base))?.kind).toBe('ci');
    expect(intervalOf(summarize([1, 3, 5, 7, 9]))).toBeNull();
    expect(rangeOf(summarize([1, 3, 5, 7, 9]))).toEqual({ low: 1, high: 9, kind: 'range' });
    expect(rangeOf(summarize(base))).toBeNull();
    expect(intervalOf(summarize([5]))).toBeNull();
    expect(intervalOf(undefined)).toBeNull();
  });
  it('overlap is closed at the ends', () => {
    expect(overlaps({ low: 1, high: 2, kind: 'ci' }, { low: 2, high: 3, kind: 'ci' })).toBe(true);
    expect(overlaps({ low: 1, high: 2, kind: 'ci' }, { low: 2.01, high: 3, kind: 'ci' })).toBe(false);
    expect(separation(summarize(base), summarize(base.map((x) => x * 2)))).toBe('apart');
    expect(separation(summarize(base), summarize([7]))).toBe('no-interval');
  });
});

describe('compare verdicts (a regression needs a worse median beyond the threshold AND non-overlapping intervals)', () => {
  it('a 50 % slower start-up with its own spread is a regression', () => {
    const r = judge(row(summarize(base)), row(summarize(base.map((x) => x * 1.5))), opts);
    expect(r.verdict).toBe('regression');
    expect(r.worseBy).toBeCloseTo(0.5, 2);
  });
  it('the same readings shuffled and jittered by ±3 % are unchanged', () => {
    const jitter = base.map((x, i) => x * (1 + ((i % 5) - 2) * 0.015)).reverse();
    expect(judge(row(summarize(base)), row(summarize(jitter)), opts).verdict).toBe('unchanged');
  });
  it('a 15 % worse median inside overlapping intervals is noise, not a regression', () => {
    const wide = [60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160, 170];
    const worse = wide.map((x) => x * 1.15);
    const r = judge(row(summarize(wide)), row(summarize(worse)), opts);
    expect(r.worseBy!).toBeGreaterThan(0.1);
    expect(r.verdict).toBe('worse, within noise');
  });
  it('for rates, lower is worse; a faster run is an improvement', () => {
    expect(judge(row(summarize(base), 'MB/s'), row(summarize(base.map((x) => x / 2)), 'MB/s'), opts).verdict).toBe('regression');
    expect(judge(row(summarize(base)), row(summarize(base.map((x) => x / 2))), opts).verdict).toBe('improvement');
  });
  it('fewer than 6 values cannot be judged; a metric in one run only is missing; host CPU % is never judged', () => {
    expect(judge(row(summarize([100])), row(summarize([200])), opts).verdict).toBe('no interval');
    expect(judge(row(summarize([100, 101, 102, 103, 104])), row(summarize([200, 201, 202, 203, 204])), opts).verdict).toBe('no interval');
    expect(judge(row(summarize(base)), undefined, opts).verdict).toBe('missing');
    expect(judge(row(summarize(base), '%'), row(summarize(base.map((x) => x * 3)), '%'), opts).verdict).toBe('not judged');
  });
  it('the threshold is read as a percentage', () => {
    expect(parseThreshold('10%')).toBeCloseTo(0.1);
    expect(parseThreshold('2.5')).toBeCloseTo(0.025);
    expect(parseThreshold(' 0 % ')).toBe(0);
    expect(parseThreshold('ten')).toBeNull();
    expect(parseThreshold('-5%')).toBeNull();
  });
});
