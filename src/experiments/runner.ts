import { join } from 'node:path';
import { detectHostResources } from '../agent/host-resources.js';
import type { Backend } from '../backends/backend.js';
import type { Priors } from '../backends/descriptor.js';
import type { Resources } from '../master/resources.js';
import { session } from '../session/session.js';
import { writeCorpus } from '../workload/corpus.js';
import { inspectBackends, registrySource, type BackendSource } from './backends.js';
import type { ExperimentContext, InputFile } from './context.js';
import { runDensity } from './density.js';
import { collectEnvironment, environmentRef } from './environment.js';
import { Progress, type WorkUnit } from './progress.js';
import { ResultsStore } from './results-store.js';
import { measureSamplerCost } from './sampler.js';
import { densityStepsFor } from './settings.js';
import { runStartup } from './startup.js';
import { runThroughput } from './throughput.js';
import { RESULTS_SCHEMA, type BackendInfo, type ResultsFile, type RunSettings } from './types.js';
import { errorMessage } from './util.js';

/** Everything a run needs. */
export interface RunOptions {
  /** Folder for results.json (created). */
  outDir: string;
  /** What to run. */
  settings: RunSettings;
  /** Throughput input file; a corpus of `settings.inputBytes` is generated when omitted. */
  inputFile?: InputFile;
  /** Aborted on SIGINT/SIGTERM: the run stops, results.json keeps what finished. */
  signal: AbortSignal;
  /** Progress and diagnostics (stderr). */
  log: (line: string) => void;
  /** Backends; the registry when omitted. */
  source?: BackendSource;
  /** Seconds of each half of the sampler-cost measurement (default 3). */
  samplerCostSeconds?: number;
  /** Agent resources; detected from the host when omitted. */
  agentResources?: Resources;
}

/** Priors of a backend with no descriptor. */
const FALLBACK_PRIORS: Priors = { startupSeconds: 2, launchSeconds: 1, countMBps: 5 };

/** The work of a run, with prior estimates from each backend's descriptor, for the progress lines and ETA. */
export function planUnits(s: RunSettings, usable: readonly Pick<BackendInfo, 'name' | 'descriptor'>[], samplerCostSeconds: number): WorkUnit[] {
  const units: WorkUnit[] = [];
  for (const exp of s.experiments) {
    if (exp === 'startup') {
      for (const { name: b, descriptor } of usable) {
        const n = s.warmup + s.repeat;
        const prior = (descriptor?.priors ?? FALLBACK_PRIORS).startupSeconds;
        for (let i = 1; i <= n; i++) {
          const what = i <= s.warmup ? `warm-up ${i}/${s.warmup}` : `run ${i - s.warmup}/${s.repeat}`;
          units.push({ id: `startup:${b}:${i}`, kind: `startup:${b}`, label: `startup · ${b} · ${what}`, estimateS: prior });
        }
      }
    } else if (exp === 'density') {
      for (const { name: b, descriptor } of usable) {
        const per = (descriptor?.priors ?? FALLBACK_PRIORS).launchSeconds;
        for (const k of densityStepsFor(s, b)) {
          units.push({ id: `density:${b}:${k}:serial`, kind: `density:${b}`, label: `density · ${b} · K=${k} serial launch`, estimateS: 3 + per * k });
          units.push({ id: `density:${b}:${k}:parallel`, kind: `density:${b}`, label: `density · ${b} · K=${k} parallel launch`, estimateS: 3 + per * k * 0.7 });
        }
      }
    } else {
      if (usable.length > 0) units.push({ id: 'sampler', kind: 'sampler', label: 'throughput · measuring the sampler\'s own cost', estimateS: 2 * samplerCostSeconds });
      for (const { name: b, descriptor } of usable) {
        const pr = descriptor?.priors ?? FALLBACK_PRIORS;
        for (const p of s.parallelism) {
          for (let i = 1; i <= s.throughputRepeat; i++) {
            const est = pr.startupSeconds + s.inputBytes / 1e6 / pr.countMBps;
            units.push({ id: `throughput:${b}:${p}:${i}`, kind: `throughput:${b}`, label: `throughput · ${b} · P=${p} · job ${i}/${s.throughputRepeat}`, estimateS: est });
          }
        }
      }
    }
  }
  return units;
}

