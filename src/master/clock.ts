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

/** A timer of the FakeClock; it is its own handle. */
class Pending implements Timer {
  cancelled = false;

  constructor(
    readonly at: number,
    readonly fn: () => void,
  ) {}

  cancel(): void {
    this.cancelled = true;
  }
}

/**
 * Virtual time: nothing happens until advance() is called. Timers fire in (time, creation) order.
 * The timer heap keeps its keys in typed arrays, so sifting through hundreds of thousands of
 * timers (a simulated cluster's running tasks) reads contiguous memory.
 */
export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private size = 0;
  private ats = new Float64Array(1024);
  private seqs = new Float64Array(1024);
  private items: (Pending | undefined)[] = new Array(1024);

  constructor(start = 0) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimer(ms: number, fn: () => void): Timer {
    const p = new Pending(this.t + Math.max(0, ms), fn);
    this.push(p, this.seq++);
    return p;
  }

  /** Number of timers in the heap (cancelled ones included until they surface). */
  get pending(): number {
    return this.size;
  }

  /** Time of the next live timer, or undefined when none is pending. */
  nextAt(): number | undefined {
    this.dropCancelled();
    return this.size > 0 ? this.ats[0] : undefined;
  }

  /** Moves time forward by ms, firing every timer that falls due, synchronously. */
  advance(ms: number): void {
    const until = this.t + ms;
    for (;;) {
      this.dropCancelled();
      if (this.size === 0 || this.ats[0]! > until) break;
      const top = this.pop();
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
      if (this.size === 0 || this.ats[0]! > until) break;
      const top = this.pop();
      this.t = top.at;
      top.fn();
      await settle();
    }
    this.t = until;
  }

  private dropCancelled(): void {
    while (this.size > 0 && this.items[0]!.cancelled) this.pop();
  }

  private push(p: Pending, seq: number): void {
    if (this.size === this.ats.length) this.grow();
    const ats = this.ats;
    const seqs = this.seqs;
    const items = this.items;
    const at = p.at;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pa = ats[parent]!;
      if (pa < at || (pa === at && seqs[parent]! < seq)) break;
      ats[i] = pa;
      seqs[i] = seqs[parent]!;
      items[i] = items[parent];
      i = parent;
    }
    ats[i] = at;
    seqs[i] = seq;
    items[i] = p;
  }

  private pop(): Pending {
    const ats = this.ats;
    const seqs = this.seqs;
    const items = this.items;
    const top = items[0]!;
    const n = --this.size;
    const at = ats[n]!;
    const seq = seqs[n]!;
    const item = items[n];
    items[n] = undefined;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        let m = l;
        if (r < n && (ats[r]! < ats[l]! || (ats[r] === ats[l] && seqs[r]! < seqs[l]!))) m = r;
        if (at < ats[m]! || (at === ats[m] && seq < seqs[m]!)) break;
        ats[i] = ats[m]!;
        seqs[i] = seqs[m]!;
        items[i] = items[m];
        i = m;
      }
      ats[i] = at;
      seqs[i] = seq;
      items[i] = item;
    }
    return top;
  }

  private grow(): void {
    const cap = this.ats.length * 2;
    const ats = new Float64Array(cap);
    ats.set(this.ats);
    const seqs = new Float64Array(cap);
    seqs.set(this.seqs);
    this.ats = ats;
    this.seqs = seqs;
    this.items.length = cap;
  }
}

/** Resolves after all queued promise callbacks have run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
