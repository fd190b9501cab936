import type { Clock, Timer } from './clock.js';
import type { TaskStatus } from './types.js';

/** Settings of status update delivery. */
export interface StatusUpdateOptions {
  /** Time source for resends. */
  clock: Clock;
  /**
   * First resend delay of an unacknowledged update (ms); doubles on each resend up to maxRetryMs.
   * null or <= 0: updates are sent once, in order, without waiting for acknowledgements.
   */
  retryMs: number | null;
  /** Longest resend delay (ms). */
  maxRetryMs: number;
  /**
   * Hands an update to its framework's scheduler. Returns false when the framework cannot be reached
   * now (disconnected): the update waits for resume().
   */
  deliver(status: TaskStatus): boolean;
  /** Counts resends. */
  onResend?(): void;
  /** Counts acknowledgements that matched the update waiting for one. */
  onAcknowledged?(): void;
}

/** The updates of one task not yet acknowledged; the first is the one sent (Mesos' status update stream). */
interface Stream {
  frameworkId: string;
  taskId: string;
  queue: TaskStatus[];
  /** True once queue[0] has been handed to the framework. */
  sent: boolean;
  delay: number;
  timer?: Timer;
}

/** An update being handed to a framework right now (deliveries nest when a callback causes another update). */
interface Delivery {
  status: TaskStatus;
  acked: boolean;
  stream?: Stream;
}

/**
 * Delivers status updates to frameworks after Mesos' status update manager: per task, in order; the
 * next update of a task is sent only after the framework acknowledged the previous one; an
 * unacknowledged update is resent with exponential back-off, one timer per task. An update that is
 * acknowledged while it is being delivered (the usual case in-process) never creates a stream or a timer.
 */
export class StatusUpdateManager {
  private readonly streams = new Map<string, Map<string, Stream>>();
  private readonly delivering: Delivery[] = [];
  private count = 0;
  private stopped = false;

  constructor(private readonly opts: StatusUpdateOptions) {}

  /** Updates waiting for an acknowledgement (or for their turn). */
  get pending(): number {
    return this.count;
  }

  /** Queues an update of a task; sends it now when none of the task's earlier updates is waiting. */
  enqueue(status: TaskStatus): void {
    if (!this.ordered()) {
      this.send(status);
      return;
    }
    let st = this.stream(status.frameworkId, status.taskId);
    if (!st) {
      const d = this.inFlight(status.frameworkId, status.taskId);
      if (d) st = this.open(d.status, true, d);
    }
    if (st) {
      st.queue.push(status);
      this.count++;
      return;
    }
    this.send(status);
  }

  /**
   * A framework acknowledged an update. Returns true when it was the update waiting for an
   * acknowledgement; the task's next update is sent then.
   */
  acknowledge(frameworkId: string, taskId: string, uuid: string): boolean {
    if (!uuid) return false;
    for (let i = this.delivering.length - 1; i >= 0; i--) {
      const d = this.delivering[i]!;
      if (!d.acked && d.status.uuid === uuid && d.status.frameworkId === frameworkId && d.status.taskId === taskId) {
        d.acked = true;
        this.opts.onAcknowledged?.();
        return true;
      }
    }
    const st = this.stream(frameworkId, taskId);
    if (!st || !st.sent || st.queue[0]?.uuid !== uuid) return false;
    this.opts.onAcknowledged?.();
    this.advance(st);
    return true;
  }

  /** The framework (re)connected: the first waiting update of each of its tasks is sent again now. */
  resume(frameworkId: string): void {
    const table = this.streams.get(frameworkId);
    if (!table) return;
    for (const st of [...table.values()]) {
      if (this.stream(frameworkId, st.taskId) !== st || this.isDelivering(st)) continue;
      st.timer?.cancel();
      st.timer = undefined;
      st.delay = this.opts.retryMs ?? 0;
      this.sendHead(st, false);
    }
  }

  /** Forgets every update of a framework (torn down). */
  dropFramework(frameworkId: string): void {
    const table = this.streams.get(frameworkId);
    if (!table) return;
    for (const st of table.values()) {
      st.timer?.cancel();
      this.count -= st.queue.length;
    }
    this.streams.delete(frameworkId);
  }

