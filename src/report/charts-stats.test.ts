import { describe, expect, it } from 'vitest';
import { distributionChart, facetStackChart, intervalChart, panelLineChart, spansDecade, spreadChart } from './charts-stats.js';

const runs = [
  ...[90, 95, 97, 99, 101, 104].map((value) => ({ group: 'process, n=6', value })),
  ...[6800, 7000, 7100, 7300].map((value) => ({ group: 'VM (TCG: emulated, not virtualised), n=4', value })),
];

function svg(text: string, ...parts: string[]): void {
  expect(text.startsWith('<svg')).toBe(true);
  for (const p of parts) expect(text).toContain(p);
}

describe('statistical charts', () => {
  it('decides a log axis when positive values span more than 10×', () => {
    expect(spansDecade([90, 7300])).toBe(true);
    expect(spansDecade([90, 800])).toBe(false);
    expect(spansDecade([-1, 90, 7300])).toBe(false);
    expect(spansDecade([5])).toBe(false);
  });

  it('draws a box plot with every value, on a log axis for a 70× spread, with full labels', async () => {
    const out = await distributionChart({ title: 'Start-up (ms, log scale; n = 6/4)', data: runs, valueTitle: 'ms (log scale)' });
    svg(out, 'Start-up (ms, log scale; n = 6/4)', 'VM (TCG: emulated, not virtualised), n=4', 'ms (log scale)');
    expect(out).not.toContain('…');
    expect(await distributionChart({ title: 'Start-up (ms, log scale; n = 6/4)', data: runs, valueTitle: 'ms (log scale)' })).toBe(out);
    await expect(distributionChart({ title: 't', data: [{ group: 'a', value: 0 }, { group: 'b', value: 100 }], valueTitle: 'x', log: true })).rejects.toThrow(RangeError);
    await expect(distributionChart({ title: 't', data: [{ group: 'a', value: Number.NaN }], valueTitle: 'x' })).rejects.toThrow(RangeError);
  });

  it('draws medians with intervals at a discrete P, one panel per backend, and every job', async () => {
    const out = await intervalChart({
      title: 'Job time (s; n = 6)', xTitle: 'parallelism', yTitle: 'job time (s)',
      data: [{ facet: 'process', x: 'P=1', median: 3.5, low: 3.3, high: 3.8 }, { facet: 'process', x: 'P=2', median: 2.2, low: 2.0, high: 2.5 }],
      points: [3.3, 3.5, 3.8].map((value) => ({ facet: 'process', x: 'P=1', value })),
    });
    svg(out, 'Job time (s; n = 6)', 'P=1', 'P=2', 'parallelism');
  });

  it('draws stacked phases per backend, each panel on its own scale', async () => {
    const out = await facetStackChart({
      title: 'Phases (ms; n = 20)', valueTitle: 'ms',
      data: [{ facet: 'process', series: 'boot', value: 90 }, { facet: 'VM', series: 'boot', value: 6400 }, { facet: 'VM', series: 'teardown', value: 1500 }],
    });
    svg(out, 'Phases (ms; n = 20)', 'teardown', 'VM', 'process');
  });

  it('draws a spread with negative values and a zero rule rather than dropping them', async () => {
    const out = await spreadChart({
      title: 'Drop (MiB; n = 3)', xTitle: 'K', yTitle: 'MiB', zeroRule: true, logX: true,
      points: [{ facet: 'docker', x: 2, y: -1.5 }, { facet: 'docker', x: 2, y: 30 }, { facet: 'docker', x: 4, y: 26 }],
      medians: [{ facet: 'docker', x: 2, y: 28 }, { facet: 'docker', x: 4, y: 26 }],
    });
    svg(out, 'Drop (MiB; n = 3)', 'docker');
    expect(out).toMatch(/>−?-?[0-9]+</);
  });

  it('draws timelines with a point per reading, one panel per quantity', async () => {
    const out = await panelLineChart({
      title: 'Per task (% of one core, MiB; n = 4)',
      data: [0, 0.5].flatMap((t) => [{ panel: 'CPU (%)', series: 'P=1, task 1', t, value: 95 }, { panel: 'memory (MiB)', series: 'P=1, task 1', t, value: 40 + t }]),
    });
    svg(out, 'CPU (%)', 'memory (MiB)', 'P=1, task 1', 'time (s)');
  });
});
