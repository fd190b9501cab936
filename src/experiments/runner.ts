import { setMaxListeners } from 'node:events';
import { join } from 'node:path';
import { detectHostResources } from '../agent/host-resources.js';
import type { Backend } from '../backends/backend.js';
import type { Resources } from '../master/resources.js';
import { session } from '../session/session.js';
import { writeCorpus } from '../workload/corpus.js';
import { inspectBackends, registrySource, type BackendSource } from './backends.js';
import type { ExperimentContext, InputFile } from './context.js';
import { CROSS_CHECK_RUNS, emulated, planLines, planRun, planUnits } from './plan.js';
import { PlainCrossCheck } from './cross-checks.js';
import { runDensity } from './density.js';
import { collectEnvironment, environmentRef } from './environment.js';
import { Progress } from './progress.js';
import { ResultsStore } from './results-store.js';
import { measureSamplerCost } from './sampler.js';
import { densityStepsFor } from './settings.js';
import { runStartup } from './startup.js';
import { calibrationJob, fitBackend, runThroughput, throughputConfigs, type Calibration } from './throughput.js';
import { RESULTS_SCHEMA, type BackendInfo, type ResultsFile, type RunSettings } from './types.js';
import { errorMessage } from './util.js';

export { planUnits } from './plan.js';

/** Everything a run needs. */
export interface RunOptions {
  /** Folder for results.json (created). */
  outDir: string;
  /** What to run. */
  settings: RunSettings;
  /** Throughput input file; corpora of the planned sizes are generated when omitted. */
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
  /** Which per-backend settings the command line fixed (the plan leaves them alone). */
  given?: Partial<Record<'repeat' | 'sizes' | 'series' | 'throughputRepeat', boolean>>;
}

/** Fills the density steps of backends whose descriptor has its own (a TCG VM's few) unless the settings already name them. */
export function applyDescriptorSteps(s: RunSettings, backends: readonly Pick<BackendInfo, 'name' | 'descriptor'>[]): void {
  for (const b of backends) {
    if (b.descriptor?.densitySteps && !Object.hasOwn(s.densityStepsByBackend, b.name)) s.densityStepsByBackend[b.name] = [...b.descriptor.densitySteps];
  }
}

/**
 * The throughput inputs of a run. Backends that copy their input (an emulated VM's disk) get a
 * corpus of exactly the size (generated once per size); the others share one corpus file, as large
 * as the largest size asked for so far (regenerated larger when needed: the generator is
 * deterministic and streams, so a smaller size's bytes are the same prefix), each job counting its
 * first `bytes` bytes (the executor's logical size).
 */
class Inputs {
  private readonly made = new Map<number, Promise<InputFile>>();
  private shared?: { bytes: number; ready: Promise<string> };
  constructor(private readonly given: InputFile | undefined) {}

  get(bytes: number, copies: boolean): Promise<InputFile> {
    if (this.given) return Promise.resolve(this.given);
    if (!copies) return this.prefix(bytes);
    let p = this.made.get(bytes);
    if (!p) {
      p = (async () => {
        const path = join(session().tmpDir(), `throughput-${bytes}.txt`);
        await writeCorpus(path, { bytes, seed: 1 });
        return { path, bytes, description: `generated corpus, ${(bytes / 1e6).toFixed(1)} MB, seed 1` };
      })();
      this.made.set(bytes, p);
    }
    return p;
  }

  private async prefix(bytes: number): Promise<InputFile> {
    if (!this.shared || this.shared.bytes < bytes) {
      const before = this.shared?.ready;
      const path = join(session().tmpDir(), 'throughput-shared.txt');
      this.shared = { bytes, ready: (async () => {
        await before?.catch(() => undefined);
        await writeCorpus(path, { bytes, seed: 1 });
        return path;
      })() };
    }
    const path = await this.shared.ready;
    return { path, bytes, description: `generated corpus, seed 1, its first ${(bytes / 1e6).toFixed(1)} MB` };
  }
}

