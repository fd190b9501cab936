import type { ResultsFile } from '../experiments/types.js';
import { baselineOf, headerOf, inIsolationOrder, nounOf } from './backends.js';
import { backgroundSection } from './background.js';
import { caveats } from './caveats.js';
import { blocks, bulletList, fmt, heading } from './markdown.js';
import { chartJobs, type ChartJob } from './report-charts.js';
import { densitySection } from './sections/density.js';
import { environmentSection } from './sections/environment.js';
import { methodSection } from './sections/method.js';
import { crossCheckSection, filesSection, referencesSection } from './sections/references.js';
import { startupSection } from './sections/startup.js';
import { throughputSection } from './sections/throughput.js';
import { summaryLines, summaryTable } from './summary.js';

export { headlines, summaryLines, summaryTable } from './summary.js';
export { ms } from './format.js';

function statusLine(res: ResultsFile): string {
  const took = `${fmt(res.elapsedSeconds / 60, 1)} min`;
  const base = `Run started ${res.startedAt}, last written ${res.updatedAt} (${took}).`;
  if (res.status === 'complete') return `${base} Status: complete.`;
  if (res.status === 'running') return `${base} **Status: did not finish** (results.json was last written while running); the tables show what finished.`;
  return `${base} **Status: ${res.status}** (${res.statusReason ?? 'no reason recorded'}); the tables show what finished before that.`;
}

/** One paragraph: what was compared, and how. */
function introduction(res: ResultsFile): string {
  const used = res.backends.filter((b) => b.usable);
  const skipped = res.backends.filter((b) => !b.usable);
  const s = res.settings;
  const exps = [
    s.experiments.includes('startup') ? 'how long one instance takes to start (and what it uses)' : '',
    s.experiments.includes('density') ? 'how much memory each idle instance costs as more are packed on the host' : '',
    s.experiments.includes('throughput') ? `how fast a wordcount job runs at parallelism ${s.parallelism.join(', ')}, with each task's CPU and memory` : '',
  ].filter(Boolean);
  return `What does isolation cost? This run executed the same workload, a wordcount executor, ` +
    `${used.length === 1 ? 'on one backend' : `${used.length} ways`} along the isolation spectrum: ${used.map((b) => headerOf(res, b.name)).join('; ')}` +
    `${skipped.length > 0 ? ` (skipped: ${skipped.map((b) => `${b.name}, ${b.description}`).join('; ')})` : ''}. ` +
    `Every task went through a Mesos-style master (resource offers, DRF) to one agent, which started it on the backend under test, ` +
    `so only the isolation layer differs. It measured ${exps.join('; ')}. Each figure is a median over repeated runs with a ` +
    `95% confidence interval; raw samples are in results.json. Read the caveats first.`;
}

/** The Markdown report of a run, from its results.json data alone (no clock, no environment lookups). */
export function renderMarkdown(res0: ResultsFile, charts: readonly ChartJob[] = chartJobs(res0)): string {
  const res = inIsolationOrder(res0);
  const base = baselineOf(res);
  return blocks(
    heading('isolab: what isolation costs', 1),
    statusLine(res),
    introduction(res),
    heading('Caveats'),
    bulletList(caveats(res).map((c) => c.text)),
    heading('Summary'),
    `Medians [95% CI] measured in this run, one column per backend along the isolation spectrum. A ratio to the ` +
      `${base ? nounOf(res, base.name) : 'first'} backend is given only where the two intervals do not overlap; ` +
      'otherwise the cell says the difference is not measurable.',
    summaryTable(res),
    bulletList(summaryLines(res)),
    backgroundSection(res),
    methodSection(res),
    environmentSection(res),
    heading('Results'),
    startupSection(res, charts),
    densitySection(res, charts),
    throughputSection(res, charts),
    crossCheckSection(res),
    referencesSection(),
    filesSection(charts),
  );
}
