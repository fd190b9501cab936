import { hostname } from 'node:os';
import { LocalAgent, type TaskEnd } from '../../agent/agent.js';
import { detectHostResources } from '../../agent/host-resources.js';
import type { Backend } from '../../backends/backend.js';
import { startApiServer, type ApiServer } from '../../http/server.js';
import { Master } from '../../master/master.js';
import type { Resources } from '../../master/resources.js';
import { canonicalBytes, sha256Hex, summarize, type Counts } from '../../workload/counts.js';
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

/** What a wordcount job produced. */
export interface JobResult {
  /** Reduced counts. */
  counts: Counts;
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
  /**
   * Each task's complete record after its teardown (phases to `cleaned`, exit, the isolation
   * layer's accounting), for the tasks that ended before the job returned.
   */
  taskEnds: TaskEnd[];
  /** Seconds from the last map result merged (the job's end) to the last task's teardown done. */
  teardownSeconds: number | null;
}

/** Runs one wordcount job end to end and tears the master down. */
export async function runWordcountJob(o: RunJobOptions): Promise<JobResult> {
  const agentResources = o.agentResources ?? (await detectHostResources());
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
      api = await startApiServer(master, { port, host });
    } catch (err) {
      agent.shutdown('job not started');
      master.stop();
      throw new Error(`cannot serve the master API on ${host}:${port}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    o.onHttp?.(api.url);
  }
  const t0 = performance.now();
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
    t1 = performance.now();
    const seconds = (t1 - t0) / 1000;
    const canonical = canonicalBytes(outcome.counts);
    const s = summarize(outcome.counts);
    result = {
      counts: outcome.counts, canonical, sha256: sha256Hex(canonical), words: s.words, distinct: s.distinct, bytes: o.size,
      seconds, attempts: outcome.attempts, agentResources, taskEnds, teardownSeconds: null,
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

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (!cond() && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  return cond();
}
