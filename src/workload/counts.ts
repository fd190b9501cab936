import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import type { WordTable } from './word-table.js';

/**
 * Word counts keyed by the word's bytes decoded as latin1 (one char per byte), so the default
 * JS string order equals raw byte order (`LC_ALL=C sort`).
 */
export type Counts = Map<string, number>;

/** One entry of {@link topWords}. */
export interface WordCount {
  /** The word as a latin1 key (see {@link Counts}); {@link displayWord} turns it into readable text. */
  word: string;
  /** Its number of occurrences. */
  count: number;
}

/** Totals of a {@link Counts}. */
export interface CountsSummary {
  /** Number of word occurrences. */
  words: number;
  /** Number of distinct words. */
  distinct: number;
}

/** Converts a kernel table into {@link Counts}. */
export function tableToCounts(t: WordTable): Counts {
  const c: Counts = new Map();
  t.forEach((w, n) => {
    c.set(Buffer.from(w.buffer, w.byteOffset, w.byteLength).toString('latin1'), n);
  });
  return c;
}

/** Adds every count of `from` into `into`. */
export function mergeCounts(into: Counts, from: Counts): void {
  for (const [w, n] of from) into.set(w, (into.get(w) ?? 0) + n);
}

interface Entry {
  k: string;
  n: number;
}

function canonicalFromEntries(entries: Entry[]): Buffer {
  entries.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
  const nums = entries.map((e) => String(e.n));
  let size = 0;
  for (let i = 0; i < entries.length; i++) size += entries[i].k.length + nums[i].length + 2;
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  for (let i = 0; i < entries.length; i++) {
    pos += out.write(entries[i].k, pos, 'latin1');
    out[pos++] = 0x09;
    pos += out.write(nums[i], pos, 'latin1');
    out[pos++] = 0x0a;
  }
  return out;
}

/** The canonical form: one `<word bytes>\t<count>\n` line per distinct word, sorted by raw bytes. */
export function canonicalBytes(c: Counts): Buffer {
  const entries: Entry[] = [];
  for (const [k, n] of c) entries.push({ k, n });
  return canonicalFromEntries(entries);
}

/** Canonical form of a kernel table, without building a {@link Counts} map. */
export function canonicalTableBytes(t: WordTable): Buffer {
  if ('canonical' in t && typeof t.canonical === 'function') return (t.canonical as () => Buffer)();
  const entries: Entry[] = [];
  t.forEach((w, n) => {
    entries.push({ k: Buffer.from(w.buffer, w.byteOffset, w.byteLength).toString('latin1'), n });
  });
  return canonicalFromEntries(entries);
}

/** Parses the canonical form back into {@link Counts}; throws on a malformed line or a repeated word. */
export function parseCanonical(buf: Buffer): Counts {
  const c: Counts = new Map();
  let pos = 0;
  let line = 1;
  while (pos < buf.length) {
    const nl = buf.indexOf(0x0a, pos);
    if (nl < 0) throw new Error(`canonical counts: line ${line} has no newline`);
    const tab = buf.lastIndexOf(0x09, nl);
    if (tab < pos || tab === pos) throw new Error(`canonical counts: line ${line} has no word and tab`);
    if (tab + 1 === nl) throw new Error(`canonical counts: line ${line} has no count`);
    let n = 0;
    for (let i = tab + 1; i < nl; i++) {
      const d = buf[i] - 0x30;
      if (d < 0 || d > 9) throw new Error(`canonical counts: line ${line} has a bad count`);
      n = n * 10 + d;
    }
    const w = buf.toString('latin1', pos, tab);
    if (c.has(w)) throw new Error(`canonical counts: line ${line} repeats a word`);
    c.set(w, n);
    pos = nl + 1;
    line++;
  }
  return c;
}

/** Lowercase hex SHA-256 of `buf`. */
export function sha256Hex(buf: Uint8Array | string): string {
  return createHash('sha256').update(buf).digest('hex');
}

/** Total occurrences and number of distinct words. */
export function summarize(c: Counts): CountsSummary {
  let words = 0;
  for (const n of c.values()) words += n;
  return { words, distinct: c.size };
}

/** The `n` most frequent words, by count descending then raw byte order. */
export function topWords(c: Counts, n: number): WordCount[] {
  const all: WordCount[] = [];
  for (const [word, count] of c) all.push({ word, count });
  all.sort((a, b) => b.count - a.count || (a.word < b.word ? -1 : a.word > b.word ? 1 : 0));
  return all.slice(0, Math.max(0, n));
}

/** A latin1 key as readable text: its bytes decoded as UTF-8 (invalid bytes become U+FFFD). */
export function displayWord(key: string): string {
  return Buffer.from(key, 'latin1').toString('utf8');
}

/** Executor wire form (encoding `canonical`): the canonical bytes in base64. */
export function encodeCounts(c: Counts): string {
  return canonicalBytes(c).toString('base64');
}

/** Same as `encodeCounts(tableToCounts(t))`, skipping the intermediate map. */
export function encodeTable(t: WordTable): string {
  return canonicalTableBytes(t).toString('base64');
}

/** Inverse of {@link encodeCounts}; `canonical+gzip` is gunzipped first. */
export function decodeCounts(s: string, encoding: 'canonical' | 'canonical+gzip' = 'canonical'): Counts {
  const raw = Buffer.from(s, 'base64');
  return parseCanonical(encoding === 'canonical+gzip' ? gunzipSync(raw) : raw);
}
