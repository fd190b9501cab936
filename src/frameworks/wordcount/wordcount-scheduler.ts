import type { TaskResultData } from '../../agent/agent.js';
import type { ExecutorTask } from '../../executor/protocol.js';
import { resultCounts, type CheckedCounts } from '../../executor/result-counts.js';
import { isTerminal } from '../../master/task-state.js';
import { contains, subtract, type Resources } from '../../master/resources.js';
import type { FrameworkDriver, Offer, Scheduler, TaskStatus } from '../../master/types.js';
import { mergeCanonical } from '../../workload/canonical.js';
import { parseCanonical, type Counts } from '../../workload/counts.js';
import { splitRanges } from '../../workload/split.js';

/** One wordcount job. */
export interface WordcountJob {
  /** Input path on the agent's host. */
  input: string;
  /** Input size in bytes. */
  size: number;
  /** Number of map tasks. */
  parallelism: number;
  /** Backend every map task runs on. */
  backend: string;
  /** Resources of each map task. */
  taskResources: Resources;
  /** Retries of a failed or lost map task before the job fails. Default 3. */
  maxRetries?: number;
  /** Per-task timeout (ms). */
  taskTimeoutMs?: number;
}

/** One finished (or finally failed) map task attempt. */
export interface MapAttempt {
  /** Map index (0..P-1). */
  index: number;
  /** Attempt number, from 1. */
  attempt: number;
  /** Task id. */
  taskId: string;
  /** Terminal state. */
  state: TaskStatus['state'];
  /** Why, for failures. */
  message?: string;
  /** The agent's result data. */
  data?: TaskResultData;
}

/** The reduced outcome of a job. */
export interface WordcountOutcome {
  /** The reduced canonical counts file (`<word>\t<count>\n` per distinct word, in byte order). */
  canonical: Buffer;
  /** Word occurrences. */
  words: number;
  /** Distinct words. */
  distinct: number;
  /** Merged counts, keyed by latin1-decoded word bytes (parsed from `canonical` on first use). */
  readonly counts: Counts;
  /** Every terminal map attempt, in completion order. */
  attempts: MapAttempt[];
  /** Time spent merging the maps' partial counts (ms). */
  mergeMs: number;
  /** Map ranges that held no bytes, so no task was launched for them. */
  emptyRanges: number;
}

interface MapTask {
  index: number;
  start: number;
  end: number;
  attempts: number;
  done: boolean;
  payload?: ExecutorTask;
}

/**
 * The wordcount framework's scheduler: one map task per byte range, reduce as results arrive.
 * Failed or lost map tasks are launched again (a new task id per attempt) up to `maxRetries` times.
 * Status updates are handled idempotently: an update for a task that is no longer live (a resent
 * duplicate, a late `running` after the terminal update, an old attempt) is acknowledged and ignored,
 * so each map range is merged exactly once.
 */
export class WordcountScheduler implements Scheduler {
  /** Resolves with the reduced counts, or rejects when a map task runs out of retries. */
  readonly outcome: Promise<WordcountOutcome>;
  private resolve!: (o: WordcountOutcome) => void;
  private reject!: (e: Error) => void;
  private readonly maps: MapTask[];
  private readonly pending: MapTask[];
  private readonly live = new Map<string, MapTask>();
  private readonly runs: CheckedCounts[] = [];
  private readonly attempts: MapAttempt[] = [];
  private remaining: number;
  private readonly emptyRanges: number;
  private ended = false;
  /** Map attempts started again after a failed or lost one. */
  retries = 0;
  /** Status updates ignored because their task was no longer live (duplicates, late or out-of-order). */
  ignoredUpdates = 0;

  constructor(private readonly job: WordcountJob) {
    this.outcome = new Promise((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
    this.maps = splitRanges(job.size, job.parallelism).map((r, index) => ({ index, start: r.start, end: r.end, attempts: 0, done: r.start >= r.end }));
    this.pending = this.maps.filter((m) => !m.done);
    this.emptyRanges = this.maps.length - this.pending.length;
    this.remaining = this.pending.length;
    if (this.remaining === 0) this.finish();
  }

  resourceOffers(driver: FrameworkDriver, offers: Offer[]): void {
    for (const offer of offers) {
      if (this.ended || this.pending.length === 0 || !offer.backends.includes(this.job.backend)) {
        driver.decline(offer.id, { refuseSeconds: this.pending.length === 0 ? 60 : 5 });
        continue;
      }
      let left = offer.resources;
      const launches = [];
      while (this.pending.length > 0 && contains(left, this.job.taskResources)) {
        const m = this.pending.shift()!;
        m.attempts++;
        const taskId = `map-${m.index}-${m.attempts}`;
        this.live.set(taskId, m);
        left = subtract(left, this.job.taskResources);
        const payload: ExecutorTask = { taskId, mode: 'wordcount', input: this.job.input, start: m.start, end: m.end, size: this.job.size };
        m.payload = payload;
        launches.push({ taskId, name: `wordcount map ${m.index}`, resources: this.job.taskResources, backend: this.job.backend, payload, timeoutMs: this.job.taskTimeoutMs });
      }
      if (launches.length === 0) driver.decline(offer.id, { refuseSeconds: 1 });
      else driver.accept(offer.id, launches, { refuseSeconds: 1 });
    }
    if (this.pending.length === 0) driver.suppress();
  }

  statusUpdate(driver: FrameworkDriver, status: TaskStatus): void {
    driver.acknowledge(status);
    const m = this.live.get(status.taskId);
    if (!m) {
      this.ignoredUpdates++;
      return;
    }
    if (!isTerminal(status.state)) return;
    this.live.delete(status.taskId);
    const data = status.data as TaskResultData | undefined;
    this.attempts.push({ index: m.index, attempt: m.attempts, taskId: status.taskId, state: status.state, message: status.message, data });
    if (this.ended || m.done) return;
    let why = status.state === 'finished' ? 'finished without a result' : `${status.state}: ${status.message ?? 'no reason given'}`;
    if (status.state === 'finished' && data?.result) {
      try {
        this.runs[m.index] = resultCounts(data.result, m.payload!);
        m.done = true;
        if (--this.remaining === 0) this.finish();
        return;
      } catch (err) {
        why = `finished with a malformed result: ${(err as Error).message}`;
        Object.assign(this.attempts[this.attempts.length - 1]!, { state: 'failed', message: why });
      }
    }
    if (status.state === 'killed') return this.fail(`map task ${m.index} was killed: ${why}`);
    const maxRetries = this.job.maxRetries ?? 3;
    if (m.attempts > maxRetries) {
      return this.fail(`map task ${m.index} ran out of retries: ${m.attempts} attempts failed (--max-retries ${maxRetries}); last ${why}`);
    }
    this.retries++;
    this.pending.push(m);
    driver.revive();
  }

  private finish(): void {
    this.ended = true;
    const t0 = performance.now();
    let merged: CheckedCounts;
    try {
      const runs = this.runs.filter((r) => r !== undefined && r.canonical.length > 0);
      merged = runs.length === 1 ? runs[0]! : mergeCanonical(runs.map((r) => r.canonical));
    } catch (err) {
      this.reject(new Error(`cannot merge the map results: ${(err as Error).message}`));
      return;
    }
    const mergeMs = performance.now() - t0;
    let parsed: Counts | undefined;
    this.resolve({
      ...merged, attempts: this.attempts, mergeMs, emptyRanges: this.emptyRanges,
      get counts(): Counts {
        parsed ??= parseCanonical(merged.canonical);
        return parsed;
      },
    });
  }

  private fail(message: string): void {
    this.ended = true;
    this.reject(new Error(message));
  }
}
