import type { ResultsFile } from '../experiments/types.js';
import { metricRows, type MetricRow } from './metrics.js';

/** Columns of results.csv, in order. */
export const CSV_COLUMNS = [
  'experiment', 'backend', 'accelerator', 'config', 'metric', 'unit', 'n', 'median', 'p95', 'min', 'max', 'mean', 'cv',
  'ci95_low', 'ci95_high', 'outliers', 'status', 'reason', 'requested_cpus', 'requested_mem_mib', 'enforced_cpus',
  'enforced_mem', 'enforced_how', 'hostname', 'cpu', 'kernel', 'node', 'commit',
] as const;

/** One CSV field (RFC 4180): quoted when it holds a comma, quote or line break. */
export function csvField(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function rowFields(r: MetricRow): (string | number | boolean | null | undefined)[] {
  const s = r.summary;
  return [
    r.experiment, r.backend, r.accelerator, r.config, r.metric, r.unit, s.n, s.median, s.p95, s.min, s.max, s.mean, s.cv,
    s.ciLow, s.ciHigh, s.outliers.length, r.status, r.reason, r.limitsRequested.cpus, r.limitsRequested.mem,
    r.limitsEnforced?.cpus, r.limitsEnforced?.mem, r.limitsEnforced?.how, r.environment.hostname, r.environment.cpu,
    r.environment.kernel, r.environment.node, r.environment.commit,
  ];
}

/** results.csv: one line per metric and configuration, every line with its backend, accelerator, limits and environment. */
export function resultsCsv(res: ResultsFile): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of metricRows(res)) lines.push(rowFields(r).map(csvField).join(','));
  return lines.join('\n') + '\n';
}
