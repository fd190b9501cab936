import { writeFileAtomic } from '../experiments/results-store.js';
import type { ResultsFile } from '../experiments/types.js';
import { join } from 'node:path';
import { resultsCsv } from './csv.js';
import { renderMarkdown } from './render.js';
import { chartJobs, type ChartJob } from './report-charts.js';

/** What writing a report produced. */
export interface WrittenReport {
  /** Files written, relative to the folder. */
  files: string[];
  /** Charts that failed to render, with the reason (the report still links them). */
  chartErrors: string[];
}

/** Writes report.md, results.csv and every chart of a run into `dir`, all from `res` (results.json) alone. */
export async function writeReport(dir: string, res: ResultsFile): Promise<WrittenReport> {
  const charts = chartJobs(res);
  const rendered: ChartJob[] = [];
  const chartErrors: string[] = [];
  const files: string[] = [];
  for (const c of charts) {
    try {
      writeFileAtomic(join(dir, c.file), await c.render());
      rendered.push(c);
      files.push(c.file);
    } catch (err) {
      chartErrors.push(`${c.file}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  writeFileAtomic(join(dir, 'results.csv'), resultsCsv(res));
  writeFileAtomic(join(dir, 'report.md'), renderMarkdown(res, rendered));
  return { files: ['report.md', 'results.csv', ...files], chartErrors };
}
