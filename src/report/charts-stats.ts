import type { TopLevelSpec } from 'vega-lite';
import { CHART_WIDTH, renderSvg } from './charts.js';

/** Shared look of the statistical charts (as `charts.ts`). */
const CONFIG = {
  background: 'white',
  font: 'DejaVu Sans, Helvetica, Arial, sans-serif',
  padding: 8,
  title: { fontSize: 16, anchor: 'start', offset: 12, subtitleFontSize: 12, subtitleColor: '#555' },
  axis: { labelFontSize: 12, titleFontSize: 13, titlePadding: 8, labelLimit: 420 },
  legend: { labelFontSize: 12, titleFontSize: 13, labelLimit: 260, orient: 'bottom', columns: 4 },
  header: { labelFontSize: 13, titleFontSize: 13, labelFontWeight: 'bold' },
  view: { stroke: '#ddd' },
  point: { size: 40, filled: true },
} as const;

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** Throws unless every value is finite: a NaN would silently vanish from a chart. */
function assertFinite(values: readonly number[], what: string): void {
  const bad = values.find((v) => !Number.isFinite(v));
  if (bad !== undefined) throw new RangeError(`${what}: ${bad} is not a finite number`);
}

/** True when positive values span more than 10× (a linear axis would squash the small ones). */
export function spansDecade(values: readonly number[]): boolean {
  const pos = values.filter((v) => v > 0);
  if (pos.length < 2 || pos.length < values.length) return false;
  return Math.max(...pos) / Math.min(...pos) > 10;
}

/** A deterministic jitter in [-0.35, 0.35] for the i-th point of a group (so identical runs render identically). */
function jitter(i: number): number {
  return (((i * 0.618033988749895) % 1) - 0.5) * 0.7;
}

/** A chart title with a second line. */
function title(text: string, subtitle?: string): { text: string; subtitle?: string } {
  return subtitle ? { text, subtitle } : { text };
}

/** One measured value of a group (a backend, a backend and P). */
export interface GroupValue {
  /** The group on the category axis, e.g. "Docker (container)". */
  group: string;
  /** The value. */
  value: number;
}

/** Options of `distributionChart`. */
export interface DistributionChartOptions {
  /** Title (with the unit and n). */
  title: string;
  /** Second title line, e.g. what the box and whiskers show. */
  subtitle?: string;
  /** Values; groups keep the order of their first appearance, top to bottom. */
  data: readonly GroupValue[];
  /** Title of the value axis, with its unit. */
  valueTitle: string;
  /** Log value axis; default: when positive values span more than 10×. */
  log?: boolean;
  /** Plot width in pixels. */
  width?: number;
}

/**
 * A horizontal box plot per group with every value drawn over it as a point (a box plot alone
 * hides n): box = quartiles, line = median, whiskers = min and max. The value axis is logarithmic
 * when the values span more than 10×. Resolves to SVG text.
 */
export async function distributionChart(opts: DistributionChartOptions): Promise<string> {
  assertFinite(opts.data.map((d) => d.value), 'distributionChart value');
  const groups = [...new Set(opts.data.map((d) => d.group))];
  const log = opts.log ?? spansDecade(opts.data.map((d) => d.value));
  if (log && opts.data.some((d) => d.value <= 0)) throw new RangeError('distributionChart: a log axis needs every value > 0');
  const counts = new Map<string, number>();
  const values = opts.data.map((d) => {
    const i = counts.get(d.group) ?? 0;
    counts.set(d.group, i + 1);
    return { group: d.group, value: d.value, jitter: jitter(i) };
  });
  const y = { field: 'group', type: 'nominal', title: null, sort: groups, scale: { domain: groups }, axis: { labelLimit: 700 } } as const;
  const vs = opts.data.map((d) => d.value);
  const domain = vs.length > 0 ? [Math.min(...vs) / 1.25, Math.max(...vs) * 1.25] : undefined;
  const x = { field: 'value', type: 'quantitative', title: opts.valueTitle, scale: log ? { type: 'log', domain, nice: false } : { zero: true } } as const;
  const spec = {
    $schema: SCHEMA,
    title: title(opts.title, opts.subtitle),
    width: opts.width ?? CHART_WIDTH,
    height: { step: 46 },
    config: CONFIG,
    data: { values },
    layer: [
      { mark: { type: 'boxplot', extent: 'min-max', size: 26, color: '#7aa6d6', median: { color: 'black' }, box: { opacity: 0.45 } }, encoding: { y, x } },
      {
        mark: { type: 'point', filled: true, size: 22, opacity: 0.8, color: '#333' },
        encoding: { y, x, yOffset: { field: 'jitter', type: 'quantitative', scale: { domain: [-1, 1] } } },
      },
    ],
  };
  return renderSvg(spec as unknown as TopLevelSpec);
}

