import type { ResultsFile } from '../../experiments/types.js';
import { nounOf } from '../backends.js';
import { withInterval } from '../format.js';
import { blocks, bulletList, fmt, heading, missing, table, type Cell } from '../markdown.js';
import { PUBLISHED_REFERENCES, REFERENCE_METHOD, SOURCES } from '../references.js';
import type { ChartJob } from '../report-charts.js';

/** isolab's own figures against independent tools, measured in this run. */
export function crossCheckSection(res: ResultsFile): string {
  const checks = res.crossChecks ?? [];
  if (checks.length === 0) return '';
  const rows: Cell[][] = checks.map((c) => [
    nounOf(res, c.backend), c.what, `\`${c.tool}\``, c.status === 'done' ? withInterval(c.isolab, (x) => fmt(x, 1)) : missing(c.reason ?? c.status),
    c.status === 'done' ? withInterval(c.external, (x) => fmt(x, 1)) : '', c.unit, c.ratio === null ? '' : `${fmt(c.ratio, 2)}×`,
  ]);
  return blocks(
    heading('Cross-checks against independent tools', 3),
    'Measured in this run. The ratio is isolab\'s median over the tool\'s; the two seldom measure exactly the same span, and the "what" column says how they differ.',
    table(['backend', 'what', 'tool', 'isolab', 'tool', 'unit', 'ratio'], rows, ['l', 'l', 'l', 'r', 'r', 'l', 'r']),
  );
}

/** Published figures, kept apart from the lab's own, each traceable to a source, a figure or table, and the hardware. */
export function referencesSection(): string {
  const rows: Cell[][] = PUBLISHED_REFERENCES.map((r) => [r.what, r.figure, `[${r.source}]`, r.where, r.how]);
  const sources = SOURCES.map((s) => `**[${s.key}]** ${s.authors}. *${s.title}*. ${s.venue}, ${s.year}. <${s.url}>. Hardware: ${s.hardware}.`);
  return blocks(
    heading('Published references (not measured here)'),
    'Figures published by others, on their own hardware, for orientation only. They are **not** this lab\'s measurements ' +
      'and never enter its tables, ratios or charts.',
    table(['what', 'published figure', 'source', 'exactly where', 'how the source states it'], rows, ['l', 'l', 'l', 'l', 'l']),
    REFERENCE_METHOD,
    bulletList(sources),
  );
}

/** Where the raw data is. */
export function filesSection(charts: readonly ChartJob[]): string {
  return blocks(
    heading('Raw data'),
    bulletList([
      '`results.json`: every raw sample (every task\'s phases and its isolation-layer accounting, per-task and host-wide timelines, ' +
        'every density instance), the summaries, the settings and the environment. This report is rendered from it alone: `isolab report DIR`.',
      '`results.csv`: one line per metric and configuration, with backend, accelerator, limits and environment.',
      'Compare two runs as a regression gate: `isolab compare BASE NEW [--max-regression 10%]`.',
      ...charts.map((c) => `\`${c.file}\`: ${c.title}`),
    ]),
  );
}
