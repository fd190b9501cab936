import { describe, expect, it } from 'vitest';
import { barChart, lineChart, timelineChart, type BarChartOptions } from './charts.js';

const phases: BarChartOptions = {
  title: 'Start-up phases per backend',
  xTitle: 'backend',
  yTitle: 'time (ms)',
  stacked: true,
  data: [
    { category: 'process', series: 'spawn', value: 2 },
    { category: 'process', series: 'ready', value: 8 },
    { category: 'docker', series: 'create', value: 120 },
    { category: 'docker', series: 'spawn', value: 300 },
    { category: 'vm', series: 'create', value: 400 },
    { category: 'vm', series: 'boot', value: 2500 },
  ],
};

const memory = [1, 2, 4, 8].flatMap((n) => [
  { x: n, y: 5 * n, series: 'process' },
  { x: n, y: 20 + 8 * n, series: 'docker' },
  { x: n, y: 300 * n, series: 'vm' },
]);

const usage = Array.from({ length: 20 }, (_, i) => [
  { t: i * 0.5, value: 50 + 40 * Math.sin(i / 3), series: 'CPU %' },
  { t: i * 0.5, value: 100 + 3 * i, series: 'RSS (MiB)' },
]).flat();

function expectSvg(svg: string, ...texts: string[]): void {
  expect(svg.startsWith('<svg')).toBe(true);
  expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
  for (const t of texts) expect(svg).toContain(t);
}

describe('barChart', () => {
  it('renders a stacked bar chart with title, axes and legend', async () => {
    const svg = await barChart(phases);
    expectSvg(svg, 'Start-up phases per backend', 'time (ms)', 'backend', 'process', 'docker', 'vm', 'boot');
  });
  it('renders grouped and single-series bars', async () => {
    expectSvg(await barChart({ ...phases, title: 'Grouped', stacked: false }), 'Grouped', 'spawn');
    const single = await barChart({
      title: 'Single',
      xTitle: 'backend',
      yTitle: 'ms',
      data: [
        { category: 'process', value: 2 },
        { category: 'vm', value: 30 },
      ],
    });
    expectSvg(single, 'Single', 'process', 'vm');
  });
  it('is deterministic', async () => {
    const a = await barChart(phases);
    await lineChart({ title: 'in between', data: memory, xTitle: 'x', yTitle: 'y' });
    expect(await barChart(phases)).toBe(a);
  });
  it('renders an empty chart rather than failing', async () => {
    expectSvg(await barChart({ ...phases, title: 'Nothing yet', data: [] }), 'Nothing yet');
  });
  it('rejects non-finite values', async () => {
    await expect(barChart({ ...phases, data: [{ category: 'vm', value: Number.NaN }] })).rejects.toThrow(RangeError);
  });
});

describe('lineChart', () => {
  it('renders lines per series, linear and log', async () => {
    const lin = await lineChart({ title: 'Memory vs instances', data: memory, xTitle: 'instances', yTitle: 'memory (MiB)' });
    expectSvg(lin, 'Memory vs instances', 'instances', 'memory (MiB)', 'docker');
    const log = await lineChart({
      title: 'Memory vs instances (log)',
      data: memory,
      xTitle: 'instances',
      yTitle: 'memory (MiB)',
      logY: true,
    });
    expectSvg(log, 'Memory vs instances (log)');
    expect(log).not.toBe(lin.replace('Memory vs instances', 'Memory vs instances (log)'));
  });
  it('is deterministic', async () => {
    const opts = { title: 'Throughput vs parallelism', data: memory, xTitle: 'parallelism', yTitle: 'req/s' };
    expect(await lineChart(opts)).toBe(await lineChart(opts));
  });
  it('rejects y <= 0 on a log axis', async () => {
    await expect(
      lineChart({ title: 't', data: [{ x: 1, y: 0, series: 's' }], xTitle: 'x', yTitle: 'y', logY: true }),
    ).rejects.toThrow(RangeError);
  });
});

describe('timelineChart', () => {
  it('renders one panel or one panel per series', async () => {
    expectSvg(await timelineChart({ title: 'CPU over time', data: usage, yTitle: 'value' }), 'CPU over time', 'time (s)');
    const split = await timelineChart({ title: 'CPU and memory', data: usage, yTitle: 'value', split: true });
    expectSvg(split, 'CPU and memory', 'CPU %', 'RSS (MiB)', 'time (s)');
  });
  it('is deterministic', async () => {
    const opts = { title: 'Usage', data: usage, yTitle: 'value', split: true };
    expect(await timelineChart(opts)).toBe(await timelineChart(opts));
  });
  it('escapes text in the SVG', async () => {
    const svg = await timelineChart({ title: 'CPU & memory <vm>', data: usage, yTitle: 'v' });
    expect(svg).toContain('CPU &amp; memory &lt;vm&gt;');
  });
});
