import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { repoRoot } from '../../executor/paths.js';
import { defaultBackends, orderBackends, registrySource, unknownBackends } from '../../experiments/backends.js';
import type { InputFile } from '../../experiments/context.js';
import { steadyAvailableMemory } from '../../experiments/memory.js';
import { readResults } from '../../experiments/results-store.js';
import { runExperiments } from '../../experiments/runner.js';
import { defaultBudgetBytes, EXPERIMENT_DEFAULTS, makeSettings, MiB, type RunDefaults } from '../../experiments/settings.js';
import { EXPERIMENTS, type ExperimentName, type ResultsFile, type RunSettings } from '../../experiments/types.js';
import { summaryLines } from '../../report/render.js';
import { removeGenerated, writeReport } from '../../report/write-report.js';
import { session } from '../../session/session.js';
import { installSignalCleanup } from '../../session/signals.js';
import { flag, int, list, num, parseFlags, str, type Command, type Parsed } from '../command.js';
import { dropCachesFromEnv } from '../../experiments/cold.js';
import { RuntimeError, UsageError } from '../errors.js';
import { checkInputFile } from '../input.js';

/** Flags shared by `experiment` and `lab`. */
export const RUN_FLAGS = {
  backends: { type: 'string' }, repeat: { type: 'string' }, warmup: { type: 'string' }, parallelism: { type: 'string' },
  'throughput-repeat': { type: 'string' }, input: { type: 'string' }, size: { type: 'string' }, out: { type: 'string' },
  'density-steps': { type: 'string' }, 'backend-density-steps': { type: 'string', multiple: true }, 'mem-budget': { type: 'string' },
  'sampler-hz': { type: 'string' }, 'drop-caches': { type: 'boolean' }, series: { type: 'string' }, 'density-rounds': { type: 'string' },
  'time-budget': { type: 'string' }, 'no-cross-checks': { type: 'boolean' }, sizes: { type: 'string' },
} as const;

/** Backends whose descriptor has its own density steps, as `name=1,2,4` (for help texts). */
function ownSteps(): string {
  return defaultBackends()
    .map((n) => registrySource.describe(n))
    .filter((d) => d?.densitySteps)
    .map((d) => `${d!.name}=${d!.densitySteps!.join(',')}`)
    .join(' ') || 'none';
}

/** The options text shared by `experiment` and `lab`, with the given defaults. */
export function runOptionsHelp(d: RunDefaults, outDefault: string): string {
  return `  --backends LIST         backends to compare, run and reported along the isolation spectrum
                          (default: ${defaultBackends().join(',')}); docker:RUNTIME runs the docker backend on
                          another OCI runtime dockerd knows (e.g. docker:crun). One that is not
                          registered or not healthy is reported as SKIPPED, with the reason
  --repeat N              warm start-up runs per backend (default: ${d.repeat}; an emulated VM: 8)
  --warmup N              runs before the warm ones, kept apart as cold starts (default: ${d.warmup}); with
                          --drop-caches, cold runs each after dropping the page cache (default 5)
  --drop-caches           drop the host's page cache before each cold start (root; slows the host;
                          also ISOLAB_DROP_CACHES=1). Without it the first run is kept apart and
                          labelled as the nearest thing to a cold start
  --series N              Firecracker-style launch series: N instances one after another, then N at
                          once (default: ${d.series}; an emulated VM fewer; 0: none)
  --parallelism LIST      throughput map tasks, e.g. 1,2,4 (default: ${d.parallelism.join(',')})
  --throughput-repeat N   wordcount jobs per configuration (default: ${d.throughputRepeat}; an emulated VM: 5)
  --input FILE            throughput input file (one size for every backend: no fixed-cost fit)
  --size MB               or: one generated corpus of this many MB (10^6 bytes) for every backend
  --sizes LIST            or: P=1 fit sizes in MB for every backend, e.g. 20,80; the P comparison
                          runs on the last (default: two sizes per backend from its priors, the larger
                          corrected after the first so a process job at P=1 lasts ~5 s)
  --density-steps LIST    idle instances per density step (default: ${d.densitySteps.join(',')})
  --density-rounds N      launches per density step (default: ${d.densityRounds})
  --time-budget S         fit the run into S seconds by trimming (printed in the plan)
                          (default: ${d.timeBudgetSeconds === null ? 'none' : d.timeBudgetSeconds}; 0: none)
  --no-cross-checks       skip the cross-checks against docker run, plain QEMU and an outside PSS read
  --backend-density-steps NAME=LIST
                          density steps of one backend, repeatable (default: a backend's own,
                          ${ownSteps()})
  --mem-budget MiB        memory for all instances of one density step (default: half the available, at most ${d.maxBudgetMiB})
  --sampler-hz N          CPU/memory samples per second during throughput jobs (default: ${d.samplerHz})
  --out DIR               output folder (default: ${outDefault})
  -h, --help              show this help`;
}

