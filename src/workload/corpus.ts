import { open } from 'node:fs/promises';

/** What to generate: the size is exact, the rest picks the text. */
export interface CorpusOptions {
  /** Exact output size in bytes; the last word is cut short if it does not fit. */
  bytes: number;
  /** PRNG seed (default 1). Same seed and options give the same bytes. */
  seed?: number;
  /** Number of distinct base words (default 20,000); punctuated forms add more distinct words. */
  vocabulary?: number;
}

/** Default vocabulary size of the generated corpus. */
export const DEFAULT_VOCABULARY = 20_000;

const SYLLABLES = [
  'a', 'e', 'i', 'o', 'u', 'ka', 'ko', 'ki', 'ta', 'to', 'ti', 'na', 'no', 'ni', 'ma', 'mo', 'mi', 'ra', 'ro', 'ri',
  'sa', 'so', 'si', 'la', 'lo', 'li', 'de', 'da', 'do', 'be', 'ba', 'bo', 'pe', 'pa', 'po', 've', 'va', 'vo', 'ze',
  'the', 'and', 'ing', 'ion', 'er', 'en', 'an', 'or', 'es', 'ed', 'st', 'th', 'qu', 'ch', 'sh', 'tr', 'pr', 'gr',
  'str', 'ough', 'ight', 'ment', 'ness', 'able', 'ous', 'ive', 'al', 'ic', 'un', 're', 'ex', 'in', 'con', 'pro',
];

const MULTIBYTE = [
  'café', 'naïve', '東京', '🙂x', 'über', 'straße', 'résumé', '日本語', 'Ελλάδα', 'москва', 'ça', 'São', 'señor',
  'Ünïcödé', '北京', 'façade', 'coöperate', '😀😀', 'jalapeño', 'smörgåsbord',
];

