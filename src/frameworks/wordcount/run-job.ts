import { hostname } from 'node:os';
import { LocalAgent, type TaskEnd } from '../../agent/agent.js';
import type { Backend } from '../../backends/backend.js';
import type { ApiServer } from '../../http/server.js';
import { Master } from '../../master/master.js';
import type { Resources } from '../../master/resources.js';
import { sha256Hex, type Counts } from '../../workload/counts.js';
import { WordcountScheduler, type MapAttempt } from './wordcount-scheduler.js';

/** A wordcount run on an embedded master with one local agent. */
export interface RunJobOptions {
  /** Input file path. */
  input: string;
  /** Input size in bytes. */
  size: number;
  /** Number of map tasks. */
  parallelism: number;
  /** The backend to run map tasks on. */
  backend: Backend;
  /** Resources of each map task. */
  taskResources: Resources;
  /** Resources of the agent; detected from the host when omitted. */
  agentResources?: Resources;
  /** Retries per map task. */
  maxRetries?: number;
  /** Per-task timeout (ms). */
  taskTimeoutMs?: number;
  /** Aborts the job: running tasks are killed and cleaned up. */
  signal?: AbortSignal;
  /** Called with the master once it runs (e.g. to serve its HTTP API). */
  onMaster?: (m: Master) => void;
  /** Serve the master's HTTP API (/state, /metrics/snapshot) while the job runs. */
  http?: { port: number; host?: string };
  /** Called with the API's base URL once it listens. */
  onHttp?: (url: string) => void;
}

/**
 * Where a job's time went (ms), along the map task that finished last (for P = 1, the whole job):
 * `launch` from the job's start to its executor's ready message (offer, start of the instance and
 * its runtime); `read`, `count`, `sort`, `encode` as the executor measured them; `transfer` from
 * the ready message to the result line's arrival, less the executor's stages (writing the line
 * through the backend's stream); `decode` checking and decoding the result in the agent; `exit`
 * from there to the task's terminal status (the executor exits, the backend removes the
 * instance); `merge` of the maps' partial counts; `hash` of the canonical file.
 */
export interface JobStages {
  /** Job start to the executor's ready message. */
  launch: number;
  /** Executor: reading its range. */
  read: number;
  /** Executor: counting. */
  count: number;
  /** Executor: sorting and writing its canonical partial counts. */
  sort: number;
  /** Executor: encoding the result message. */
  encode: number;
  /** The result line crossing the backend's stream. */
  transfer: number;
  /** Agent: decoding and checking the result. */
  decode: number;
  /** Executor exit and instance removal, up to the terminal status. */
  exit: number;
  /** Merging the partial counts. */
  merge: number;
  /** SHA-256 of the canonical file. */
  hash: number;
}

/** What a wordcount job produced. */
export interface JobResult {
  /** Reduced counts, keyed by latin1 word bytes (parsed from `canonical` on first use). */
  readonly counts: Counts;
  /** The canonical counts file's bytes. */
  canonical: Buffer;
  /** sha256 of the canonical bytes. */
  sha256: string;
  /** Word occurrences. */
  words: number;
  /** Distinct words. */
  distinct: number;
  /** Input bytes. */
  bytes: number;
  /** Wall seconds from framework registration to the last map result merged. */
  seconds: number;
  /** Every terminal map attempt. */
  attempts: MapAttempt[];
  /** Agent resources used. */
  agentResources: Resources;
  /** Where the time went. */
  stagesMs: JobStages;
  /** Map ranges with no bytes, for which no task was launched. */
  emptyRanges: number;
  /**
   * Each task's complete record after its teardown (phases to `cleaned`, exit, the isolation
   * layer's accounting), for the tasks that ended before the job returned.
   */
  taskEnds: TaskEnd[];
  /** Seconds from the last map result merged (the job's end) to the last task's teardown done; null when it did not end in time. */
  teardownSeconds: number | null;
}