/** One summarized configuration: its median and interval, in a facet, at a discrete x. */
export interface IntervalPoint {
  /** Facet (panel), e.g. a backend. */
  facet: string;
  /** Discrete position, e.g. "P=1". */
  x: string;
  /** Median. */
  median: number;
  /** Lower end of its interval (CI, or range when n < 6), if any. */
  low?: number | null;
  /** Upper end. */
  high?: number | null;
}

/** One raw value drawn beside the interval. */
export interface FacetValue {
  /** Facet. */
  facet: string;
  /** Discrete position. */
  x: string;
  /** Value. */
  value: number;
}

/** Options of `intervalChart`. */
export interface IntervalChartOptions {
  /** Title (with the unit and n). */
  title: string;
  /** Second line. */
  subtitle?: string;
  /** Medians and intervals. */
  data: readonly IntervalPoint[];
  /** Every raw value (drawn small, grey), so n and the spread are visible. */
  points: readonly FacetValue[];
  /** x axis title. */
  xTitle: string;
  /** y axis title, with its unit. */
  yTitle: string;
  /** Facets in this order (default: first appearance). */
  facets?: readonly string[];
  /** x categories in this order (default: first appearance). */
  xs?: readonly string[];
  /** One y scale per facet (default true: facets may differ by orders of magnitude). */
  independentY?: boolean;
  /** Start the y axis at zero (default true). */
  zero?: boolean;
  /** Width of each panel. */
  panelWidth?: number;
  /** Height of each panel. */
  panelHeight?: number;
}

/**
 * Medians with interval bars at discrete x positions (e.g. P = 1, 2), one panel per facet (e.g.
 * per backend) with its own y scale, and every raw value as a small grey point. Resolves to SVG.
 */
export async function intervalChart(opts: IntervalChartOptions): Promise<string> {
  assertFinite(opts.data.flatMap((d) => [d.median, d.low ?? 0, d.high ?? 0]), 'intervalChart value');
  assertFinite(opts.points.map((p) => p.value), 'intervalChart point');
  const facets = opts.facets ? [...opts.facets] : [...new Set([...opts.data.map((d) => d.facet), ...opts.points.map((p) => p.facet)])];
  const xs = opts.xs ? [...opts.xs] : [...new Set([...opts.data.map((d) => d.x), ...opts.points.map((p) => p.x)])];
  const counts = new Map<string, number>();
  const rows = [
    ...opts.data.map((d) => ({ facet: d.facet, x: d.x, kind: 'median', median: d.median, low: d.low ?? null, high: d.high ?? null, value: null as number | null, jitter: 0 })),
    ...opts.points.map((p) => {
      const k = `${p.facet}\u0000${p.x}`;
      const i = counts.get(k) ?? 0;
      counts.set(k, i + 1);
      return { facet: p.facet, x: p.x, kind: 'value', median: null as number | null, low: null, high: null, value: p.value, jitter: jitter(i) };
    }),
  ];
  const x = { field: 'x', type: 'nominal', title: opts.xTitle, sort: xs, scale: { domain: xs, padding: 0.4 }, axis: { labelAngle: 0 } } as const;
  const zero = opts.zero ?? true;
  const spec = {
    $schema: SCHEMA,
    title: title(opts.title, opts.subtitle),
    config: CONFIG,
    data: { values: rows },
    facet: { column: { field: 'facet', type: 'nominal', title: null, sort: facets, header: { labelAnchor: 'middle' } } },
    spec: {
      width: opts.panelWidth ?? Math.max(120, Math.round(CHART_WIDTH / Math.max(1, facets.length)) - 20),
      height: opts.panelHeight ?? 240,
      layer: [
        {
          transform: [{ filter: 'datum.kind === "value"' }],
          mark: { type: 'point', filled: true, size: 18, color: '#999', opacity: 0.8 },
          encoding: { x, xOffset: { field: 'jitter', type: 'quantitative', scale: { domain: [-1.4, 1.4] } }, y: { field: 'value', type: 'quantitative', title: opts.yTitle, scale: { zero } } },
        },
        {
          transform: [{ filter: 'datum.kind === "median" && datum.low !== null' }],
          mark: { type: 'rule', strokeWidth: 2.5, color: '#1f5fa8' },
          encoding: { x, y: { field: 'low', type: 'quantitative', title: opts.yTitle }, y2: { field: 'high' } },
        },
        {
          transform: [{ filter: 'datum.kind === "median"' }],
          mark: { type: 'tick', thickness: 3, size: 22, color: '#1f5fa8' },
          encoding: { x, y: { field: 'median', type: 'quantitative', title: opts.yTitle } },
        },
      ],
    },
    resolve: { scale: { y: opts.independentY === false ? 'shared' : 'independent' } },
  };
  return renderSvg(spec as unknown as TopLevelSpec);
}

