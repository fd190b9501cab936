import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../experiments/results-store.js';
import type { ResultsFile } from '../experiments/types.js';
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

/** Names of the files a run or a report writes: results, report and charts. */
const GENERATED = /^(results\.json|results\.csv|report\.md|(startup|density|throughput|timeline)-[a-z0-9-]+\.svg)$/;

/** Chart files only. */
const CHART = /^(startup|density|throughput|timeline)-[a-z0-9-]+\.svg$/;

/** Removes what an earlier run wrote into `dir` (results, report, charts), leaving any other file alone. */
export function removeGenerated(dir: string, keep: readonly string[] = [], pattern = GENERATED): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const gone = names.filter((n) => pattern.test(n) && !keep.includes(n));
  for (const n of gone) rmSync(join(dir, n), { force: true });
  return gone;
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
  removeGenerated(dir, files, CHART);
  return { files: ['report.md', 'results.csv', ...files], chartErrors };
}
