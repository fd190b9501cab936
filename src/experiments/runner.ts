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
import { plainCrossCheck } from './cross-checks.js';
import { runDensity } from './density.js';
import { collectEnvironment, environmentRef } from './environment.js';
import { Progress } from './progress.js';
import { ResultsStore } from './results-store.js';
import { measureSamplerCost } from './sampler.js';
import { densityStepsFor } from './settings.js';
import { runStartup } from './startup.js';
import { fitBackend, runThroughput, throughputConfigs } from './throughput.js';
import { RESULTS_SCHEMA, type BackendInfo, type ResultsFile, type RunSettings, type ThroughputResult } from './types.js';
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

/** Generates (once per size) the corpus inputs of a run. */
class Inputs {
  private readonly made = new Map<number, Promise<InputFile>>();
  constructor(private readonly given: InputFile | undefined) {}

  get(bytes: number): Promise<InputFile> {
    if (this.given) return Promise.resolve(this.given);
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

/** Target length (s) of a P=1 job at the larger fit size: the brief's question needs ≥ 4 s. */
const LARGE_JOB_TARGET_S = 5;

/**
 * After the smallest size of a backend ran at P=1, corrects its larger size (when not given) so its
 * P=1 job lasts about `LARGE_JOB_TARGET_S` at the measured rate: priors can be off by a few times.
 */
function refineLargeSize(s: RunSettings, b: BackendInfo, small: ThroughputResult, log: (l: string) => void): void {
  const sizes = s.throughputSizesByBackend?.[b.name];
  if (!sizes || sizes.length < 2 || emulated(b)) return;
  const steady = small.summary.steadySeconds.median;
  const start = small.summary.startupSeconds.median ?? 0;
  if (!steady || steady <= 0) return;
  const rate = small.bytes / steady;
  const wanted = Math.round(((LARGE_JOB_TARGET_S - start) * rate) / 1e5) * 1e5;
  const large = sizes[sizes.length - 1]!;
  if (wanted > large * 1.25 || wanted < large * 0.5) {
    const next = Math.max(small.bytes * 2, Math.min(wanted, 2e9));
    sizes[sizes.length - 1] = next;
    if (s.throughputParallelBytes?.[b.name] === large) s.throughputParallelBytes[b.name] = next;
    log(`isolab: throughput ${b.name}: measured ${(rate / 1e6).toFixed(1)} MB/s at ${(small.bytes / 1e6).toFixed(1)} MB; larger size ${(large / 1e6).toFixed(1)} → ${(next / 1e6).toFixed(1)} MB so a P=1 job lasts ~${LARGE_JOB_TARGET_S} s`);
  }
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
          const r = await runStartup(ctx, b, backend);
          const unit = `xcheck:${b.name}`;
          if (!backend) continue;
          if (s.crossChecks === false || !backend.plainCommand || r.status === 'failed') {
            progress.drop((u) => u.id === unit);
            continue;
          }
          progress.start(unit);
          const n = emulated(b) ? CROSS_CHECK_RUNS.emulated : CROSS_CHECK_RUNS.normal;
          const c = await plainCrossCheck(ctx, b, backend, r, n).catch((err: unknown) => {
            if (o.signal.aborted) throw err;
            o.log(`isolab: cross-check ${b.name} failed: ${errorMessage(err)}`);
            return null;
          });
          progress.done(unit);
          if (c) data.crossChecks!.push(c);
          store.save();
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
        for (const b of backends) {
          const backend = await get(b);
          const configs = throughputConfigs(s, b.name);
          for (let ci = 0; ci < configs.length; ci++) {
            const c = throughputConfigs(s, b.name)[ci]!;
            const input = backend ? await inputs.get(c.bytes) : { path: '', bytes: c.bytes, description: s.input };
            const r = await runThroughput(ctx, b, backend, c.parallelism, input, c.role, `throughput:${b.name}:c${ci}`);
            if (ci === 0 && c.parallelism === 1 && !o.given?.sizes && !o.inputFile) refineLargeSize(s, b, r, o.log);
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
