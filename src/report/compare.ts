import type { ResultsFile } from '../experiments/types.js';
import { blocks, fmt, heading, MISSING, table, type Cell } from './markdown.js';
import { metricRows, type MetricRow } from './metrics.js';

function key(r: MetricRow): string {
  return [r.experiment, r.backend, r.config, r.metric].join('\u0000');
}

function describe(label: string, res: ResultsFile): string {
  const e = res.environment;
  return `${label}: ${res.startedAt} on ${e.hostname} (${e.cpuModel} ×${e.cores}, kernel ${e.kernel}), commit ${e.gitCommit?.slice(0, 12) ?? MISSING}, status ${res.status}`;
}

/** Two runs side by side: every metric's median in A and in B and the ratio B/A, as Markdown. */
export function compareMarkdown(a: ResultsFile, b: ResultsFile, labels: [string, string] = ['A', 'B']): string {
  const ra = metricRows(a);
  const rb = new Map(metricRows(b).map((r) => [key(r), r]));
  const seen = new Set<string>();
  const rows: Cell[][] = [];
  const push = (x: MetricRow | undefined, y: MetricRow | undefined): void => {
    const r = (x ?? y)!;
    const ma = x?.summary.median ?? null;
    const mb = y?.summary.median ?? null;
    const digits = r.unit === 'ms' ? 1 : 3;
    const ratio = ma !== null && mb !== null && ma !== 0 ? `${fmt(mb / ma, 2)}×` : MISSING;
    rows.push([r.experiment, r.backend, r.config, r.label, r.unit, fmt(ma, digits), fmt(mb, digits), ratio]);
  };
  for (const x of ra) {
    seen.add(key(x));
    push(x, rb.get(key(x)));
  }
  for (const [k, y] of rb) if (!seen.has(k)) push(undefined, y);
  return blocks(
    heading('isolab: two runs compared', 1),
    `- ${describe(labels[0], a)}\n- ${describe(labels[1], b)}`,
    `Medians; ratio = ${labels[1]} / ${labels[0]} (above 1: ${labels[1]} is larger, i.e. slower for times and memory, faster for rates). ${MISSING} = not measured in that run.`,
    table(['experiment', 'backend', 'config', 'metric', 'unit', labels[0], labels[1], `${labels[1]}/${labels[0]}`], rows, ['l', 'l', 'l', 'l', 'l', 'r', 'r', 'r']),
  );
}
