import type { Offer } from './types.js';

const PREFIX = 'offer-';

/**
 * The outstanding offers, by id. Offer ids are `offer-<n>` with n counting up, and an offer lives
 * mostly for one allocation run, so the book is a ring indexed by n: adding and taking an offer is an
 * array write, not a hash-map insert and delete (tens of thousands of each per run at scale). An offer
 * held long enough for its ring slot to come round again moves to a map.
 */
export class OfferBook<R extends { readonly offer: Offer }> {
  private ring: (R | undefined)[] = new Array(1024);
  private nums = new Float64Array(1024);
  private mask = 1023;
  private inRing = 0;
  private readonly old = new Map<number, R>();
  private next = 0;

  /** Number of outstanding offers. */
  get size(): number {
    return this.inRing + this.old.size;
  }

  /** A fresh offer id. */
  nextId(): string {
    return PREFIX + (++this.next);
  }

  /** Records an offer whose id came from nextId(). */
  add(rec: R): void {
    const n = parse(rec.offer.id);
    if (n < 0) throw new Error(`offer id ${rec.offer.id} was not made by this book`);
    if (this.inRing + 1 > (this.mask + 1) >> 1) this.grow();
    const i = n & this.mask;
    const prev = this.ring[i];
    if (prev) {
      this.old.set(this.nums[i]!, prev);
      this.inRing--;
    }
    this.ring[i] = rec;
    this.nums[i] = n;
    this.inRing++;
  }

  /** The offer with this id, if outstanding. */
  get(id: string): R | undefined {
    const n = parse(id);
    if (n < 0) return undefined;
    const i = n & this.mask;
    const r = this.ring[i];
    if (r && this.nums[i] === n) return r.offer.id === id ? r : undefined;
    const o = this.old.get(n);
    return o && o.offer.id === id ? o : undefined;
  }

  /** Removes and returns the offer with this id, if outstanding. */
  take(id: string): R | undefined {
    const r = this.get(id);
    if (!r) return undefined;
    const n = parse(id);
    const i = n & this.mask;
    if (this.ring[i] === r) {
      this.ring[i] = undefined;
      this.inRing--;
    } else this.old.delete(n);
    return r;
  }

  /** Every outstanding offer, oldest first. */
  values(): R[] {
    const out: [number, R][] = [...this.old.entries()];
    for (let i = 0; i < this.ring.length; i++) {
      const r = this.ring[i];
      if (r) out.push([this.nums[i]!, r]);
    }
    return out.sort((a, b) => a[0] - b[0]).map((x) => x[1]);
  }

  private grow(): void {
    const size = (this.mask + 1) * 2;
    const ring: (R | undefined)[] = new Array(size);
    const nums = new Float64Array(size);
    for (let i = 0; i < this.ring.length; i++) {
      const r = this.ring[i];
      if (!r) continue;
      const n = this.nums[i]!;
      ring[n & (size - 1)] = r;
      nums[n & (size - 1)] = n;
    }
    this.ring = ring;
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
