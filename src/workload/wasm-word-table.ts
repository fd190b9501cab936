import type { FileHandle } from 'node:fs/promises';
import { WHITESPACE } from './split.js';
import { HEADER, INPUT_BASE, instantiateCountKernel, LINE_OVERHEAD, SLACK, SLOT_BYTES, type CountKernel } from './wasm/count-kernel.js';
import type { WordTable } from './word-table.js';

const PAGE = 65536;
/** Input bytes the kernel counts per call: small enough that V8 tiers the kernel up after the first calls. */
const CALL_BYTES = 1 << 20;
const MAX_MEMORY = 0xffff_0000;

const pages = (bytes: number): number => Math.ceil(bytes / PAGE);
const align16 = (n: number): number => Math.ceil(n / 16) * 16;

/**
 * Word counts held in a WebAssembly memory: the input bytes, then an open-addressing table whose
 * slots point at each word's first occurrence in the input (see `wasm/count-kernel.ts`). The
 * table only lives as long as its input, so it is built from one byte range and read once:
 * {@link canonical} gives the sorted counts file.
 */
export class WasmWordTable implements WordTable {
  /** Number of distinct words. */
  distinct = 0;
  /** Number of word occurrences. */
  total = 0;
  /** Time {@link fromFile} spent reading (ms). */
  readMs = 0;
  private readonly memory: WebAssembly.Memory;
  private kernelInstance?: CountKernel;
  private inputBytes = 0;
  private base = 0;
  private slots = 0;

  private constructor(capacityBytes: number) {
    this.memory = new WebAssembly.Memory({ initial: pages(INPUT_BASE + 2 * (capacityBytes + SLACK)), maximum: pages(MAX_MEMORY) });
    new Uint8Array(this.memory.buffer).set(WHITESPACE, 0);
  }

  /** The kernel over this table's memory (compiled on first use in the process). */
  private get kernel(): CountKernel {
    this.kernelInstance ??= instantiateCountKernel(this.memory);
    return this.kernelInstance;
  }

  /**
   * Counts the words whose first byte lies in `[start, end)` of the file open as `fh`, whose
   * logical size is `size`: reads the byte before `start`, the range and, in growing chunks, the
   * rest of the last word, straight into the memory.
   */
  static async fromFile(fh: FileHandle, start: number, end: number, size: number): Promise<WasmWordTable> {
    const stop = Math.min(end, size);
    const from = start > 0 ? start - 1 : 0;
    const length = Math.max(0, stop - from);
    const t = new WasmWordTable(length + Math.min(4096, size - stop));
    if (start >= stop) return t;
    const t0 = performance.now();
    const reading = t.read(fh, from, length);
    void t.kernel; // compile while the thread pool reads
    await reading;
    let have = length;
    let chunk = 4096;
    while (from + have < size && WHITESPACE[t.byteAt(have - 1)] === 0) {
      const want = Math.min(chunk, size - from - have);
      await t.read(fh, from + have, want, have);
      const ws = t.firstSeparator(have, have + want);
      have = ws < 0 ? have + want : ws;
      if (ws >= 0) break;
      chunk = Math.min(chunk * 2, 64 << 20);
    }
    t.inputBytes = have;
    t.readMs = Math.round((performance.now() - t0) * 1000) / 1000;
    t.countLoaded(start - from, stop - from);
    return t;
  }

  /** Counts the words whose first byte lies in `buf[start, end)`, reading up to `size` to finish the last one. */
  static fromBuffer(buf: Uint8Array, start: number, end: number, size: number = buf.length): WasmWordTable {
    const stop = Math.min(end, size);
    const t = new WasmWordTable(size);
    if (start >= stop) return t;
    new Uint8Array(t.memory.buffer).set(buf.subarray(0, size), INPUT_BASE);
    t.inputBytes = size;
    t.countLoaded(start, stop);
    return t;
  }

  private byteAt(i: number): number {
    return new Uint8Array(this.memory.buffer)[INPUT_BASE + i]!;
  }

  private firstSeparator(from: number, to: number): number {
    const u8 = new Uint8Array(this.memory.buffer);
    for (let i = from; i < to; i++) if (WHITESPACE[u8[INPUT_BASE + i]!] !== 0) return i;
    return -1;
  }

