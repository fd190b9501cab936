import { WHITESPACE } from './split.js';

/** Distinct words and their counts, as produced by the byte kernel. */
export interface WordTable {
  /** Number of distinct words. */
  readonly distinct: number;
  /** Number of word occurrences (sum of all counts). */
  readonly total: number;
  /**
   * Calls `fn` once per distinct word, in no particular order. `word` is a view into the table's
   * storage, valid only during the call: copy it to keep it.
   */
  forEach(fn: (word: Uint8Array, count: number) => void): void;
}

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;
const MIN_SLOTS = 16;

/** FNV-1a over `buf[from, to)` followed by the same finaliser the kernel applies; for tests and merges. */
export function hashBytes(buf: Uint8Array, from: number, to: number): number {
  let h = FNV_OFFSET;
  for (let i = from; i < to; i++) h = Math.imul(h ^ buf[i], FNV_PRIME);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  return h ^ (h >>> 15);
}

/**
 * Open-addressing hash table of byte strings. Slots hold (hash, entry + 1) pairs; entries keep an
 * offset and a length into a growable byte arena, plus a count. Doubles at load 0.5.
 */
export class ByteWordTable implements WordTable {
  /** Number of distinct words. */
  distinct = 0;
  /** Number of word occurrences. */
  total = 0;
  private slots: Int32Array;
  private mask: number;
  private hashes: Int32Array;
  private offsets: Int32Array;
  private lengths: Int32Array;
  private counts: Float64Array;
  private arena: Buffer;
  private arenaUsed = 0;

  /** An empty table sized for about `expectedDistinct` words before its first resize. */
  constructor(expectedDistinct = 4096) {
    let n = MIN_SLOTS;
    while (n < expectedDistinct * 2) n *= 2;
    this.slots = new Int32Array(n * 2);
    this.mask = n - 1;
    this.hashes = new Int32Array(n / 2);
    this.offsets = new Int32Array(n / 2);
    this.lengths = new Int32Array(n / 2);
    this.counts = new Float64Array(n / 2);
    this.arena = Buffer.allocUnsafe(n * 8);
  }

  /** Calls `fn` for each distinct word; `word` is a view valid only during the call. */
  forEach(fn: (word: Uint8Array, count: number) => void): void {
    const { arena, offsets, lengths, counts } = this;
    for (let k = 0; k < this.distinct; k++) {
      const off = offsets[k];
      fn(arena.subarray(off, off + lengths[k]), counts[k]);
    }
  }

  /** Calls `fn` with each distinct word decoded as latin1 (one char per byte) and its count. */
  forEachLatin1(fn: (word: string, count: number) => void): void {
    const { arena, offsets, lengths, counts } = this;
    for (let k = 0; k < this.distinct; k++) {
      const off = offsets[k];
      fn(arena.toString('latin1', off, off + lengths[k]), counts[k]);
    }
  }

  /** Adds `count` occurrences of the word `buf[from, to)`. */
  add(buf: Uint8Array, from: number, to: number, count = 1): void {
    const h = hashBytes(buf, from, to);
    const len = to - from;
    const { slots, lengths, offsets, arena } = this;
    let s = h & this.mask;
    for (;;) {
      const e = slots[2 * s + 1];
      if (e === 0) break;
      if (slots[2 * s] === h && lengths[e - 1] === len) {
        const off = offsets[e - 1];
        let j = 0;
        while (j < len && arena[off + j] === buf[from + j]) j++;
        if (j === len) {
          this.counts[e - 1] += count;
          this.total += count;
          return;
        }
      }
      s = (s + 1) & this.mask;
    }
    this.insertAt(s, h, buf, from, len, count);
    this.total += count;
  }

  /** Adds every word of `other` into this table. */
  merge(other: WordTable): void {
    other.forEach((w, c) => this.add(w, 0, w.length, c));
  }

