/** A half-open byte range `[start, end)` of an input. A range owns the words whose first byte lies in it. */
export interface ByteRange {
  /** First byte offset of the range (inclusive). */
  start: number;
  /** Byte offset just past the range (exclusive). */
  end: number;
}

/**
 * The word separators of Hadoop's WordCount: space, \t, \n, \v, \f, \r.
 * `WHITESPACE[b]` is 1 when byte `b` separates words and 0 when it is part of a word.
 */
export const WHITESPACE: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (const b of [0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d]) t[b] = 1;
  return t;
})();

/** True when byte `b` is one of the six ASCII whitespace bytes that separate words. */
export function isWhitespace(b: number): boolean {
  return WHITESPACE[b & 0xff] === 1;
}

/**
 * Cuts `size` bytes into exactly `parallelism` contiguous ranges that cover `[0, size)` in order.
 * Sizes differ by at most one byte; when `parallelism > size` some ranges are empty.
 */
export function splitRanges(size: number, parallelism: number): ByteRange[] {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`size must be a non-negative integer, got ${size}`);
  if (!Number.isSafeInteger(parallelism) || parallelism < 1) {
    throw new RangeError(`parallelism must be a positive integer, got ${parallelism}`);
  }
  const base = Math.floor(size / parallelism);
  const extra = size % parallelism;
  const ranges: ByteRange[] = [];
  let start = 0;
  for (let i = 0; i < parallelism; i++) {
    const end = start + base + (i < extra ? 1 : 0);
    ranges.push({ start, end });
    start = end;
  }
  return ranges;
}
