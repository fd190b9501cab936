import { open, type FileHandle } from 'node:fs/promises';
import { WHITESPACE } from './split.js';
import { ByteWordTable, countRange } from './word-table.js';

export { ByteWordTable, countRange, type WordTable } from './word-table.js';
export { splitRanges, type ByteRange } from './split.js';

const FIRST_TAIL_CHUNK = 16 << 10;
const MAX_READ = 1 << 30;

async function readFully(fh: FileHandle, buf: Uint8Array, offset: number, length: number, position: number): Promise<void> {
  let done = 0;
  while (done < length) {
    const want = Math.min(length - done, MAX_READ);
    const { bytesRead } = await fh.read(buf, offset + done, want, position + done);
    if (bytesRead === 0) throw new Error(`unexpected end of input at byte ${position + done} (expected at least ${position + length})`);
    done += bytesRead;
  }
}

function firstWhitespace(buf: Uint8Array, from: number, to: number): number {
  for (let i = from; i < to; i++) if (WHITESPACE[buf[i]] !== 0) return i;
  return -1;
}

/**
 * Counts the words whose first byte lies in `[start, end)` of the file or block device at `path`,
 * like {@link countRange} over its whole content. Reads only the byte before `start`, the range,
 * and past `end` in growing chunks until the last word ends, never past `size`. `size` defaults to
 * the fstat size; give it for block devices, whose fstat size is 0.
 */
export async function countFileRange(path: string, start: number, end: number, size?: number): Promise<ByteWordTable> {
  if (!Number.isSafeInteger(start) || start < 0) throw new RangeError(`start must be a non-negative integer, got ${start}`);
  if (!Number.isSafeInteger(end) || end < 0) throw new RangeError(`end must be a non-negative integer, got ${end}`);
  if (size !== undefined && (!Number.isSafeInteger(size) || size < 0)) {
    throw new RangeError(`size must be a non-negative integer, got ${size}`);
  }
  const fh = await open(path, 'r');
  try {
    const limit = size ?? (await fh.stat()).size;
    const stop = Math.min(end, limit);
    if (start >= stop) return new ByteWordTable(16);
    const from = start > 0 ? start - 1 : 0;
    const lead = start - from;
    const firstTail = Math.min(FIRST_TAIL_CHUNK, limit - stop);
    let buf = Buffer.allocUnsafe(stop - from + firstTail);
    await readFully(fh, buf, 0, buf.length, from);
    let have = buf.length;
    const rangeEnd = stop - from;
    if (WHITESPACE[buf[rangeEnd - 1]] === 0 && firstWhitespace(buf, rangeEnd, have) < 0) {
      const extra: Buffer[] = [];
      let chunk = FIRST_TAIL_CHUNK * 2;
      let pos = from + have;
      while (pos < limit) {
        const part = Buffer.allocUnsafe(Math.min(chunk, limit - pos));
        await readFully(fh, part, 0, part.length, pos);
        const ws = firstWhitespace(part, 0, part.length);
        extra.push(ws < 0 ? part : part.subarray(0, ws + 1));
        pos += part.length;
        if (ws >= 0) break;
        chunk = Math.min(chunk * 2, 64 << 20);
      }
      buf = Buffer.concat([buf, ...extra]);
      have = buf.length;
    }
    return countRange(buf, lead, rangeEnd, have);
  } finally {
    await fh.close();
  }
}
