import type { Timer } from './clock.js';
import type { Offer } from './types.js';

const PREFIX = 'offer-';

/** An outstanding offer with the master's bookkeeping. */
export interface OfferEntry<A, F> {
  /** The offer as the framework sees it. */
  offer: Offer;
  /** The agent record it is on. */
  agent: A;
  /** The framework record it was made to. */
  fw: F;
  /** Its timeout, if offers time out. */
  timer?: Timer;
}

/**
 * The outstanding offers, by id. Offer ids are `offer-<n>` with n counting up, and an offer lives
 * mostly for one allocation run, so the book is a ring indexed by n, kept as parallel arrays: adding
 * and taking an offer writes array slots, with no hash-map insert and delete and no record object per
 * offer (tens of thousands of each per run at scale). An offer held long enough for its ring slot to
 * come round again moves to a map.
 */
export class OfferBook<A, F> {
  private offers: (Offer | undefined)[] = new Array(1024);
  private agents: (A | undefined)[] = new Array(1024);
  private fws: (F | undefined)[] = new Array(1024);
  private timers: (Timer | undefined)[] = new Array(1024);
  private nums = new Float64Array(1024);
  private mask = 1023;
  private inRing = 0;
  private readonly old = new Map<number, OfferEntry<A, F>>();
  private next = 0;

  /** Number of outstanding offers. */
  get size(): number {
    return this.inRing + this.old.size;
  }

  /** A fresh offer id. */
  nextId(): string {
    return PREFIX + ++this.next;
  }

  /** Records an offer whose id came from nextId(). */
  add(offer: Offer, agent: A, fw: F, timer?: Timer): void {
    const n = parse(offer.id);
    if (n < 0) throw new Error(`offer id ${offer.id} was not made by this book`);
    if (this.inRing + 1 > (this.mask + 1) >> 1) this.grow();
    const i = n & this.mask;
    const prev = this.offers[i];
    if (prev) {
      this.old.set(this.nums[i]!, { offer: prev, agent: this.agents[i]!, fw: this.fws[i]!, timer: this.timers[i] });
      this.inRing--;
    }
    this.offers[i] = offer;
    this.agents[i] = agent;
    this.fws[i] = fw;
    this.timers[i] = timer;
    this.nums[i] = n;
    this.inRing++;
  }

  /** The offer with this id, if outstanding (without its bookkeeping: see entry()). */
  get(id: string): Offer | undefined {
    const n = parse(id);
    if (n < 0) return undefined;
    const i = n & this.mask;
    const o = this.offers[i];
    if (o && this.nums[i] === n) return o.id === id ? o : undefined;
    const e = this.old.get(n);
    return e && e.offer.id === id ? e.offer : undefined;
  }

  /** The offer with this id and its bookkeeping, if outstanding. */
  entry(id: string): OfferEntry<A, F> | undefined {
    const n = parse(id);
    if (n < 0) return undefined;
    const i = n & this.mask;
    const o = this.offers[i];
    if (o && this.nums[i] === n) return o.id === id ? { offer: o, agent: this.agents[i]!, fw: this.fws[i]!, timer: this.timers[i] } : undefined;
    const e = this.old.get(n);
    return e && e.offer.id === id ? e : undefined;
  }

  /** The agent of the offer the last take() removed. */
  takenAgent?: A;
  /** The framework of the offer the last take() removed. */
  takenFw?: F;
  /** The timer of the offer the last take() removed. */
  takenTimer?: Timer;

  /**
   * Removes the offer with this id and returns it, or undefined. Its bookkeeping is left in
   * takenAgent, takenFw and takenTimer until the next take() (so no object is made per offer).
   */
  take(id: string): Offer | undefined {
    const n = parse(id);
    if (n < 0) return undefined;
    const i = n & this.mask;
    const o = this.offers[i];
    if (o && this.nums[i] === n) {
      if (o.id !== id) return undefined;
      this.takenAgent = this.agents[i];
      this.takenFw = this.fws[i];
      this.takenTimer = this.timers[i];
      this.offers[i] = this.agents[i] = this.fws[i] = this.timers[i] = undefined;
      this.inRing--;
      return o;
    }
    const e = this.old.get(n);
    if (!e || e.offer.id !== id) return undefined;
    this.old.delete(n);
    this.takenAgent = e.agent;
    this.takenFw = e.fw;
    this.takenTimer = e.timer;
    return e.offer;
  }

  /** Every outstanding offer with its bookkeeping, oldest first. */
  values(): OfferEntry<A, F>[] {
    const out: [number, OfferEntry<A, F>][] = [...this.old.entries()];
    for (let i = 0; i < this.offers.length; i++) {
      const o = this.offers[i];
      if (o) out.push([this.nums[i]!, { offer: o, agent: this.agents[i]!, fw: this.fws[i]!, timer: this.timers[i] }]);
    }
    return out.sort((a, b) => a[0] - b[0]).map((x) => x[1]);
  }

  private grow(): void {
    const size = (this.mask + 1) * 2;
    const offers: (Offer | undefined)[] = new Array(size);
    const agents: (A | undefined)[] = new Array(size);
    const fws: (F | undefined)[] = new Array(size);
    const timers: (Timer | undefined)[] = new Array(size);
    const nums = new Float64Array(size);
    for (let i = 0; i < this.offers.length; i++) {
      if (!this.offers[i]) continue;
      const n = this.nums[i]!;
      const j = n & (size - 1);
      offers[j] = this.offers[i];
      agents[j] = this.agents[i];
      fws[j] = this.fws[i];
      timers[j] = this.timers[i];
      nums[j] = n;
    }
    this.offers = offers;
    this.agents = agents;
    this.fws = fws;
    this.timers = timers;
    this.nums = nums;
    this.mask = size - 1;
  }
}

/** The number in an `offer-<n>` id, or -1. */
function parse(id: string): number {
  if (typeof id !== 'string' || !id.startsWith(PREFIX)) return -1;
  const n = Number(id.slice(PREFIX.length));
  return Number.isSafeInteger(n) && n > 0 ? n : -1;
}