  private ensure(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes > MAX_MEMORY) throw new RangeError(`word table: ${bytes} bytes exceed the 4 GiB a WebAssembly memory can hold`);
    if (bytes > have) this.memory.grow(pages(bytes - have));
  }

  private async read(fh: FileHandle, position: number, length: number, at = 0): Promise<void> {
    this.ensure(INPUT_BASE + at + length + SLACK);
    let done = 0;
    while (done < length) {
      const view = new Uint8Array(this.memory.buffer, INPUT_BASE + at + done, Math.min(length - done, 1 << 30));
      const { bytesRead } = await fh.read(view, 0, view.length, position + done);
      if (bytesRead === 0) throw new Error(`unexpected end of input at byte ${position + done} (expected at least ${position + length})`);
      done += bytesRead;
    }
  }

  /** Counts input bytes `[start, stop)` (relative to the loaded input) with the kernel, growing the table as needed. */
  private countLoaded(start: number, stop: number): void {
    const n = this.inputBytes;
    let pos = start;
    if (pos > 0 && pos < stop && WHITESPACE[this.byteAt(pos - 1)] === 0) {
      const u8 = new Uint8Array(this.memory.buffer);
      while (pos < stop && WHITESPACE[u8[INPUT_BASE + pos]!] === 0) pos++;
    }
    const arena = align16(INPUT_BASE + n + SLACK);
    this.ensure(arena + n + SLACK);
    new Uint8Array(this.memory.buffer)[INPUT_BASE + n] = 0x20;
    this.setHeader(HEADER.arenaTop, arena);
    let slots = 1024;
    while (slots < 65536 && slots * 8 < stop - pos) slots *= 2;
    this.newTable(align16(arena + n + SLACK), slots);
    const end = INPUT_BASE + stop;
    let at = INPUT_BASE + pos;
    while (at < end) {
      const callEnd = Math.min(end, at + CALL_BYTES);
      const full = this.kernel.count(at, callEnd, INPUT_BASE + n);
      at = this.header(HEADER.resume);
      if (full === 1) this.grow();
    }
    this.distinct = this.header(HEADER.distinct);
    this.total = this.header(HEADER.total);
  }

  private header(addr: number): number {
    return new Uint32Array(this.memory.buffer, addr, 1)[0]!;
  }

  private setHeader(addr: number, v: number): void {
    new Int32Array(this.memory.buffer, addr, 1)[0] = v;
  }

  private newTable(base: number, slots: number): void {
    this.ensure(base + slots * SLOT_BYTES);
    new Uint8Array(this.memory.buffer).fill(0, base, base + slots * SLOT_BYTES);
    this.base = base;
    this.slots = slots;
    this.setHeader(HEADER.base, base);
    this.setHeader(HEADER.mask, slots - 1);
    this.setHeader(HEADER.limit, slots >>> 1);
  }

  private grow(): void {
    const oldBase = this.base;
    const oldSlots = this.slots;
    this.newTable(oldBase + oldSlots * SLOT_BYTES, oldSlots * 2);
    this.kernel.rehash(oldBase, oldSlots, this.base, this.slots - 1);
  }

  /** Calls `fn` for each distinct word; `word` is a view valid only during the call. */
  forEach(fn: (word: Uint8Array, count: number) => void): void {
    const u8 = new Uint8Array(this.memory.buffer);
    const s = new Uint32Array(this.memory.buffer, this.base, this.slots * 4);
    for (let k = 0; k < this.slots; k++) {
      const len = s[4 * k + 2]!;
      if (len !== 0) fn(u8.subarray(s[4 * k + 1]!, s[4 * k + 1]! + len), s[4 * k + 3]!);
    }
  }

  /** The canonical counts file of this table: `<word>\t<count>\n` per distinct word, in byte order. */
  canonical(): Buffer {
    if (this.distinct === 0) return Buffer.alloc(0);
    const records = align16(this.base + this.slots * SLOT_BYTES);
    const out = records + this.distinct * SLOT_BYTES;
    const arenaBytes = this.header(HEADER.arenaTop) - align16(INPUT_BASE + this.inputBytes + SLACK);
    this.ensure(out + arenaBytes + this.distinct * LINE_OVERHEAD + SLACK);
    const end = this.kernel.gather(records) >>> 0;
    this.kernel.sort(records, end);
    const outEnd = this.kernel.write(records, end, out) >>> 0;
    return Buffer.from(new Uint8Array(this.memory.buffer, out, outEnd - out));
  }
}