const HELP = `Usage: isolab experiment startup|density|throughput|all [options]

Measures what isolation costs on each backend (${defaultBackends().join(', ')}) and writes DIR/results.json
(raw samples and summaries, rewritten after each configuration), results.csv, report.md and SVG charts.

  startup     start of one executor through the master, phases offered → accepted → requested →
              created → running → ready → first result → work done → exited → cleaned; the first
              (or cold) run apart, then N warm runs; a launch series (N one after another, N at
              once); cross-checks against docker run and a plain qemu-system-x86_64
  density     K idle executors per backend, launched at once 3 times per K, K rising until the
              memory budget, a time budget, the last step or a failed launch: PSS per instance
              (cross-checked by an outside reader), host available memory drop, launch rate
  throughput  wordcount at P=1 on two sizes per backend (fit time = a + b·bytes), then at each
              parallelism on the larger: job time, each task's CPU-seconds and peak memory from the
              isolation layer, MB/s, speed-up vs P=1 (stated only outside overlapping intervals)
  all         the three, in that order

Options:
${runOptionsHelp(EXPERIMENT_DEFAULTS, 'reports/latest')}

Progress (what runs, n of N, ETA) goes to stderr. SIGINT/SIGTERM stops the run: results.json keeps
what finished (marked interrupted), the report is rendered from it, and every instance is removed.
Exit status: 0 done, 1 the run failed, 2 bad usage (bad flag, unknown backend, missing input).`;

function intList(p: Parsed, name: string, dflt: readonly number[], min = 1, max = 1024, flagName = name): number[] {
  return list(p, name, dflt.map(String)).map((s) => {
    const n = /^\d+$/.test(s) ? Number(s) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`--${flagName} takes integers from ${min} to ${max}, got "${s}"`);
    return n;
  });
}

/** A parsed and validated run: settings, output folder and input. */
export interface PreparedRun {
  /** Settings of the run. */
  settings: RunSettings;
  /** Absolute output folder (created). */
  outDir: string;
  /** Throughput input file, when one was given. */
  inputFile?: InputFile;
  /** Which per-backend settings the command line fixed. */
  given?: Partial<Record<'repeat' | 'sizes' | 'series' | 'throughputRepeat', boolean>>;
}

/** `--backend-density-steps NAME=LIST` values, by backend; UsageError on a bad one. */
function backendSteps(p: Parsed, backends: readonly string[]): Record<string, number[]> {
  const v = p.values['backend-density-steps'];
  const items = Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
  const out: Record<string, number[]> = {};
  for (const item of items) {
    const m = /^([^=\s]+)=(.+)$/.exec(item.trim());
    if (!m) throw new UsageError(`--backend-density-steps takes NAME=LIST, e.g. vm=1,2,4, got "${item}"`);
    if (!backends.includes(m[1]!)) throw new UsageError(`--backend-density-steps names ${m[1]}, which is not among --backends`);
    out[m[1]!] = intList({ values: { x: m[2] }, positionals: [] }, 'x', [], 1, 512, 'backend-density-steps');
  }
  return out;
}