/** One segment of a horizontal stacked bar in a facet. */
export interface FacetSegment {
  /** Facet (one panel, one row), e.g. a backend. */
  facet: string;
  /** Segment (colour), e.g. a phase. */
  series: string;
  /** Length. */
  value: number;
}

/** Options of `facetStackChart`. */
export interface FacetStackChartOptions {
  /** Title (with unit and n). */
  title: string;
  /** Second line. */
  subtitle?: string;
  /** Segments; facets and series keep the order of their first appearance. */
  data: readonly FacetSegment[];
  /** Title of the value axis, with its unit. */
  valueTitle: string;
  /** Width of each panel. */
  width?: number;
}

/**
 * One horizontal stacked bar per facet, each in its own panel with its own scale (so a 100 ms bar
 * and a 7 s bar are both readable), segments coloured by series with one shared legend.
 */
export async function facetStackChart(opts: FacetStackChartOptions): Promise<string> {
  assertFinite(opts.data.map((d) => d.value), 'facetStackChart value');
  const facets = [...new Set(opts.data.map((d) => d.facet))];
  const series = [...new Set(opts.data.map((d) => d.series))];
  const spec = {
    $schema: SCHEMA,
    title: title(opts.title, opts.subtitle),
    config: CONFIG,
    data: { values: opts.data.map((d) => ({ ...d, order: series.indexOf(d.series) })) },
    facet: { row: { field: 'facet', type: 'nominal', title: null, sort: facets, header: { labelAngle: 0, labelOrient: 'top', labelAnchor: 'start' } } },
    spec: {
      width: opts.width ?? CHART_WIDTH,
      height: 26,
      mark: { type: 'bar' },
      encoding: {
        x: { field: 'value', type: 'quantitative', aggregate: 'sum', title: opts.valueTitle, stack: 'zero' },
        color: { field: 'series', type: 'nominal', title: null, scale: { domain: series } },
        order: { field: 'order', type: 'quantitative' },
      },
    },
    resolve: { scale: { x: 'independent' } },
  };
  return renderSvg(spec as unknown as TopLevelSpec);
}

/** One value of a series at a numeric x, in a facet. */
export interface FacetXY {
  /** Facet (panel). */
  facet: string;
  /** Numeric x, e.g. K instances. */
  x: number;
  /** Value. */
  y: number;
}

/** Options of `spreadChart`. */
export interface SpreadChartOptions {
  /** Title (with unit and n). */
  title: string;
  /** Second line. */
  subtitle?: string;
  /** Every value (each instance of each launch), drawn as points. */
  points: readonly FacetXY[];
  /** The medians, joined by a line. */
  medians: readonly FacetXY[];
  /** x axis title. */
  xTitle: string;
  /** y axis title, with unit. */
  yTitle: string;
  /** Log x axis (K doubling). */
  logX?: boolean;
  /** One y scale per facet (default true). */
  independentY?: boolean;
  /** Draw a rule at y = 0 (for values that can be negative). */
  zeroRule?: boolean;
  /** One x scale per facet (default false: K is comparable across backends). */
  independentX?: boolean;
  /** Width of each panel. */
  panelWidth?: number;
}

/**
 * Per-facet scatter of every value against x with the median joined by a line: the spread is
 * visible, and negative values are drawn (with a rule at zero) rather than dropped.
 */