  /** The updates waiting for a framework, oldest first per task. */
  waiting(frameworkId?: string): TaskStatus[] {
    const out: TaskStatus[] = [];
    for (const [fid, table] of this.streams) {
      if (frameworkId !== undefined && fid !== frameworkId) continue;
      for (const st of table.values()) out.push(...st.queue);
    }
    return out;
  }

  /** Cancels every resend timer; nothing is sent again until resume() or a new update. */
  stop(): void {
    this.stopped = true;
    for (const table of this.streams.values()) {
      for (const st of table.values()) {
        st.timer?.cancel();
        st.timer = undefined;
      }
    }
  }

  private ordered(): boolean {
    return this.opts.retryMs !== null && this.opts.retryMs > 0;
  }

  private stream(frameworkId: string, taskId: string): Stream | undefined {
    return this.streams.get(frameworkId)?.get(taskId);
  }

  private inFlight(frameworkId: string, taskId: string): Delivery | undefined {
    for (let i = this.delivering.length - 1; i >= 0; i--) {
      const d = this.delivering[i]!;
      if (!d.acked && !d.stream && d.status.frameworkId === frameworkId && d.status.taskId === taskId) return d;
    }
    return undefined;
  }

  private isDelivering(st: Stream): boolean {
    for (const d of this.delivering) if (d.stream === st) return true;
    return false;
  }

  /** Starts a stream whose first update is `head` (already handed over when `sent`). */
  private open(head: TaskStatus, sent: boolean, delivery?: Delivery): Stream {
    const st: Stream = { frameworkId: head.frameworkId, taskId: head.taskId, queue: [head], sent, delay: this.opts.retryMs ?? 0 };
    let table = this.streams.get(head.frameworkId);
    if (!table) this.streams.set(head.frameworkId, (table = new Map()));
    table.set(head.taskId, st);
    this.count++;
    if (delivery) delivery.stream = st;
    return st;
  }

  /** Hands one update over; returns whether it was acknowledged during the hand-over, and whether it was handed over at all. */
  private handOver(status: TaskStatus, stream?: Stream): { acked: boolean; delivered: boolean } {
    const d: Delivery = { status, acked: false, stream };
    this.delivering.push(d);
    let delivered = false;
    try {
      delivered = this.opts.deliver(status);
    } finally {
      this.delivering.pop();
    }
    return { acked: d.acked, delivered };
  }

  /** Sends an update with no stream behind it (the fast path). */
  private send(status: TaskStatus): void {
    const d: Delivery = { status, acked: false };
    this.delivering.push(d);
    let delivered = false;
    try {
      delivered = this.opts.deliver(status);
    } finally {
      this.delivering.pop();
    }
    if (!this.ordered()) return;
    const st = d.stream;
    if (d.acked) {
      if (st) this.advance(st);
      return;
    }
    const stream = st ?? this.open(status, delivered);
    stream.sent = delivered;
    if (delivered) this.arm(stream);
  }

  /** Sends the stream's first update (again). */
  private sendHead(st: Stream, resend: boolean): void {
    const head = st.queue[0];
    if (!head) return;
    if (resend) this.opts.onResend?.();
    const r = this.handOver(head, st);
    if (this.stream(st.frameworkId, st.taskId) !== st || st.queue[0] !== head) return;
    st.sent = r.delivered || st.sent;
    if (r.acked) {
      this.advance(st);
      return;
    }
    if (r.delivered) this.arm(st);
  }

  /** The stream's first update was acknowledged: drop it and send the next, or close the stream. */
  private advance(st: Stream): void {
    st.timer?.cancel();
    st.timer = undefined;
    st.queue.shift();
    this.count--;
    st.sent = false;
    st.delay = this.opts.retryMs ?? 0;
    if (st.queue.length === 0) {
      const table = this.streams.get(st.frameworkId);
      table?.delete(st.taskId);
      if (table && table.size === 0) this.streams.delete(st.frameworkId);
      return;
    }
    this.sendHead(st, false);
  }

  private arm(st: Stream): void {
    if (this.stopped) return;
    st.timer?.cancel();
    const delay = st.delay;
    st.timer = this.opts.clock.setTimer(delay, () => {
      st.timer = undefined;
      if (this.stream(st.frameworkId, st.taskId) !== st) return;
      st.delay = Math.min(delay * 2, this.opts.maxRetryMs);
      this.sendHead(st, true);
    });
  }

  /** Allows resend timers again (after stop(), when the master starts again). */
  restart(): void {
    this.stopped = false;
  }
}