/** Validates the shared flags (UsageError on anything wrong) and creates the output folder. */
export async function prepareRun(p: Parsed, experiments: ExperimentName[], d: RunDefaults, outDefault: string): Promise<PreparedRun> {
  const given = list(p, 'backends', defaultBackends());
  const unknown = unknownBackends(given);
  if (unknown.length > 0) throw new UsageError(`unknown backend "${unknown[0]}" (known: ${defaultBackends().join(', ')}, or docker:RUNTIME)`);
  if (new Set(given).size !== given.length) throw new UsageError('--backends lists a backend twice');
  const backends = orderBackends(given);
  if ([str(p, 'input'), str(p, 'size'), str(p, 'sizes')].filter((x) => x !== undefined).length > 1) throw new UsageError('give one of --input FILE, --size MB, --sizes LIST');
  const repeat = int(p, 'repeat', d.repeat);
  const warmup = int(p, 'warmup', d.warmup, 0);
  const throughputRepeat = int(p, 'throughput-repeat', d.throughputRepeat);
  const parallelism = intList(p, 'parallelism', d.parallelism, 1, 64);
  const densitySteps = intList(p, 'density-steps', d.densitySteps, 1, 512);
  const stepsByBackend = backendSteps(p, backends);
  const samplerHz = num(p, 'sampler-hz', d.samplerHz, 0.1);
  if (samplerHz > 100) throw new UsageError(`--sampler-hz must be at most 100, got "${samplerHz}"`);
  let inputFile: InputFile | undefined;
  const inputPath = str(p, 'input');
  if (inputPath !== undefined) {
    const f = checkInputFile(inputPath);
    if (f.size === 0) throw new UsageError(`${inputPath}: empty file`);
    inputFile = { path: f.path, bytes: f.size, description: `file ${f.path.split('/').pop()}` };
  }
  const sizeMb = num(p, 'size', d.sizeMb, 0.000001);
  const inputBytes = inputFile?.bytes ?? Math.round(sizeMb * 1e6);
  const sizesMb = str(p, 'sizes') === undefined ? undefined : list(p, 'sizes', []).map((x) => {
    const v = Number(x);
    if (!(v > 0) || v > 100_000) throw new UsageError(`--sizes takes MB values above 0, got "${x}"`);
    return Math.round(v * 1e6);
  }).sort((a, b) => a - b);
  const series = int(p, 'series', d.series, 0);
  const densityRounds = int(p, 'density-rounds', d.densityRounds);
  const budget = str(p, 'time-budget') === undefined ? d.timeBudgetSeconds : num(p, 'time-budget', 0, 0);
  const budgetGiven = str(p, 'mem-budget');
  const memBudgetBytes = budgetGiven !== undefined ? num(p, 'mem-budget', 0, 1) * MiB : defaultBudgetBytes(await steadyAvailableMemory());
  const outDir = resolve(str(p, 'out') ?? join(repoRoot(), outDefault));
  try {
    mkdirSync(outDir, { recursive: true });
  } catch (err) {
    throw new UsageError(`cannot create ${outDir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const oneSize = str(p, 'size') !== undefined ? [inputBytes] : undefined;
  const fitSizes = sizesMb ?? oneSize;
  const settings = makeSettings({
    experiments, backends, repeat, warmup, throughputRepeat, parallelism, inputBytes,
    input: inputFile?.description ?? (fitSizes ? `generated corpus, ${fitSizes.map((b) => b / 1e6).join(', ')} MB, seed 1` : 'generated corpora, sizes per backend, seed 1'),
    densitySteps, densityStepsByBackend: stepsByBackend, memBudgetBytes, samplerHz,
    dropCaches: flag(p, 'drop-caches') || dropCachesFromEnv(), densityRounds, seriesDefault: series,
    crossChecks: !flag(p, 'no-cross-checks'), timeBudgetSeconds: budget === 0 ? null : budget,
    ...(str(p, 'warmup') !== undefined ? { coldRepeat: warmup } : {}),
  });
  if (fitSizes) {
    settings.throughputSizesByBackend = Object.fromEntries(backends.map((b) => [b, [...fitSizes]]));
    settings.throughputParallelBytes = Object.fromEntries(backends.map((b) => [b, fitSizes[fitSizes.length - 1]!]));
  }
  if (str(p, 'series') !== undefined) settings.seriesByBackend = Object.fromEntries(backends.map((b) => [b, series]));
  const fixed = { repeat: str(p, "repeat") !== undefined, sizes: fitSizes !== undefined || inputFile !== undefined, series: str(p, 'series') !== undefined, throughputRepeat: str(p, 'throughput-repeat') !== undefined };
  return { settings, outDir, inputFile, given: fixed };
}

/** Runs a prepared run with signal cleanup, then renders the report; `after` runs on every ending (dated copies). */
export async function executeRun(run: PreparedRun, after?: (dir: string) => void): Promise<number> {
  const sess = session();
  const abort = new AbortController();
  const log = (l: string): void => void process.stderr.write(l + '\n');
  const render = async (): Promise<ResultsFile> => {
    const res = readResults(run.outDir);
    const w = await writeReport(run.outDir, res);
    for (const e of w.chartErrors) log(`isolab: chart not rendered: ${e}`);
    after?.(run.outDir);
    return res;
  };
  const undoRender = sess.defer('render the report of the interrupted run', async () => {
    await render();
    log(`isolab: results so far in ${join(run.outDir, 'results.json')}, report in ${join(run.outDir, 'report.md')}`);
  });
  const uninstall = installSignalCleanup(sess, abort, log);
  try {
    removeGenerated(run.outDir);
    log(`isolab: session ${sess.id}; writing ${run.outDir}`);
    try {
      await runExperiments({ outDir: run.outDir, settings: run.settings, inputFile: run.inputFile, signal: abort.signal, log, given: run.given });
    } catch (err) {
      if (abort.signal.aborted) throw err;
      undoRender();
      await render().catch(() => undefined);
      throw new RuntimeError(`experiment failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    undoRender();
    const res = await render();
    process.stdout.write([`report: ${join(run.outDir, 'report.md')}`, ...summaryLines(res).map((l) => `  ${l}`)].join('\n') + '\n');
    return 0;
  } finally {
    uninstall();
    const sessionCleanups = await sess.close();
    for (const e of sessionCleanups) log(`isolab: cleanup: ${e}`);
  }
}

export const experimentCommand: Command = {
  name: 'experiment',
  summary: 'measure start-up, density and throughput per backend; write results and a report',
  help: HELP,
  async run(argv) {
    const p = parseFlags(argv, RUN_FLAGS, true);
    const [which, ...extra] = p.positionals;
    if (!which) throw new UsageError('which experiment? startup, density, throughput or all');
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
    if (which !== 'all' && !(EXPERIMENTS as readonly string[]).includes(which)) {
      throw new UsageError(`unknown experiment "${which}" (startup, density, throughput or all)`);
    }
    const experiments = which === 'all' ? [...EXPERIMENTS] : [which as ExperimentName];
    const run = await prepareRun(p, experiments, EXPERIMENT_DEFAULTS, 'reports/latest');
    return executeRun(run);
  },
};
