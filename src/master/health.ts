import type { Clock, Timer } from './clock.js';

/** What the health checker needs to know about one agent. */
export interface Pingable {
  /** Agent id. */
  readonly id: string;
  /** Sends a ping; undefined when the agent is not health-checked. */
  readonly ping?: () => void;
}

/** Settings of agent health checks, after Mesos' agent_ping_timeout and max_agent_ping_timeouts. */
export interface HealthOptions {
  /** Time source. */
  clock: Clock;
  /** Ping period (ms); null or <= 0: no health checks. */
  pingMs: number | null;
  /** Consecutive missed pings after which an agent is unreachable. */
  maxMisses: number;
  /** The agents to ping now. */
  agents(): Iterable<Pingable>;
  /** An agent missed `misses` pings in a row: the master marks it unreachable. */
  onUnreachable(agentId: string, reason: string): void;
  /** Counts each missed ping. */
  onMiss?(): void;
}

interface State {
  pinged: boolean;
  ponged: boolean;
  misses: number;
}

/**
 * Agent health checks (Mesos' SlaveObserver): every pingMs each agent that implements ping() is
 * pinged; an agent that did not answer the previous ping misses one; maxMisses in a row make it
 * unreachable. An answer resets the count.
 */
export class AgentHealth {
  private readonly state = new Map<string, State>();
  private timer?: Timer;

  constructor(private readonly opts: HealthOptions) {}

  /** Starts the ping rounds. */
  start(): void {
    const ms = this.opts.pingMs;
    if (this.timer || ms === null || !(ms > 0)) return;
    const round = (): void => {
      this.timer = this.opts.clock.setTimer(ms, round);
      this.round();
    };
    this.timer = this.opts.clock.setTimer(ms, round);
  }

  /** Stops the ping rounds. */
  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** An agent answered a ping. */
  pong(agentId: string): void {
    const s = this.state.get(agentId);
    if (s) s.ponged = true;
  }

  /** Consecutive pings the agent missed (0 when healthy or unknown). */
  misses(agentId: string): number {
    return this.state.get(agentId)?.misses ?? 0;
  }

  /** Forgets an agent (removed, or re-registered: it starts healthy). */
  forget(agentId: string): void {
    this.state.delete(agentId);
  }

  private round(): void {
    const gone: [string, number][] = [];
    for (const a of this.opts.agents()) {
      if (!a.ping) continue;
      let s = this.state.get(a.id);
      if (!s) this.state.set(a.id, (s = { pinged: false, ponged: false, misses: 0 }));
      if (s.pinged && !s.ponged) {
        s.misses++;
        this.opts.onMiss?.();
        if (s.misses >= this.opts.maxMisses) {
          gone.push([a.id, s.misses]);
          continue;
        }
      } else if (s.pinged) s.misses = 0;
      s.pinged = true;
      s.ponged = false;
      a.ping();
    }
    for (const [id, misses] of gone) {
      this.state.delete(id);
      this.opts.onUnreachable(id, `no answer to ${misses} pings (${this.opts.pingMs} ms each)`);
    }
  }
}