async function startupInput(s: RunSettings): Promise<InputFile> {
  const path = join(session().tmpDir(), 'startup-input.txt');
  await writeCorpus(path, { bytes: s.startupInputBytes, seed: 1 });
  return { path, bytes: s.startupInputBytes, description: `generated corpus, ${s.startupInputBytes} bytes, seed 1` };
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

/** Largest input the size correction picks (bytes): a P=1 map task holds its range in memory. */
const MAX_FIT_BYTES = 1.2e9;

/** Target lengths (s) of P=1 jobs at the two fit sizes: ≥ 2 s, and ≥ 4 s for the larger (the brief's question). */
const FIT_TARGETS_S = [2.5, 5] as const;

/** The two fit sizes from a calibration job's rate, so P=1 jobs last about `FIT_TARGETS_S`. */
export function sizesFromCalibration(c: Calibration): number[] {
  const rate = c.mbPerSecond * 1e6;
  return FIT_TARGETS_S.map((t) => Math.min(MAX_FIT_BYTES, Math.max(1e6, Math.round((Math.max(0.5, t - c.startupSeconds) * rate) / 1e6) * 1e6)));
}

/**
 * Calibrates the fit sizes of every backend that is not emulated (unless sizes were given): one
 * P=1 job each (a warm-up), then sizes so P=1 jobs last ~2.5 s and ~5 s; the larger is made common
 * to all of them (the largest), so the P = 1, 2, 4 comparison runs on one input for every such
 * backend (a process job at P=1 lasts ≥ 4 s there).
 */
async function calibrateSizes(
  ctx: ExperimentContext, backends: readonly BackendInfo[], get: (b: BackendInfo) => Promise<Backend | undefined>, inputs: Inputs, o: RunOptions,
): Promise<void> {
  const s = ctx.store.data.settings;
  const large: number[] = [];
  const calibrated: BackendInfo[] = [];
  for (const b of backends) {
    const unit = `throughput:${b.name}:calibrate`;
    const sizes = s.throughputSizesByBackend?.[b.name];
    const backend = await get(b);
    if (!backend || o.given?.sizes || o.inputFile || emulated(b) || !sizes || sizes.length < 2) {
      ctx.progress.drop((u) => u.id === unit);
      continue;
    }
    ctx.progress.start(unit);
    const c = await calibrationJob(ctx, b, backend, await inputs.get(sizes[0]!, false));
    ctx.progress.done(unit);
    if (!c) continue;
    const next = sizesFromCalibration(c);
    (s.throughputCalibration ??= {})[b.name] = c;
    o.log(`isolab: throughput ${b.name}: calibration job ${(c.bytes / 1e6).toFixed(0)} MB in ${c.jobSeconds.toFixed(2)} s (${c.mbPerSecond.toFixed(0)} MB/s after start-up): sizes ${next.map((x) => (x / 1e6).toFixed(0)).join(', ')} MB`);
    s.throughputSizesByBackend![b.name] = next;
    large.push(next[next.length - 1]!);
    calibrated.push(b);
  }
  if (calibrated.length === 0) return;
  const common = Math.max(...large);
  for (const b of calibrated) {
    const sizes = s.throughputSizesByBackend![b.name]!;
    sizes[sizes.length - 1] = common;
    s.throughputParallelBytes![b.name] = common;
  }
  o.log(`isolab: throughput: the P comparison runs on ${(common / 1e6).toFixed(0)} MB for ${calibrated.map((b) => b.name).join(', ')}`);
  ctx.store.save();
}

/**
 * Runs the chosen experiments on every usable backend, in order startup (with its launch series and
 * cross-checks), density, throughput (with the fixed-cost fits); unusable backends are recorded as
 * skipped with the reason. The plan is printed first. results.json is rewritten after every
 * configuration; on abort (SIGINT) it is left valid, marked interrupted, with what finished.
 */
export async function runExperiments(o: RunOptions): Promise<ResultsFile> {
  const src = o.source ?? registrySource;
  const s = o.settings;
  setMaxListeners(4096, o.signal);
  const [environment, backends] = await Promise.all([collectEnvironment(), inspectBackends(s.backends, src)]);
  s.backends = backends.map((b) => b.name);
  applyDescriptorSteps(s, backends);
  const agentResources = o.agentResources ?? (await detectHostResources());
  const usable = backends.filter((b) => b.usable);
  const plan = planRun(s, usable, { cores: agentResources.cpus, given: { ...o.given, ...(o.inputFile ? { sizes: true } : {}) } });
  if (o.inputFile) {
    for (const b of usable) {
      s.throughputSizesByBackend![b.name] = [o.inputFile.bytes];
      s.throughputParallelBytes![b.name] = o.inputFile.bytes;
    }
  }
  const now = new Date().toISOString();
  const data: ResultsFile = {
    schema: RESULTS_SCHEMA, status: 'running', startedAt: now, updatedAt: now, elapsedSeconds: 0, environment, settings: s,
    backends, startup: [], density: [], throughput: [], sampler: null, fits: [], crossChecks: [], plan,
  };
  const store = new ResultsStore(o.outDir, data);
  store.save();
  const sess = session();
  const undoInterrupt = sess.defer('write results.json of the interrupted run', () => {
    markInterrupted(store, errorMessage(o.signal.reason ?? 'interrupted'));
  });
  for (const b of backends) if (!b.usable) o.log(`isolab: backend ${b.name} SKIPPED: ${b.health}: ${b.description}`);
  for (const l of planLines(plan)) o.log(l);
  const samplerCostSeconds = o.samplerCostSeconds ?? 3;
  const progress = new Progress(o.log);
  progress.plan(planUnits(s, usable, samplerCostSeconds));
  try {
    const inputs = new Inputs(o.inputFile);
    const ctx: ExperimentContext = {
      store, progress, env: environmentRef(environment), signal: o.signal, agentResources,
      startupInput: s.experiments.includes('startup') ? await startupInput(s) : { path: '', bytes: 0, description: '' },
      throughputInput: o.inputFile ?? { path: '', bytes: 0, description: s.input }, log: o.log,
    };
    const get = async (b: BackendInfo): Promise<Backend | undefined> => (b.usable ? src.get(b.name) : undefined);
    for (const exp of s.experiments) {
      if (exp === 'startup') {
        for (const b of backends) {
          const backend = await get(b);
          const n = emulated(b) ? CROSS_CHECK_RUNS.emulated : CROSS_CHECK_RUNS.normal;
          const check = backend && s.crossChecks !== false ? await PlainCrossCheck.create(ctx, b, backend, n) : undefined;
          const unit = `xcheck:${b.name}`;
          if (!check) progress.drop((u) => u.id === unit);
          const r = await runStartup(ctx, b, backend, check ? (i, warm) => check.afterWarm(i, warm) : undefined);
          if (check) {
            progress.start(unit);
            data.crossChecks!.push(check.result(r));
            progress.done(unit);
            store.save();
          }
        }
      } else if (exp === 'density') {
        for (const b of backends) {
          const r = await runDensity(ctx, b, await get(b), densityStepsFor(s, b.name));
          if (r.pssCheck) data.crossChecks!.push(r.pssCheck);
        }
      } else {
        if (usable.length > 0) {
          progress.start('sampler');
          data.sampler = await measureSamplerCost(s.samplerHz, samplerCostSeconds, o.signal);
          progress.done('sampler');
          store.save();
        }
        await calibrateSizes(ctx, backends, get, inputs, o);
        for (const b of backends) {
          const backend = await get(b);
          const configs = throughputConfigs(s, b.name);
          for (let ci = 0; ci < configs.length; ci++) {
            const c = throughputConfigs(s, b.name)[ci]!;
            const input = backend ? await inputs.get(c.bytes, emulated(b)) : { path: '', bytes: c.bytes, description: s.input };
            await runThroughput(ctx, b, backend, c.parallelism, input, c.role, `throughput:${b.name}:c${ci}`);
            if (!backend) break;
          }
          if (backend) {
            data.fits!.push(fitBackend(b.name, data.throughput.find((x) => x.backend === b.name)?.accelerator ?? b.accelerator, data.throughput));
            store.save();
          }
        }
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
