import { WHITESPACE } from './split.js';
import type { WordCount } from './counts.js';
import { CHECK_BASE, CHECK_ERRORS, CHECK_HEADER, instantiateCanonicalKernel } from './wasm/canonical-kernel.js';

/**
 * The canonical counts file, `<word>\t<count>\n` per distinct word in raw byte order, as bytes:
 * what a map task sends (for its range), what the reduce produces, what `--output` writes. These
 * functions work on it directly, with no string or object per word.
 */

/** Totals of a canonical counts file. */
export interface CanonicalTotals {
  /** Word occurrences (sum of the counts). */
  words: number;
  /** Distinct words (lines). */
  distinct: number;
}

/** A canonical file that breaks the format; the message says where. */
export class CanonicalError extends Error {}

/** Compares `a[as, ae)` and `b[bs, be)` as raw bytes: negative, 0 or positive. */
function compareBytes(a: Uint8Array, as: number, ae: number, b: Uint8Array, bs: number, be: number): number {
  const la = ae - as;
  const lb = be - bs;
  const m = la < lb ? la : lb;
  for (let j = 0; j < m; j++) {
    const d = a[as + j]! - b[bs + j]!;
    if (d !== 0) return d;
  }
  return la - lb;
}

/**
 * Checks that `buf` is canonical: every line a non-empty word of non-whitespace bytes, a tab, a
 * count from 1 to 2^53 - 1 in decimal without leading zeros, a newline; words strictly increasing
 * in byte order (so none repeats). Returns the totals; throws a {@link CanonicalError} otherwise.
 */
export function checkCanonical(buf: Uint8Array): CanonicalTotals {
  const ws = WHITESPACE;
  const n = buf.length;
  let pos = 0;
  let line = 0;
  let prevStart = 0;
  let prevEnd = -1;
  let words = 0;
  while (pos < n) {
    line++;
    const start = pos;
    while (pos < n && ws[buf[pos]!] === 0) pos++;
    const end = pos;
    if (end === start) throw new CanonicalError(`line ${line}: no word`);
    if (pos >= n || buf[pos] !== 0x09) throw new CanonicalError(`line ${line}: no tab after the word`);
    pos++;
    const d0 = pos;
    let count = 0;
    while (pos < n) {
      const d = buf[pos]! - 0x30;
      if (d < 0 || d > 9) break;
      count = count * 10 + d;
      pos++;
    }
    if (pos === d0 || buf[d0] === 0x30 || pos - d0 > 16 || !Number.isSafeInteger(count)) throw new CanonicalError(`line ${line}: bad count`);
    if (pos >= n || buf[pos] !== 0x0a) throw new CanonicalError(`line ${line}: no newline after the count`);
    pos++;
    if (prevEnd >= 0 && compareBytes(buf, prevStart, prevEnd, buf, start, end) >= 0) {
      throw new CanonicalError(`line ${line}: word not after the previous one in byte order`);
    }
    prevStart = start;
    prevEnd = end;
    words += count;
  }
  if (!Number.isSafeInteger(words)) throw new CanonicalError('total count exceeds 2^53');
  return { words, distinct: line };
}

/**
 * Decodes base64 (or takes `raw` bytes) into a WebAssembly memory and checks it there like
 * {@link checkCanonical}, in one pass: the fast path for executor results. The returned buffer is
 * a view on that memory.
 */
export function decodeCheckedCanonical(input: { base64: string } | { raw: Uint8Array }): { canonical: Buffer } & CanonicalTotals {
  const max = 'base64' in input ? Math.ceil((input.base64.length * 3) / 4) : input.raw.length;
  const memory = new WebAssembly.Memory({ initial: Math.ceil((CHECK_BASE + max + 16) / 65536) });
  const bytes = Buffer.from(memory.buffer);
  bytes.set(WHITESPACE, 0);
  let n: number;
  if ('base64' in input) n = bytes.write(input.base64, CHECK_BASE, 'base64');
  else {
    bytes.set(input.raw, CHECK_BASE);
    n = input.raw.length;
  }
  const code = instantiateCanonicalKernel(memory).check(CHECK_BASE, CHECK_BASE + n);
  const lines = new Uint32Array(memory.buffer, CHECK_HEADER.lines, 1)[0]!;
  if (code !== 0) throw new CanonicalError(`line ${lines}: ${CHECK_ERRORS[code] ?? 'malformed'}`);
  const words = Number(new BigUint64Array(memory.buffer, CHECK_HEADER.words, 1)[0]!);
  if (!Number.isSafeInteger(words)) throw new CanonicalError('total count exceeds 2^53');
  return { canonical: bytes.subarray(CHECK_BASE, CHECK_BASE + n), words, distinct: lines };
}

