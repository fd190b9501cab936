import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** Default chart width in pixels (the plot area; axes and legend add to it). */
export const CHART_WIDTH = 640;

/** Default chart height in pixels (the plot area; axes and legend add to it). */
export const CHART_HEIGHT = 320;

/** Size options every chart takes. */
export interface ChartSize {
  /** Plot width in pixels; default `CHART_WIDTH`. */
  width?: number;
  /** Plot height in pixels; default `CHART_HEIGHT`. */
  height?: number;
}

/** One bar, or one segment of a stacked bar. */
export interface BarDatum {
  /** Category on the x axis, e.g. a backend ("process", "docker", "vm"). */
  category: string;
  /** Series within a category, e.g. a start-up phase; bars without one form a single series. */
  series?: string;
  /** Bar (or segment) height; values repeated for one category and series are summed. */
  value: number;
}

/** Options of `barChart`. */
export interface BarChartOptions extends ChartSize {
  /** Chart title. */
  title: string;
  /** Bars; categories and series keep the order of their first appearance. */
  data: readonly BarDatum[];
  /** Title of the x (category) axis. */
  xTitle: string;
  /** Title of the y (value) axis. */
  yTitle: string;
  /** Stack the series of a category into one bar (default false: side by side). */
  stacked?: boolean;
}

/** One point of a line. */
export interface LineDatum {
  /** Position on the x axis, e.g. number of instances or parallelism. */
  x: number;
  /** Position on the y axis, e.g. memory or throughput. */
  y: number;
  /** The line it belongs to, e.g. a backend. */
  series: string;
}

/** Options of `lineChart`. */
export interface LineChartOptions extends ChartSize {
  /** Chart title. */
  title: string;
  /** Points; series keep the order of their first appearance, points are joined in x order. */
  data: readonly LineDatum[];
  /** Title of the x axis. */
  xTitle: string;
  /** Title of the y axis. */
  yTitle: string;
  /** Logarithmic y axis (default false); every y must then be > 0. */
  logY?: boolean;
}

/** One sample of a time series. */
export interface TimelineDatum {
  /** Time, in seconds from the start of the measurement. */
  t: number;
  /** Sampled value, e.g. CPU % or resident memory. */
  value: number;
  /** The series it belongs to, e.g. "docker CPU %". */
  series: string;
}

/** Options of `timelineChart`. */
export interface TimelineChartOptions extends ChartSize {
  /** Chart title. */
  title: string;
  /** Samples; series keep the order of their first appearance. */
  data: readonly TimelineDatum[];
  /** Title of the y axis; when split, of every panel (each panel is also headed by its series). */
  yTitle: string;
  /** Title of the x axis; default "time (s)". */
  xTitle?: string;
  /**
   * One panel per series, stacked vertically with a shared time axis and each its own y scale
   * (default false: one panel, one line per series). For series in different units, like CPU %
   * and memory; `height` is then the height of each panel.
   */
  split?: boolean;
}

/** Shared look: white background, readable sans-serif text, no interactivity. */
const CONFIG = {
  background: 'white',
  font: 'DejaVu Sans, Helvetica, Arial, sans-serif',
  padding: 8,
  title: { fontSize: 16, anchor: 'start', offset: 12 },
  axis: { labelFontSize: 12, titleFontSize: 13, titlePadding: 8, labelLimit: 200 },
  legend: { labelFontSize: 12, titleFontSize: 13, labelLimit: 240 },
  header: { labelFontSize: 13, titleFontSize: 13 },
  view: { stroke: '#ddd' },
  line: { strokeWidth: 2 },
  point: { size: 40, filled: true },
} as const;

/** The distinct values of `xs`, in order of first appearance. */
function uniq(xs: readonly string[]): string[] {
  return [...new Set(xs)];
}

/** Throws unless every value is finite: a NaN would silently vanish from a chart. */
function assertFinite(values: readonly number[], what: string): void {
  const bad = values.find((v) => !Number.isFinite(v));
  if (bad !== undefined) throw new RangeError(`${what}: ${bad} is not a finite number`);
}

/**
 * Compiles a Vega-Lite spec and renders it to SVG text headless, in Node: Vega's scenegraph with
 * `renderer: 'none'`, then its SVG string renderer, so no canvas, DOM or browser is involved.
 * Text is measured by Vega's width estimate, so the output depends only on the spec.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const { spec: vgSpec } = compile(spec);
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none', logLevel: vega.Error });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * A bar chart: one bar per category, per series either side by side or stacked (e.g. start-up
 * phases per backend, stacked by phase). Resolves to SVG text;
 * rejects with a RangeError on a non-finite number.
 */
