import { randomBytes } from 'node:crypto';
import { closeSync, constants, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { resolveDescriptor, type BackendDescriptor } from '../backends/descriptor.js';
import { registry } from '../backends/registry.js';
import { summarizeStep } from './density.js';
import { startupDurations, summarizeStartup } from './startup.js';
import { renameLegacyPhases } from './task-record.js';
import { computeSpeedups, summarizeThroughput } from './throughput.js';
import { RESULTS_SCHEMA, type BackendInfo, type DensityResult, type LaunchRound, type ResultsFile, type RunStatus } from './types.js';

/** File name of the raw results in a run's folder. */
export const RESULTS_FILE = 'results.json';

/**
 * Writes `text` to `path` atomically: a temp file beside it, fsync, rename. The temp file gets a
 * random name and is created with O_CREAT|O_EXCL|O_NOFOLLOW, so a file or symbolic link planted
 * beside the output is never written through; the rename replaces the entry and follows no link.
 */
export function writeFileAtomic(path: string, text: string): void {
  let fd: number | undefined;
  let tmp = '';
  for (let attempt = 0; fd === undefined; attempt++) {
    tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 5) throw err;
    }
  }
  try {
    try {
      const bytes = Buffer.from(text);
      for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** Holds a run's results and rewrites results.json atomically on every save, so a stopped run keeps what it measured. */
export class ResultsStore {
  /** Path of results.json. */
  readonly path: string;
  private readonly t0 = performance.now();

  constructor(
    /** The run's folder. */
    readonly dir: string,
    /** The results, mutated in place by the experiments. */
    readonly data: ResultsFile,
  ) {
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, RESULTS_FILE);
  }

  /** Rewrites results.json with the current data. */
  save(): void {
    this.data.updatedAt = new Date().toISOString();
    this.data.elapsedSeconds = Math.round((performance.now() - this.t0) / 10) / 100;
    writeFileAtomic(this.path, JSON.stringify(this.data, null, 1) + '\n');
  }

  /** Sets the run's status (and reason) and saves. */
  finish(status: RunStatus, reason?: string): void {
    this.data.status = status;
    if (reason) this.data.statusReason = reason;
    else delete this.data.statusReason;
    this.save();
  }
}

/** Reads and checks a results.json (a file, or the folder holding one); throws a one-line Error when unusable. */
export function readResults(pathOrDir: string): ResultsFile {
  const path = pathOrDir.endsWith('.json') ? pathOrDir : join(pathOrDir, RESULTS_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`${path}: ${code === 'ENOENT' ? 'no such file' : code ?? 'cannot read'}`);
  }
  let data: ResultsFile;
  try {
    data = JSON.parse(text) as ResultsFile;
  } catch {
    throw new Error(`${path}: not valid JSON`);
  }
  if (data && (data.schema as string) === RESULTS_SCHEMA_V1) return upgradeV2(upgradeV1(data));
  if (data && (data.schema as string) === RESULTS_SCHEMA_V2) return upgradeV2(data);
  if (!data || data.schema !== RESULTS_SCHEMA) throw new Error(`${path}: not an isolab results file (schema ${RESULTS_SCHEMA})`);
  return data;
}

/** The schema before one set of phases, per-task usage and order-statistic intervals. */
export const RESULTS_SCHEMA_V2 = 'isolab-results/2';

/** A schema-2 density step (one serial and one parallel launch). */
interface StepV2 {
  k: number;
  serial?: LaunchRound;
  parallel?: LaunchRound | null;
}

/**
 * A version-2 results file as version 3: phases renamed to the standard ones (`started` → `running`),
 * start-up intervals and every statistic recomputed from the raw samples (order-statistic intervals),
 * warm-up runs kept apart as `first` runs, density's serial and parallel launches as two rounds,
 * throughput speed-ups computed; no per-task usage (not recorded before schema 3).
 */
export function upgradeV2(data: ResultsFile): ResultsFile {
  for (const r of data.startup) {
    for (const smp of r.samples) {
      smp.phases = renameLegacyPhases(smp.phases);
      smp.durations = startupDurations(smp.phases);
      smp.start ??= smp.warmup ? 'first' : 'warm';
    }
    r.series ??= [];
    summarizeStartup(r);
  }
  for (const r of data.density as (DensityResult & { steps: (StepV2 & Partial<DensityResult['steps'][number]>)[] })[]) {
    for (const st of r.steps) {
      if (!st.rounds) st.rounds = [st.serial, st.parallel].filter((x): x is LaunchRound => Boolean(x));
      delete st.serial;
      delete st.parallel;
      st.summary = summarizeStep(st.rounds);
    }
    r.roundsPerStep ??= 2;
    r.timeBudgetSeconds ??= null;
    r.kReached ??= Math.max(0, ...r.steps.filter((st) => st.rounds!.every((x) => x.ready === st.k)).map((st) => st.k));
    r.stopKind ??= r.status === 'skipped' ? 'skipped' : /budget/.test(r.stopReason) ? 'memory-budget' : /fail/.test(r.stopReason) ? 'failure'
      : /all .* steps done/.test(r.stopReason) ? 'last-step' : 'interrupted';
  }
  for (const r of data.throughput) {
    r.role ??= 'both';
    summarizeThroughput(r);
  }
  computeSpeedups(data.throughput);
  data.fits ??= [];
  data.crossChecks ??= [];
  data.plan ??= null;
  data.schema = RESULTS_SCHEMA;
  return data;
}

/** The schema before backends carried descriptors. */
export const RESULTS_SCHEMA_V1 = 'isolab-results/1';

/**
 * A version-1 results file as version 2: each backend gets the descriptor this build has for its
 * name (resolved from the attributes recorded then), or null for a name it does not know.
 */
export function upgradeV1(data: ResultsFile): ResultsFile {
  for (const b of data.backends as (BackendInfo & { descriptor?: BackendDescriptor | null })[]) {
    if (b.descriptor !== undefined) continue;
    const d = registry.describe(b.name);
    b.descriptor = d ? resolveDescriptor(d, b.attributes) : null;
  }
  data.schema = RESULTS_SCHEMA;
  return data;
}
