import { image, missing } from '../markdown.js';
import type { ChartJob } from '../report-charts.js';

/** The Markdown image of a planned chart, or why it is not there. */
export function chartBlock(charts: readonly ChartJob[], file: string, why: string): string {
  const c = charts.find((x) => x.file === file);
  return c ? image(c.title, c.file) : `Chart ${file}: ${missing(why)}`;
}

/** Every planned chart whose file name matches, as Markdown images. */
export function chartsMatching(charts: readonly ChartJob[], pattern: RegExp): string {
  return charts.filter((c) => pattern.test(c.file)).map((c) => image(c.title, c.file)).join('\n\n');
}
