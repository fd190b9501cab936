import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isTerminal, type TaskState } from '../../master/task-state.js';
import type { TaskStatus } from '../../master/types.js';

/** Sends one update to the master; resolves true once acknowledged, false to try again later. */
export type SendUpdate = (status: TaskStatus) => Promise<boolean>;

/** Settings of an agent's status update manager. */
export interface AgentUpdatesOptions {
  /** Folder of the per-task update files (in the agent's work dir). */
  dir: string;
  /** How an update reaches the master. */
  send: SendUpdate;
  /** First retry delay (ms), doubling. Default 500. */
  retryMs?: number;
  /** Longest retry delay (ms). Default 10000. */
  maxRetryMs?: number;
}

/** A task's update stream as found on disk after a restart. */
export interface RecoveredStream {
  /** Task id. */
  taskId: string;
  /** Owning framework. */
  frameworkId: string;
  /** State of the last update the master acknowledged, if any. */
  acked?: TaskState;
  /** State of the latest update recorded (acknowledged or not), if any. */
  latest?: TaskState;
}

interface Stream {
  taskId: string;
  frameworkId: string;
  file: string;
  queue: TaskStatus[];
  acked?: TaskState;
  inflight: boolean;
  delay: number;
  timer?: NodeJS.Timeout;
}

type Line = { task: { taskId: string; frameworkId: string } } | { update: TaskStatus } | { ack: string };

/**
 * The agent's status update manager (Mesos' src/status_update_manager on the agent): one stream of
 * updates per task, sent in order, the next one only after the master acknowledged the previous;
 * an update that is not acknowledged is sent again with back-off (500 ms doubling to 10 s) while
 * the agent is subscribed. Every update and acknowledgement is appended to the task's file in the
 * work dir before it is sent, so an agent restart loses none; a task's file goes once its terminal
 * update is acknowledged.
 */
export class AgentStatusUpdates {
  private readonly streams = new Map<string, Stream>();
  private running = false;
  private stopped = false;
  private readonly retryMs: number;
  private readonly maxRetryMs: number;

  constructor(private readonly opts: AgentUpdatesOptions) {
    mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
    this.retryMs = opts.retryMs ?? 500;
    this.maxRetryMs = opts.maxRetryMs ?? 10_000;
  }

  /** Reads the streams a previous run left (their unacknowledged updates are queued again); call before anything else. */
  recover(): RecoveredStream[] {
    const out: RecoveredStream[] = [];
    for (const name of readdirSync(this.opts.dir)) {
      if (!name.endsWith('.jsonl')) continue;
      const file = join(this.opts.dir, name);
      let head: { taskId: string; frameworkId: string } | undefined;
      const updates: TaskStatus[] = [];
      const acks = new Set<string>();
      for (const text of readFileSync(file, 'utf8').split('\n')) {
        if (!text) continue;
        let l: Line;
        try {
          l = JSON.parse(text) as Line;
        } catch {
          continue; // a line cut by a crash mid-write: the update was not sent yet, or is sent again
        }
        if ('task' in l) head = l.task;
        else if ('update' in l) updates.push(l.update);
        else if ('ack' in l) acks.add(l.ack);
      }
      if (!head) {
        rmSync(file, { force: true });
        continue;
      }
      const s: Stream = { ...head, file, queue: [], inflight: false, delay: this.retryMs };
      for (const u of updates) {
        if (acks.has(u.uuid)) s.acked = u.state;
        else s.queue.push(u);
      }
      if (s.queue.length === 0 && s.acked !== undefined && isTerminal(s.acked)) {
        rmSync(file, { force: true });
        continue;
      }
      this.streams.set(this.key(head.frameworkId, head.taskId), s);
      out.push({ ...head, acked: s.acked, latest: updates[updates.length - 1]?.state });
    }
    return out;
  }

  /** Notes a task as launched here (its stream exists from now on, even before its first update). */
  launched(taskId: string, frameworkId: string): void {
    this.stream(taskId, frameworkId);
  }

  /** Records an update and sends it when its turn comes. */
  update(status: TaskStatus): void {
    if (this.stopped) return;
    const s = this.stream(status.taskId, status.frameworkId);
    appendFileSync(s.file, JSON.stringify({ update: status }) + '\n');
    s.queue.push(status);
    this.pump(s);
  }

  /** The agent is subscribed: streams send (at once, whatever their back-off). */
  resume(): void {
    this.running = true;
    for (const s of this.streams.values()) {
      if (s.timer) clearTimeout(s.timer);
      s.timer = undefined;
      s.delay = this.retryMs;
      this.pump(s);
    }
  }

  /** The agent lost its subscription: nothing is sent until resume(). */
  pause(): void {
    this.running = false;
  }

  /** Stops every retry timer for good. */
  stop(): void {
    this.stopped = true;
    this.running = false;
    for (const s of this.streams.values()) if (s.timer) clearTimeout(s.timer);
  }

  /** State of the task's last acknowledged update; undefined when none was (or there is no stream). */
  acked(frameworkId: string, taskId: string): TaskState | undefined {
    return this.streams.get(this.key(frameworkId, taskId))?.acked;
  }

  /** Tasks that have a stream (launched here, or with updates waiting). */
  tasks(): { taskId: string; frameworkId: string }[] {
    return [...this.streams.values()].map((s) => ({ taskId: s.taskId, frameworkId: s.frameworkId }));
  }

  /** Updates waiting for an acknowledgement, over all tasks. */
  get pending(): number {
    let n = 0;
    for (const s of this.streams.values()) n += s.queue.length;
    return n;
  }

  private key(frameworkId: string, taskId: string): string {
    return `${frameworkId}\u0000${taskId}`;
  }

  private stream(taskId: string, frameworkId: string): Stream {
    const key = this.key(frameworkId, taskId);
    let s = this.streams.get(key);
    if (!s) {
      const file = join(this.opts.dir, `${createHash('sha256').update(key).digest('hex').slice(0, 32)}.jsonl`);
      appendFileSync(file, JSON.stringify({ task: { taskId, frameworkId } }) + '\n', { mode: 0o600 });
      s = { taskId, frameworkId, file, queue: [], inflight: false, delay: this.retryMs };
      this.streams.set(key, s);
    }
    return s;
  }

  private pump(s: Stream): void {
    if (!this.running || this.stopped || s.inflight || s.timer || s.queue.length === 0) return;
    const head = s.queue[0]!;
    s.inflight = true;
    this.opts.send(head).then((ok) => ok, () => false).then((ok) => {
      s.inflight = false;
      if (this.stopped) return;
      if (!ok) {
        s.timer = setTimeout(() => {
          s.timer = undefined;
          this.pump(s);
        }, s.delay);
        s.delay = Math.min(s.delay * 2, this.maxRetryMs);
        return;
      }
      s.delay = this.retryMs;
      s.queue.shift();
      s.acked = head.state;
      if (isTerminal(head.state) && s.queue.length === 0) {
        rmSync(s.file, { force: true });
        this.streams.delete(this.key(s.frameworkId, s.taskId));
        return;
      }
      appendFileSync(s.file, JSON.stringify({ ack: head.uuid }) + '\n');
      this.pump(s);
    });
  }
}
