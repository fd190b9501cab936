/** A pending timer; cancel() is idempotent. */
export interface Timer {
  /** Prevents the callback from running if it has not run yet. */
  cancel(): void;
}

/** All time in the master goes through a Clock, so tests and simulations run on virtual time. */
export interface Clock {
  /** Milliseconds since an arbitrary, fixed origin. */
  now(): number;
  /** Runs fn once after ms milliseconds. */
  setTimer(ms: number, fn: () => void): Timer;
}

/** Wall-clock time with Node's timers; a pending timer keeps the process alive, as a running master should. */
export class RealClock implements Clock {
  now(): number {
    return performance.timeOrigin + performance.now();
  }

  setTimer(ms: number, fn: () => void): Timer {
    const t = setTimeout(fn, Math.max(0, ms));
    return { cancel: () => clearTimeout(t) };
  }
}

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** Virtual time: nothing happens until advance() is called. Timers fire in (time, creation) order. */
export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private heap: Pending[] = [];

  constructor(start = 0) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimer(ms: number, fn: () => void): Timer {
    const p: Pending = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.push(p);
    return { cancel: () => void (p.cancelled = true) };
  }

  /** Time of the next live timer, or undefined when none is pending. */
  nextAt(): number | undefined {
    this.dropCancelled();
    return this.heap[0]?.at;
  }

  /** Moves time forward by ms, firing every timer that falls due, synchronously. */
  advance(ms: number): void {
    const until = this.t + ms;
    for (;;) {
      this.dropCancelled();
      const top = this.heap[0];
      if (!top || top.at > until) break;
      this.pop();
      this.t = top.at;
      top.fn();
    }
    this.t = until;
  }

  /**
   * Like advance(), but lets promise callbacks settle after each timer, so async code driven by
   * the timers (mock backends, agents) runs in virtual time too.
   */
  async advanceAsync(ms: number): Promise<void> {
    const until = this.t + ms;
    await settle();
    for (;;) {
      this.dropCancelled();
      const top = this.heap[0];
      if (!top || top.at > until) break;
      this.pop();
      this.t = top.at;
      top.fn();
      await settle();
    }
    this.t = until;
  }

  private dropCancelled(): void {
    while (this.heap[0]?.cancelled) this.pop();
  }

  private less(a: Pending, b: Pending): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(p: Pending): void {
    const h = this.heap;
    h.push(p);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  private pop(): Pending | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

/** Resolves after all queued promise callbacks have run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
