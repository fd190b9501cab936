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

/**
 * Merges two canonical files into `out`: a two-pointer walk that copies a line byte by byte when
 * its word is in one input only and adds the counts when it is in both. Returns the end of the
 * output and its totals.
 */
function mergeTwo(a: Uint8Array, b: Uint8Array, out: Uint8Array): { end: number } & CanonicalTotals {
  const na = a.length;
  const nb = b.length;
  let i = 0;
  let j = 0;
  let pos = 0;
  let words = 0;
  let distinct = 0;
  // current lines: word [i, ta), count (ta, ea), newline at ea; same for b
  let ta = 0;
  let tb = 0;
  if (na > 0) while (a[ta] !== 0x09) ta++;
  if (nb > 0) while (b[tb] !== 0x09) tb++;
  while (i < na && j < nb) {
    const la = ta - i;
    const lb = tb - j;
    const m = la < lb ? la : lb;
    let d = 0;
    for (let k = 0; k < m; k++) {
      d = a[i + k]! - b[j + k]!;
      if (d !== 0) break;
    }
    if (d === 0) d = la - lb;
    distinct++;
    if (d < 0) {
      let n = 0;
      for (let p = i; p < ta; p++) out[pos++] = a[p]!;
      out[pos++] = 0x09;
      let p = ta + 1;
      for (; a[p] !== 0x0a; p++) {
        out[pos++] = a[p]!;
        n = n * 10 + (a[p]! - 0x30);
      }
      out[pos++] = 0x0a;
      words += n;
      i = p + 1;
      ta = i;
      if (i < na) while (a[ta] !== 0x09) ta++;
    } else if (d > 0) {
      let n = 0;
      for (let p = j; p < tb; p++) out[pos++] = b[p]!;
      out[pos++] = 0x09;
      let p = tb + 1;
      for (; b[p] !== 0x0a; p++) {
        out[pos++] = b[p]!;
        n = n * 10 + (b[p]! - 0x30);
      }
      out[pos++] = 0x0a;
      words += n;
      j = p + 1;
      tb = j;
      if (j < nb) while (b[tb] !== 0x09) tb++;
    } else {
      for (let p = i; p < ta; p++) out[pos++] = a[p]!;
      out[pos++] = 0x09;
      let n = 0;
      let p = ta + 1;
      for (; a[p] !== 0x0a; p++) n = n * 10 + (a[p]! - 0x30);
      i = p + 1;
      let m2 = 0;
      let q = tb + 1;
      for (; b[q] !== 0x0a; q++) m2 = m2 * 10 + (b[q]! - 0x30);
      n += m2;
      j = q + 1;
      words += n;
      let digits = 1;
      for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
      let w = pos + digits;
      pos = w;
      do {
        const r = n % 10;
        out[--w] = 0x30 + r;
        n = (n - r) / 10;
      } while (n > 0);
      out[pos++] = 0x0a;
      ta = i;
      if (i < na) while (a[ta] !== 0x09) ta++;
      tb = j;
      if (j < nb) while (b[tb] !== 0x09) tb++;
    }
  }
  const rest = i < na ? a : b;
  let p = i < na ? i : j;
  while (p < rest.length) {
    while (rest[p] !== 0x09) out[pos++] = rest[p++]!;
    out[pos++] = rest[p++]!;
    let n = 0;
    while (rest[p] !== 0x0a) {
      n = n * 10 + (rest[p]! - 0x30);
      out[pos++] = rest[p++]!;
    }
    out[pos++] = rest[p++]!;
    words += n;
    distinct++;
  }
  return { end: pos, words, distinct };
}

/**
 * Merges canonical files (each already checked with {@link checkCanonical}) into one, adding the
 * counts of a word found in several: pairwise two-pointer merges in a balanced tree (log2 k passes
 * over the data), each line copied as bytes, with no per-word allocation. A single input is
 * checked and returned as it is.
 */
export function mergeCanonical(inputs: Uint8Array[]): { canonical: Buffer } & CanonicalTotals {
  let level: Uint8Array[] = inputs.filter((b) => b.length > 0);
  if (level.length === 0) return { canonical: Buffer.alloc(0), words: 0, distinct: 0 };
  if (level.length === 1) {
    const only = Buffer.from(level[0]!.buffer, level[0]!.byteOffset, level[0]!.byteLength);
    return { canonical: only, ...checkCanonical(only) };
  }
  let totals: CanonicalTotals = { words: 0, distinct: 0 };
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let k = 0; k + 1 < level.length; k += 2) {
      const a = level[k]!;
      const b = level[k + 1]!;
      const out = Buffer.allocUnsafe(a.length + b.length);
      const r = mergeTwo(a, b, out);
      next.push(out.subarray(0, r.end));
      totals = r;
    }
    if (level.length % 2 === 1) next.push(level[level.length - 1]!);
    level = next;
  }
  const canonical = Buffer.from(level[0]!.buffer, level[0]!.byteOffset, level[0]!.byteLength);
  return { canonical, words: totals.words, distinct: totals.distinct };
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