/** A 32-bit seeded PRNG (mulberry32). Returns unsigned 32-bit integers. */
export function mulberry32(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

interface Vocabulary {
  pool: Uint8Array;
  offsets: Int32Array;
  lengths: Int32Array;
  maxLength: number;
}

function buildVocabulary(size: number, seed: number): Vocabulary {
  const rnd = mulberry32(seed ^ 0x5bd1e995);
  const words: string[] = [];
  const seen = new Set<string>();
  const push = (w: string): boolean => {
    if (seen.has(w)) return false;
    seen.add(w);
    words.push(w);
    return true;
  };
  const special = new Map<number, string>();
  MULTIBYTE.forEach((w, i) => special.set(Math.floor(12 * Math.pow(1.6, i)), w));
  let attempts = 0;
  while (words.length < size) {
    const s = special.get(words.length);
    if (s !== undefined && push(s)) continue;
    attempts++;
    if (words.length > 50 && rnd() % 25 === 0) {
      const base = words[rnd() % words.length];
      if (push(base.charAt(0).toUpperCase() + base.slice(1))) continue;
    }
    const n = 1 + (rnd() % 4) + (rnd() % 2) * (rnd() % 2);
    let w = '';
    for (let i = 0; i < n; i++) w += SYLLABLES[rnd() % SYLLABLES.length];
    if (!push(w) && attempts > size * 50) push(`${w}${words.length}`);
  }
  const encoded = words.map((w) => Buffer.from(w, 'utf8'));
  const total = encoded.reduce((n, b) => n + b.length, 0);
  const pool = new Uint8Array(total);
  const offsets = new Int32Array(size);
  const lengths = new Int32Array(size);
  let pos = 0;
  let maxLength = 0;
  encoded.forEach((b, i) => {
    pool.set(b, pos);
    offsets[i] = pos;
    lengths[i] = b.length;
    pos += b.length;
    maxLength = Math.max(maxLength, b.length);
  });
  return { pool, offsets, lengths, maxLength };
}

/**
 * Streams a deterministic synthetic text: Zipf-distributed words (exponent 1) over a syllable
 * vocabulary with capitalised and multi-byte UTF-8 variants, separated mostly by spaces, with
 * lines of 10-15 words, some \r\n, tabs, double spaces, blank lines and rare \v and \f.
 */
export class CorpusGenerator {
  private readonly rnd: () => number;
  private readonly vocab: Vocabulary;
  private readonly cdf: Float64Array;
  private readonly guide: Int32Array;
  private readonly scratch: Uint8Array;
  private pending = 0;
  private pendingEnd = 0;
  private wordsLeftInLine: number;

  /** A generator for `seed` and `vocabulary` (defaults 1 and {@link DEFAULT_VOCABULARY}). */
  constructor(opts: { seed?: number; vocabulary?: number } = {}) {
    const seed = opts.seed ?? 1;
    const size = opts.vocabulary ?? DEFAULT_VOCABULARY;
    if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`vocabulary must be a positive integer, got ${size}`);
    this.rnd = mulberry32(seed);
    this.vocab = buildVocabulary(size, seed);
    this.cdf = new Float64Array(size);
    let acc = 0;
    for (let r = 0; r < size; r++) this.cdf[r] = acc += 1 / (r + 1);
    for (let r = 0; r < size; r++) this.cdf[r] /= acc;
    this.guide = new Int32Array(4097);
    let r = 0;
    for (let g = 0; g <= 4096; g++) {
      while (r < size - 1 && this.cdf[r] <= g / 4096) r++;
      this.guide[g] = r;
    }
    this.scratch = new Uint8Array(this.vocab.maxLength + 8);
    this.wordsLeftInLine = this.lineLength();
  }

  /** Fills `out` completely with the next bytes of the stream. */
  fill(out: Uint8Array): void {
    const scratch = this.scratch;
    let pos = 0;
    const n = out.length;
    while (pos < n) {
      if (this.pending === this.pendingEnd) this.nextToken();
      const take = Math.min(this.pendingEnd - this.pending, n - pos);
      for (let j = 0; j < take; j++) out[pos + j] = scratch[this.pending + j];
      this.pending += take;
      pos += take;
    }
  }

  private lineLength(): number {
    return 10 + (this.rnd() % 6);
  }

  private pickWord(): number {
    const u = this.rnd() / 4294967296;
    let r = this.guide[Math.floor(u * 4096)];
    while (this.cdf[r] < u) r++;
    return r;
  }

  private nextToken(): void {
    const { pool, offsets, lengths } = this.vocab;
    const s = this.scratch;
    const w = this.pickWord();
    const off = offsets[w];
    const len = lengths[w];
    for (let j = 0; j < len; j++) s[j] = pool[off + j];
    let p = len;
    const x = this.rnd();
    const punct = x % 100;
    if (punct < 3) s[p++] = 0x2c;
    else if (punct < 5) s[p++] = 0x2e;
    if (--this.wordsLeftInLine <= 0) {
      this.wordsLeftInLine = this.lineLength();
      const y = (x >>> 8) % 100;
      if (y < 10) s[p++] = 0x0d;
      s[p++] = 0x0a;
      if (y >= 95) s[p++] = 0x0a;
    } else {
      const y = (x >>> 8) % 1000;
      if (y < 900) s[p++] = 0x20;
      else if (y < 950) {
        s[p++] = 0x20;
        s[p++] = 0x20;
      } else if (y < 985) s[p++] = 0x09;
      else if (y < 993) {
        s[p++] = 0x20;
        s[p++] = 0x09;
      } else if (y < 997) s[p++] = 0x0b;
      else s[p++] = 0x0c;
    }
    this.pending = 0;
    this.pendingEnd = p;
  }
}

function checkBytes(bytes: number): void {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`bytes must be a non-negative integer, got ${bytes}`);
}

/** Generates exactly `opts.bytes` bytes of deterministic text in memory. */
export function generateCorpus(opts: CorpusOptions): Buffer {
  checkBytes(opts.bytes);
  const out = Buffer.allocUnsafe(opts.bytes);
  new CorpusGenerator(opts).fill(out);
  return out;
}

/** Writes the same bytes as {@link generateCorpus} to `path`, in 4 MiB chunks, replacing the file. */
export async function writeCorpus(path: string, opts: CorpusOptions): Promise<void> {
  checkBytes(opts.bytes);
  const gen = new CorpusGenerator(opts);
  const chunk = Buffer.allocUnsafe(Math.min(opts.bytes, 4 << 20));
  const fh = await open(path, 'w');
  try {
    let left = opts.bytes;
    while (left > 0) {
      const part = chunk.subarray(0, Math.min(left, chunk.length));
      gen.fill(part);
      let done = 0;
      while (done < part.length) {
        const { bytesWritten } = await fh.write(part, done, part.length - done);
        done += bytesWritten;
      }
      left -= part.length;
    }
  } finally {
    await fh.close();
  }
}