/** Fills the density steps of backends whose descriptor has its own (a TCG VM's few) unless the settings already name them. */
export function applyDescriptorSteps(s: RunSettings, backends: readonly Pick<BackendInfo, 'name' | 'descriptor'>[]): void {
  for (const b of backends) {
    if (b.descriptor?.densitySteps && !Object.hasOwn(s.densityStepsByBackend, b.name)) s.densityStepsByBackend[b.name] = [...b.descriptor.densitySteps];
  }
}

async function prepareInputs(s: RunSettings, given: InputFile | undefined): Promise<{ startup: InputFile; throughput: InputFile }> {
  const dir = session().tmpDir();
  const startupPath = join(dir, 'startup-input.txt');
  await writeCorpus(startupPath, { bytes: s.startupInputBytes, seed: 1 });
  const startup = { path: startupPath, bytes: s.startupInputBytes, description: `generated corpus, ${s.startupInputBytes} bytes, seed 1` };
  if (given || !s.experiments.includes('throughput')) return { startup, throughput: given ?? { path: '', bytes: 0, description: s.input } };
  const path = join(dir, 'throughput-input.txt');
  await writeCorpus(path, { bytes: s.inputBytes, seed: 1 });
  return { startup, throughput: { path, bytes: s.inputBytes, description: s.input } };
}

/** Marks what was still running as stopped, with the reason, and writes results.json. */
export function markInterrupted(store: ResultsStore, reason: string): void {
  const d = store.data;
  if (d.status === 'interrupted') return;
  for (const r of [...d.startup, ...d.density, ...d.throughput]) {
    if (r.status === 'partial') r.reason = r.reason ? `${reason}; ${r.reason}` : reason;
  }
  store.finish('interrupted', reason);
}

/**
 * Runs the chosen experiments on every usable backend, in order startup, density, throughput;
 * unusable backends are recorded as skipped with the reason. results.json is rewritten after every
 * configuration; on abort (SIGINT) it is left valid, marked interrupted, with what finished.
 */
export async function runExperiments(o: RunOptions): Promise<ResultsFile> {
  const src = o.source ?? registrySource;
  const s = o.settings;
  const [environment, backends] = await Promise.all([collectEnvironment(), inspectBackends(s.backends, src)]);
  s.backends = backends.map((b) => b.name);
  applyDescriptorSteps(s, backends);
  const now = new Date().toISOString();
  const data: ResultsFile = {
    schema: RESULTS_SCHEMA, status: 'running', startedAt: now, updatedAt: now, elapsedSeconds: 0, environment, settings: s,
    backends, startup: [], density: [], throughput: [], sampler: null,
  };
  const store = new ResultsStore(o.outDir, data);
  store.save();
  const sess = session();
  const undoInterrupt = sess.defer('write results.json of the interrupted run', () => {
    markInterrupted(store, errorMessage(o.signal.reason ?? 'interrupted'));
  });
  for (const b of backends) if (!b.usable) o.log(`isolab: backend ${b.name} SKIPPED: ${b.health}: ${b.description}`);
  const usable = backends.filter((b) => b.usable);
  const samplerCostSeconds = o.samplerCostSeconds ?? 3;
  const progress = new Progress(o.log);
  progress.plan(planUnits(s, usable, samplerCostSeconds));
  try {
    const inputs = await prepareInputs(s, o.inputFile);
    const ctx: ExperimentContext = {
      store, progress, env: environmentRef(environment), signal: o.signal,
      agentResources: o.agentResources ?? (await detectHostResources()),
      startupInput: inputs.startup, throughputInput: inputs.throughput, log: o.log,
    };
    const get = async (b: BackendInfo): Promise<Backend | undefined> => (b.usable ? src.get(b.name) : undefined);
    for (const exp of s.experiments) {
      if (exp === 'startup') {
        for (const b of backends) await runStartup(ctx, b, await get(b));
      } else if (exp === 'density') {
        for (const b of backends) await runDensity(ctx, b, await get(b), densityStepsFor(s, b.name));
      } else {
        if (usable.length > 0) {
          progress.start('sampler');
          data.sampler = await measureSamplerCost(s.samplerHz, samplerCostSeconds, o.signal);
          progress.done('sampler');
          store.save();
        }
        for (const b of backends) for (const p of s.parallelism) await runThroughput(ctx, b, await get(b), p);
      }
    }
    undoInterrupt();
    store.finish('complete');
    return data;
  } catch (err) {
    undoInterrupt();
    if (o.signal.aborted) {
      markInterrupted(store, errorMessage(o.signal.reason ?? err));
      throw o.signal.reason instanceof Error ? o.signal.reason : err;
    }
    store.finish('failed', errorMessage(err));
    throw err;
  }
}