/** Runs one wordcount job end to end and tears the master down. */
export async function runWordcountJob(o: RunJobOptions): Promise<JobResult> {
  const agentResources = o.agentResources ?? (await (await import('../../agent/host-resources.js')).detectHostResources());
  const master = new Master();
  const agent = new LocalAgent(master, new Map([[o.backend.name, o.backend]]), o.signal);
  const taskEnds: TaskEnd[] = [];
  agent.onTaskEnd((e) => taskEnds.push(e));
  agent.register({ hostname: hostname(), resources: agentResources });
  master.start();
  o.onMaster?.(master);
  let api: ApiServer | undefined;
  if (o.http) {
    const { port, host = '127.0.0.1' } = o.http;
    try {
      const { startApiServer } = await import('../../http/server.js');
      api = await startApiServer(master, { port, host });
    } catch (err) {
      agent.shutdown('job not started');
      master.stop();
      throw new Error(`cannot serve the master API on ${host}:${port}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    o.onHttp?.(api.url);
  }
  const t0 = performance.now();
  const startedAt = master.clock.now();
  const scheduler = new WordcountScheduler({
    input: o.input, size: o.size, parallelism: o.parallelism, backend: o.backend.name, taskResources: o.taskResources,
    maxRetries: o.maxRetries, taskTimeoutMs: o.taskTimeoutMs,
  });
  const driver = master.registerFramework(scheduler, { name: 'wordcount' });
  const aborted = new Promise<never>((_, reject) => {
    if (o.signal?.aborted) reject(o.signal.reason as Error);
    o.signal?.addEventListener('abort', () => reject(o.signal!.reason as Error), { once: true });
  });
  let result: JobResult | undefined;
  let t1 = 0;
  try {
    const outcome = await Promise.race([scheduler.outcome, aborted]);
    const resolvedAt = master.clock.now();
    t1 = performance.now();
    const seconds = (t1 - t0) / 1000;
    const h0 = performance.now();
    const sha256 = sha256Hex(outcome.canonical);
    const hashMs = performance.now() - h0;
    result = {
      get counts(): Counts {
        return outcome.counts;
      },
      canonical: outcome.canonical, sha256, words: outcome.words, distinct: outcome.distinct, bytes: o.size,
      seconds, attempts: outcome.attempts, agentResources, emptyRanges: outcome.emptyRanges,
      stagesMs: jobStages(outcome.attempts, startedAt, resolvedAt - outcome.mergeMs, outcome.mergeMs, hashMs),
      taskEnds, teardownSeconds: null,
    };
    return result;
  } finally {
    driver.teardown();
    const allEnded = await waitFor(() => agent.activeTasks === 0, 60_000);
    if (result && allEnded) result.teardownSeconds = (performance.now() - t1) / 1000;
    master.stop();
    await api?.close();
  }
}

const r3 = (x: number): number => Math.round(x * 1000) / 1000;

/** The stages of the last map to finish; see {@link JobStages}. Missing marks count as 0. */
export function jobStages(attempts: MapAttempt[], startedAt: number, doneAt: number, mergeMs: number, hashMs: number): JobStages {
  const last = [...attempts].reverse().find((a) => a.state === 'finished' && a.data?.result);
  const ph = last?.data?.phases ?? {};
  const ex = last?.data?.result?.stagesMs ?? { read: 0, count: last?.data?.result?.countMs ?? 0, sort: 0, encode: 0 };
  const ready = ph.ready ?? startedAt;
  const arrived = ph.firstResult ?? ready;
  const checked = ph.resultChecked ?? arrived;
  return {
    launch: r3(last ? ready - startedAt : 0), read: r3(ex.read), count: r3(ex.count), sort: r3(ex.sort), encode: r3(ex.encode),
    transfer: r3(last ? arrived - ready - ex.read - ex.count - ex.sort - ex.encode : 0), decode: r3(checked - arrived),
    exit: r3(last ? doneAt - checked : 0), merge: r3(mergeMs), hash: r3(hashMs),
  };
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (!cond() && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  return cond();
}