export async function spreadChart(opts: SpreadChartOptions): Promise<string> {
  assertFinite(opts.points.flatMap((p) => [p.x, p.y]), 'spreadChart point');
  assertFinite(opts.medians.flatMap((p) => [p.x, p.y]), 'spreadChart median');
  const facets = [...new Set([...opts.medians.map((d) => d.facet), ...opts.points.map((d) => d.facet)])];
  const rows = [
    ...opts.points.map((p) => ({ ...p, kind: 'value' })),
    ...opts.medians.map((p) => ({ ...p, kind: 'median' })),
  ];
  const x = { field: 'x', type: 'quantitative', title: opts.xTitle, scale: opts.logX ? { type: 'log', base: 2 } : { zero: false }, axis: { tickMinStep: 1 } } as const;
  const y = { field: 'y', type: 'quantitative', title: opts.yTitle } as const;
  const spec = {
    $schema: SCHEMA,
    title: title(opts.title, opts.subtitle),
    config: CONFIG,
    data: { values: rows },
    facet: { column: { field: 'facet', type: 'nominal', title: null, sort: facets } },
    spec: {
      width: opts.panelWidth ?? Math.max(140, Math.round(CHART_WIDTH / Math.max(1, facets.length)) - 20),
      height: 220,
      layer: [
        ...(opts.zeroRule ? [{ mark: { type: 'rule', color: '#c33', strokeDash: [4, 3] }, encoding: { y: { datum: 0 } } } as const] : []),
        { transform: [{ filter: 'datum.kind === "value"' }], mark: { type: 'point', filled: true, size: 18, color: '#888', opacity: 0.7 }, encoding: { x, y } },
        { transform: [{ filter: 'datum.kind === "median"' }], mark: { type: 'line', point: { size: 50, color: '#1f5fa8' }, color: '#1f5fa8', strokeWidth: 2 }, encoding: { x, y, order: { field: 'x', type: 'quantitative' } } },
      ],
    },
    resolve: { scale: { y: opts.independentY === false ? 'shared' : 'independent', x: opts.independentX ? 'independent' : 'shared' } },
  };
  return renderSvg(spec as unknown as TopLevelSpec);
}

/** One reading of a line in a panel. */
export interface PanelPoint {
  /** Panel (one row each, own y scale), e.g. "CPU (% of one core)". */
  panel: string;
  /** Line (colour), e.g. "P=2 task 1". */
  series: string;
  /** Time (s). */
  t: number;
  /** Value. */
  value: number;
}

/** Options of `panelLineChart`. */
export interface PanelLineChartOptions {
  /** Title (with units and n). */
  title: string;
  /** Second line. */
  subtitle?: string;
  /** Readings; panels and series keep the order of their first appearance. */
  data: readonly PanelPoint[];
  /** x axis title; default "time (s)". */
  xTitle?: string;
  /** Width of the panels. */
  width?: number;
  /** Height of each panel. */
  panelHeight?: number;
}

/**
 * Lines with a point at every reading (so a line of 3 readings still shows 3 points), one panel
 * per quantity stacked on a shared time axis, each panel with its own y scale, coloured by series.
 */
export async function panelLineChart(opts: PanelLineChartOptions): Promise<string> {
  assertFinite(opts.data.flatMap((d) => [d.t, d.value]), 'panelLineChart reading');
  const panels = [...new Set(opts.data.map((d) => d.panel))];
  const series = [...new Set(opts.data.map((d) => d.series))];
  const spec = {
    $schema: SCHEMA,
    title: title(opts.title, opts.subtitle),
    config: CONFIG,
    data: { values: opts.data.map((d) => ({ ...d })) },
    facet: { row: { field: 'panel', type: 'nominal', title: null, sort: panels, header: { labelAngle: 0, labelOrient: 'top', labelAnchor: 'start' } } },
    spec: {
      width: opts.width ?? CHART_WIDTH,
      height: opts.panelHeight ?? 150,
      mark: { type: 'line', point: { size: 22, filled: true }, strokeWidth: 1.6 },
      encoding: {
        x: { field: 't', type: 'quantitative', title: opts.xTitle ?? 'time (s)', scale: { zero: true } },
        y: { field: 'value', type: 'quantitative', title: null, scale: { zero: true } },
        color: { field: 'series', type: 'nominal', title: null, scale: { domain: series } },
        detail: { field: 'series', type: 'nominal' },
        order: { field: 't', type: 'quantitative' },
      },
    },
    resolve: { scale: { y: 'independent' } },
  };
  return renderSvg(spec as unknown as TopLevelSpec);
}
