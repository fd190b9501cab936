import { open, type FileHandle } from 'node:fs/promises';
import { WasmWordTable } from './wasm-word-table.js';

export { ByteWordTable, countRange, type WordTable } from './word-table.js';
export { WasmWordTable } from './wasm-word-table.js';
export { splitRanges, type ByteRange } from './split.js';

async function regularFileSize(fh: FileHandle, path: string): Promise<number> {
  const st = await fh.stat();
  if (!st.isFile()) throw new Error(`${path} is not a regular file: pass its size explicitly`);
  return st.size;
}

/**
 * Counts the words whose first byte lies in `[start, end)` of the file or block device at `path`,
 * like {@link countRange} over its whole content, with the WebAssembly kernel. Reads only the byte
 * before `start`, the range, and past `end` in growing chunks until the last word ends, never past
 * `size`. `size` defaults to the fstat size of a regular file and must be given for anything else
 * (block devices report 0).
 */
export async function countFileRange(path: string, start: number, end: number, size?: number): Promise<WasmWordTable> {
  if (!Number.isSafeInteger(start) || start < 0) throw new RangeError(`start must be a non-negative integer, got ${start}`);
  if (!Number.isSafeInteger(end) || end < 0) throw new RangeError(`end must be a non-negative integer, got ${end}`);
  if (size !== undefined && (!Number.isSafeInteger(size) || size < 0)) {
    throw new RangeError(`size must be a non-negative integer, got ${size}`);
  }
  const fh = await open(path, 'r');
  try {
    const limit = size ?? (await regularFileSize(fh, path));
    return await WasmWordTable.fromFile(fh, start, end, limit);
  } finally {
    await fh.close();
  }
}