/** One input of {@link mergeCanonical}: a cursor on its current line. */
interface Run {
  buf: Uint8Array;
  pos: number;
  wordStart: number;
  wordEnd: number;
  count: number;
}

function advance(r: Run): boolean {
  const buf = r.buf;
  if (r.pos >= buf.length) return false;
  r.wordStart = r.pos;
  let p = r.pos;
  while (buf[p] !== 0x09) p++;
  r.wordEnd = p;
  let count = 0;
  for (p++; buf[p] !== 0x0a; p++) count = count * 10 + (buf[p]! - 0x30);
  r.count = count;
  r.pos = p + 1;
  return true;
}

const less = (x: Run, y: Run): boolean => compareBytes(x.buf, x.wordStart, x.wordEnd, y.buf, y.wordStart, y.wordEnd) < 0;

/**
 * Merges canonical files (each already checked with {@link checkCanonical}) into one: a k-way
 * merge on a binary heap, adding the counts of a word found in several inputs. Linear in the
 * input size (times log k); the output is written once, with no per-word allocation.
 */
export function mergeCanonical(inputs: Uint8Array[]): { canonical: Buffer } & CanonicalTotals {
  const nonEmpty = inputs.filter((b) => b.length > 0);
  if (nonEmpty.length === 1) {
    const only = Buffer.from(nonEmpty[0]!.buffer, nonEmpty[0]!.byteOffset, nonEmpty[0]!.byteLength);
    return { canonical: only, ...checkCanonical(only) };
  }
  let size = 0;
  for (const b of nonEmpty) size += b.length;
  const out = Buffer.allocUnsafe(size);
  const heap: Run[] = [];
  const siftDown = (i: number): void => {
    const n = heap.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) return;
      const r = l + 1;
      const m = r < n && less(heap[r]!, heap[l]!) ? r : l;
      if (!less(heap[m]!, heap[i]!)) return;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  };
  for (const buf of nonEmpty) {
    const r: Run = { buf, pos: 0, wordStart: 0, wordEnd: 0, count: 0 };
    if (advance(r)) heap.push(r);
  }
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) siftDown(i);
  let pos = 0;
  let words = 0;
  let distinct = 0;
  while (heap.length > 0) {
    const top = heap[0]!;
    const src = top.buf;
    const ws = top.wordStart;
    const we = top.wordEnd;
    let count = 0;
    // take every run whose current word equals this one
    while (heap.length > 0 && compareBytes(heap[0]!.buf, heap[0]!.wordStart, heap[0]!.wordEnd, src, ws, we) === 0) {
      const r = heap[0]!;
      count += r.count;
      if (r === top) {
        for (let j = ws; j < we; j++) out[pos + j - ws] = src[j]!;
      }
      if (!advance(r)) {
        const last = heap.pop()!;
        if (heap.length > 0 && last !== r) heap[0] = last;
      }
      if (heap.length > 0) siftDown(0);
    }
    pos += we - ws;
    out[pos++] = 0x09;
    const digits = String(count);
    pos += out.write(digits, pos, 'latin1');
    out[pos++] = 0x0a;
    words += count;
    distinct++;
  }
  return { canonical: out.subarray(0, pos), words, distinct };
}

/** The `n` most frequent words of a canonical file, by count descending then byte order; keys are latin1 (see `Counts`). */
export function topWordsCanonical(buf: Uint8Array, n: number): WordCount[] {
  const best: { start: number; end: number; count: number }[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const start = pos;
    while (buf[pos] !== 0x09) pos++;
    const end = pos;
    let count = 0;
    for (pos++; buf[pos] !== 0x0a; pos++) count = count * 10 + (buf[pos]! - 0x30);
    pos++;
    if (best.length < n || count > best[best.length - 1]!.count) {
      let i = best.length;
      while (i > 0 && best[i - 1]!.count < count) i--;
      best.splice(i, 0, { start, end, count });
      if (best.length > n) best.pop();
    }
  }
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  return best.map((e) => ({ word: b.toString('latin1', e.start, e.end), count: e.count }));
}