  /**
   * Counts the words of `buf` whose first byte lies in `[start, end)`, reading past `end` (up to
   * `size`) to finish the last one and skipping the tail of a word that began before `start`.
   */
  countRange(buf: Uint8Array, start: number, end: number, size: number = buf.length): void {
    checkRange(buf, start, end, size);
    if (end > size) end = size;
    const ws = WHITESPACE;
    let i = start;
    if (i > 0 && i < end && ws[buf[i - 1]] === 0) {
      while (i < end && ws[buf[i]] === 0) i++;
    }
    let slots = this.slots;
    let mask = this.mask;
    let lengths = this.lengths;
    let offsets = this.offsets;
    let counts = this.counts;
    let arena = this.arena;
    let total = 0;
    while (i < end) {
      let b = buf[i];
      if (ws[b] !== 0) {
        i++;
        continue;
      }
      const from = i;
      let h = FNV_OFFSET;
      for (;;) {
        h = Math.imul(h ^ b, FNV_PRIME);
        if (++i >= size) break;
        b = buf[i];
        if (ws[b] !== 0) break;
      }
      const len = i - from;
      h ^= h >>> 16;
      h = Math.imul(h, 0x7feb352d);
      h ^= h >>> 15;
      total++;
      let s = h & mask;
      for (;;) {
        const e = slots[2 * s + 1];
        if (e === 0) {
          this.insertAt(s, h, buf, from, len, 1);
          slots = this.slots;
          mask = this.mask;
          lengths = this.lengths;
          offsets = this.offsets;
          counts = this.counts;
          arena = this.arena;
          break;
        }
        if (slots[2 * s] === h && lengths[e - 1] === len) {
          const off = offsets[e - 1] - from;
          let j = from;
          while (j < i && arena[off + j] === buf[j]) j++;
          if (j === i) {
            counts[e - 1]++;
            break;
          }
        }
        s = (s + 1) & mask;
      }
    }
    this.total += total;
  }

  private insertAt(slot: number, h: number, buf: Uint8Array, from: number, len: number, count: number): void {
    const k = this.distinct;
    if (k === this.hashes.length) this.growEntries();
    if (this.arenaUsed + len > this.arena.length) this.growArena(len);
    this.arena.set(buf.subarray(from, from + len), this.arenaUsed);
    this.hashes[k] = h;
    this.offsets[k] = this.arenaUsed;
    this.lengths[k] = len;
    this.counts[k] = count;
    this.arenaUsed += len;
    this.slots[2 * slot] = h;
    this.slots[2 * slot + 1] = k + 1;
    this.distinct = k + 1;
    if (this.distinct * 2 > this.mask + 1) this.rehash();
  }

  private growEntries(): void {
    const n = this.hashes.length * 2;
    const grow = <T extends Int32Array | Float64Array>(a: T, b: T): T => {
      b.set(a);
      return b;
    };
    this.hashes = grow(this.hashes, new Int32Array(n));
    this.offsets = grow(this.offsets, new Int32Array(n));
    this.lengths = grow(this.lengths, new Int32Array(n));
    this.counts = grow(this.counts, new Float64Array(n));
  }

  private growArena(need: number): void {
    if (this.arenaUsed + need > 0x7fffffff) throw new RangeError('word table: distinct words exceed 2 GiB');
    let n = this.arena.length * 2;
    while (n < this.arenaUsed + need) n *= 2;
    n = Math.min(n, 0x7fffffff);
    const a = Buffer.allocUnsafe(n);
    this.arena.copy(a, 0, 0, this.arenaUsed);
    this.arena = a;
  }

  private rehash(): void {
    const n = (this.mask + 1) * 2;
    const mask = n - 1;
    const slots = new Int32Array(n * 2);
    const hashes = this.hashes;
    for (let k = 0; k < this.distinct; k++) {
      const h = hashes[k];
      let s = h & mask;
      while (slots[2 * s + 1] !== 0) s = (s + 1) & mask;
      slots[2 * s] = h;
      slots[2 * s + 1] = k + 1;
    }
    this.slots = slots;
    this.mask = mask;
  }
}

function checkRange(buf: Uint8Array, start: number, end: number, size: number): void {
  if (!Number.isSafeInteger(size) || size < 0 || size > buf.length) {
    throw new RangeError(`size must be an integer in [0, ${buf.length}], got ${size}`);
  }
  if (!Number.isSafeInteger(start) || start < 0) throw new RangeError(`start must be a non-negative integer, got ${start}`);
  if (!Number.isSafeInteger(end) || end < 0) throw new RangeError(`end must be a non-negative integer, got ${end}`);
}

/**
 * Counts the words whose first byte lies in `buf[start, end)`. Reads up to `size` bytes of `buf`
 * (default: all of it) to finish a word that crosses `end`, and skips the rest of a word that
 * began before `start`, so adjacent ranges count every word exactly once.
 */
export function countRange(buf: Uint8Array, start: number, end: number, size: number = buf.length): ByteWordTable {
  const t = new ByteWordTable(Math.min(4096, Math.max(0, Math.min(end, size) - start) >>> 1));
  t.countRange(buf, start, end, size);
  return t;
}
