import { open, type FileHandle } from 'node:fs/promises';
import { WHITESPACE } from './split.js';
import { ByteWordTable, countRange } from './word-table.js';

export { ByteWordTable, countRange, type WordTable } from './word-table.js';
export { splitRanges, type ByteRange } from './split.js';

const FIRST_TAIL_CHUNK = 4 << 10;
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

async function regularFileSize(fh: FileHandle, path: string): Promise<number> {
  const st = await fh.stat();
  if (!st.isFile()) throw new Error(`${path} is not a regular file: pass its size explicitly`);
  return st.size;
}

/**
 * Counts the words whose first byte lies in `[start, end)` of the file or block device at `path`,
 * like {@link countRange} over its whole content. Reads only the byte before `start`, the range,
 * and past `end` in growing chunks until the last word ends, never past `size`. `size` defaults to
 * the fstat size of a regular file and must be given for anything else (block devices report 0).
 */
export async function countFileRange(path: string, start: number, end: number, size?: number): Promise<ByteWordTable> {
  if (!Number.isSafeInteger(start) || start < 0) throw new RangeError(`start must be a non-negative integer, got ${start}`);
  if (!Number.isSafeInteger(end) || end < 0) throw new RangeError(`end must be a non-negative integer, got ${end}`);
  if (size !== undefined && (!Number.isSafeInteger(size) || size < 0)) {
    throw new RangeError(`size must be a non-negative integer, got ${size}`);
  }
  const fh = await open(path, 'r');
  try {
    const limit = size ?? (await regularFileSize(fh, path));
    const stop = Math.min(end, limit);
    if (start >= stop) return new ByteWordTable(16);
    const from = start > 0 ? start - 1 : 0;
    const lead = start - from;
    const rangeEnd = stop - from;
    const firstTail = Math.min(FIRST_TAIL_CHUNK, limit - stop);
    let buf = Buffer.allocUnsafe(rangeEnd + firstTail);
    await readFully(fh, buf, 0, rangeEnd, from);
    if (lead === 1 && WHITESPACE[buf[0]] === 0 && firstWhitespace(buf, 1, rangeEnd) < 0) return new ByteWordTable(16);
    let have = rangeEnd;
    if (firstTail > 0 && WHITESPACE[buf[rangeEnd - 1]] === 0) {
      await readFully(fh, buf, rangeEnd, firstTail, stop);
      const ws = firstWhitespace(buf, rangeEnd, rangeEnd + firstTail);
      have = ws < 0 ? rangeEnd + firstTail : ws;
      if (ws < 0 && stop + firstTail < limit) {
        const extra: Buffer[] = [buf];
        let chunk = FIRST_TAIL_CHUNK * 2;
        let pos = stop + firstTail;
        while (pos < limit) {
          const part = Buffer.allocUnsafe(Math.min(chunk, limit - pos));
          await readFully(fh, part, 0, part.length, pos);
          const end = firstWhitespace(part, 0, part.length);
          extra.push(end < 0 ? part : part.subarray(0, end));
          pos += part.length;
          if (end >= 0) break;
          chunk = Math.min(chunk * 2, 64 << 20);
        }
        buf = Buffer.concat(extra);
        have = buf.length;
      }
    }
    return countRange(buf, lead, rangeEnd, have);
  } finally {
    await fh.close();
  }
}
