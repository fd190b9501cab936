import type { Clock, Timer } from './clock.js';

/** Longest delay between two sends of an unanswered kill (ms). */
export const MAX_KILL_RETRY_MS = 60_000;

/** Settings of kill retries. */
export interface KillRetryOptions {
  /** Time source. */
  clock: Clock;
  /** First resend delay (ms), doubling up to MAX_KILL_RETRY_MS; null or <= 0: kills are sent once. */
  retryMs: number | null;
  /** Sends a kill to an agent, if it is still registered; returns false when it is not. */
  send(agentId: string, frameworkId: string, taskId: string): boolean;
  /** Counts resends. */
  onResend?(): void;
}

/**
 * Kills the master sent and the agents have not answered yet (teardown, or a task an agent should
 * not run): each is resent with back-off until the agent reports the task terminal, the agent leaves,
 * or the master stops.
 */
export class KillRetries {
  private readonly pending = new Map<string, Map<string, { frameworkId: string; taskId: string }>>();
  private timer?: Timer;
  private delay: number;
  private stopped = false;

  constructor(private readonly opts: KillRetryOptions) {
    this.delay = opts.retryMs ?? 0;
  }

  /** Kills not answered yet. */
  get size(): number {
    let n = 0;
    for (const m of this.pending.values()) n += m.size;
    return n;
  }

  /** Sends a kill now and keeps it until answered. */
  kill(agentId: string, frameworkId: string, taskId: string): void {
    let m = this.pending.get(agentId);
    if (!m) this.pending.set(agentId, (m = new Map()));
    m.set(`${frameworkId}\u0000${taskId}`, { frameworkId, taskId });
    this.opts.send(agentId, frameworkId, taskId);
    this.arm();
  }

  /** The agent reported the task terminal: its kill is answered. */
  answered(agentId: string, frameworkId: string, taskId: string): void {
    const m = this.pending.get(agentId);
    if (!m) return;
    m.delete(`${frameworkId}\u0000${taskId}`);
    if (m.size === 0) this.pending.delete(agentId);
  }

  /** The agent is gone for good: its kills are moot. */
  forgetAgent(agentId: string): void {
    this.pending.delete(agentId);
  }

  /** Cancels the resend timer. */
  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Allows resends again (after stop()). */
  start(): void {
    this.stopped = false;
    if (this.pending.size > 0) this.arm();
  }

  private arm(): void {
    const base = this.opts.retryMs;
    if (this.timer || this.stopped || base === null || !(base > 0)) return;
    const delay = this.delay;
    this.timer = this.opts.clock.setTimer(delay, () => {
      this.timer = undefined;
      for (const [agentId, m] of this.pending) {
        for (const k of [...m.values()]) {
          if (!this.opts.send(agentId, k.frameworkId, k.taskId)) break;
          this.opts.onResend?.();
        }
      }
      if (this.pending.size === 0) {
        this.delay = base;
        return;
      }
      this.delay = Math.min(delay * 2, MAX_KILL_RETRY_MS);
      this.arm();
    });
  }
}