export async function barChart(opts: BarChartOptions): Promise<string> {
  const { title, data, xTitle, yTitle, stacked = false } = opts;
  assertFinite(data.map((d) => d.value), 'barChart value');
  const hasSeries = data.some((d) => d.series !== undefined);
  const categories = uniq(data.map((d) => d.category));
  const series = uniq(data.map((d) => d.series ?? ''));
  const values = data.map((d) => ({
    category: d.category,
    series: d.series ?? '',
    value: d.value,
    order: series.indexOf(d.series ?? ''),
  }));
  return renderSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: opts.width ?? CHART_WIDTH,
    height: opts.height ?? CHART_HEIGHT,
    config: CONFIG,
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      x: {
        field: 'category',
        type: 'nominal',
        title: xTitle,
        sort: categories,
        scale: { domain: categories, paddingInner: 0.2 },
        axis: { labelAngle: 0 },
      },
      y: {
        field: 'value',
        type: 'quantitative',
        aggregate: 'sum',
        title: yTitle,
        stack: stacked ? 'zero' : null,
      },
      ...(hasSeries
        ? {
            color: { field: 'series', type: 'nominal', title: null, scale: { domain: series } },
            order: { field: 'order', type: 'quantitative' },
          }
        : {}),
      ...(hasSeries && !stacked
        ? { xOffset: { field: 'series', type: 'nominal', scale: { domain: series } } }
        : {}),
    },
  });
}

/**
 * A line chart with points, one line per series (e.g. memory vs instances, throughput vs
 * parallelism, per backend), optionally with a logarithmic y axis. Resolves to SVG text;
 * rejects with a RangeError on a non-finite number, or on y ≤ 0 with `logY`.
 */
export async function lineChart(opts: LineChartOptions): Promise<string> {
  const { title, data, xTitle, yTitle, logY = false } = opts;
  assertFinite(data.flatMap((d) => [d.x, d.y]), 'lineChart point');
  if (logY && data.some((d) => d.y <= 0)) throw new RangeError('lineChart: logY needs every y > 0');
  const series = uniq(data.map((d) => d.series));
  return renderSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: opts.width ?? CHART_WIDTH,
    height: opts.height ?? CHART_HEIGHT,
    config: CONFIG,
    data: { values: data.map((d) => ({ x: d.x, y: d.y, series: d.series })) },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: xTitle, scale: { zero: false } },
      y: {
        field: 'y',
        type: 'quantitative',
        title: yTitle,
        scale: logY ? { type: 'log' } : { zero: true },
      },
      color: { field: 'series', type: 'nominal', title: null, scale: { domain: series } },
      order: { field: 'x', type: 'quantitative' },
    },
  });
}

/**
 * A time-series chart (e.g. CPU % and memory over a run): one line per series in one panel, or
 * with `split` one panel per series sharing the time axis. Resolves to SVG text;
 * rejects with a RangeError on a non-finite number.
 */
export async function timelineChart(opts: TimelineChartOptions): Promise<string> {
  const { title, data, yTitle, xTitle = 'time (s)', split = false } = opts;
  assertFinite(data.flatMap((d) => [d.t, d.value]), 'timelineChart sample');
  const series = uniq(data.map((d) => d.series));
  const width = opts.width ?? CHART_WIDTH;
  const height = opts.height ?? (split ? Math.round(CHART_HEIGHT / 2) : CHART_HEIGHT);
  const values = data.map((d) => ({ t: d.t, value: d.value, series: d.series }));
  const x = { field: 't', type: 'quantitative', title: xTitle, scale: { zero: false } } as const;
  const y = { field: 'value', type: 'quantitative', title: yTitle } as const;
  const color = { field: 'series', type: 'nominal', title: null, scale: { domain: series } } as const;
  const order = { field: 't', type: 'quantitative' } as const;
  if (split) {
    return renderSvg({
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title,
      config: CONFIG,
      data: { values },
      facet: {
        row: {
          field: 'series',
          type: 'nominal',
          title: null,
          sort: series,
          header: { labelOrient: 'top', labelAngle: 0, labelAnchor: 'start', labelFontWeight: 'bold' },
        },
      },
      spec: {
        width,
        height,
        mark: { type: 'line', interpolate: 'linear' },
        encoding: { x, y, color: { ...color, legend: null }, order },
      },
      resolve: { scale: { y: 'independent' } },
    });
  }
  return renderSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width,
    height,
    config: CONFIG,
    data: { values },
    mark: { type: 'line', interpolate: 'linear' },
    encoding: { x, y, color, order },
  });
}
