import { compileOptimized } from './compile.js';
import { ins, OP, VOID, wasmModule, type WasmFunction } from './wasm-writer.js';

/**
 * A WebAssembly check of a canonical counts file (see `canonical.ts` for the rules), for the
 * results that arrive from executors: one linear pass over bytes in the module's memory.
 *
 * Memory layout: `[0, 256)` separator table; header words at 256 (see {@link CHECK_HEADER});
 * the file from {@link CHECK_BASE}.
 */

/** Header addresses written by `check`. */
export const CHECK_HEADER = {
  /** Lines read (the failing line's number on error). */
  lines: 256,
  /** Sum of the counts, as an unsigned 64-bit integer. */
  words: 264,
} as const;

/** First byte of the file in the memory. */
export const CHECK_BASE = 1024;

/** Error codes returned by `check`. */
export const CHECK_ERRORS = ['', 'no word', 'no tab after the word', 'bad count', 'no newline after the count', 'word not after the previous one in byte order'] as const;

const MAX_COUNT = 2 ** 53 - 1;
const { get, set, tee, load8, store, store64, br, brIf } = ins;
const c = ins.const;
const addTo = (local: number, n: number): number[] => [...get(local), ...c(n), OP.i32Add, ...set(local)];
const i64c = (n: number): number[] => [OP.i64Const, ...sleb64(n)];

/** Signed LEB128 of a non-negative integer below 2^53. */
function sleb64(n: number): number[] {
  const out: number[] = [];
  let v = BigInt(n);
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    if (v === 0n && (b & 0x40) === 0) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

// check(pos, end) -> 0 or an error code
const K = { pos: 0, end: 1, ws: 2, we: 3, ps: 4, pe: 5, d0: 6, lines: 7, j: 8, x: 9, y: 10, n: 11, count: 12, words: 13 };

const fail = (code: number): number[] => [...c(0), ...get(K.lines), ...store(CHECK_HEADER.lines), ...c(code), OP.return];
const atEndOr = (byte: number): number[] => [...get(K.pos), ...get(K.end), OP.i32GeU, ...get(K.pos), ...load8(), ...c(byte), OP.i32Ne, OP.i32Or];

const check = (): WasmFunction => ({
  name: 'check',
  params: 2,
  result: true,
  locals: 10,
  locals64: 2,
  body: [
    ...c(-1), ...set(K.pe),
    OP.block, VOID,
    OP.loop, VOID, // each line
    ...get(K.pos), ...get(K.end), OP.i32GeU, ...brIf(1),
    ...addTo(K.lines, 1),
    ...get(K.pos), ...set(K.ws),
    OP.block, VOID,
    OP.loop, VOID, // word bytes
    ...get(K.pos), ...get(K.end), OP.i32GeU, ...brIf(1),
    ...get(K.pos), ...load8(), ...load8(), ...brIf(1),
    ...addTo(K.pos, 1), ...br(0),
    OP.end, OP.end,
    ...get(K.pos), ...tee(K.we), ...get(K.ws), OP.i32Eq, OP.if, VOID, ...fail(1), OP.end,
    ...atEndOr(9), OP.if, VOID, ...fail(2), OP.end,
    ...addTo(K.pos, 1),
    ...get(K.pos), ...set(K.d0),
    OP.i64Const, 0, ...set(K.count),
    OP.block, VOID,
    OP.loop, VOID, // digits
    ...get(K.pos), ...get(K.end), OP.i32GeU, ...brIf(1),
    ...get(K.pos), ...load8(), ...c(48), OP.i32Sub, ...tee(K.n), ...c(9), OP.i32GtU, ...brIf(1),
    ...get(K.pos), ...get(K.d0), OP.i32Sub, ...c(16), OP.i32GeU, OP.if, VOID, ...fail(3), OP.end,
    ...get(K.count), ...i64c(10), 0x7e /* i64.mul */, ...get(K.n), OP.i64ExtendI32U, 0x7c /* i64.add */, ...set(K.count),
    ...addTo(K.pos, 1), ...br(0),
    OP.end, OP.end,
    ...get(K.pos), ...get(K.d0), OP.i32Eq,
    ...get(K.d0), ...load8(), ...c(48), OP.i32Eq, OP.i32Or,
    ...get(K.count), ...i64c(MAX_COUNT), 0x56 /* i64.gt_u */, OP.i32Or,
    OP.if, VOID, ...fail(3), OP.end,
    ...atEndOr(10), OP.if, VOID, ...fail(4), OP.end,
    ...addTo(K.pos, 1),
    // the previous word must sort strictly before this one
    ...get(K.pe), ...c(-1), OP.i32Ne,
    OP.if, VOID,
    ...c(0), ...set(K.j),
    OP.block, VOID, // $after: this word is greater
    OP.loop, VOID,
    ...get(K.ps), ...get(K.j), OP.i32Add, ...get(K.pe), OP.i32GeU,
    OP.if, VOID, // previous word ended: it is a prefix; this one must be longer
    ...get(K.ws), ...get(K.j), OP.i32Add, ...get(K.we), OP.i32LtU, ...brIf(2), ...fail(5),
    OP.end,
    ...get(K.ws), ...get(K.j), OP.i32Add, ...get(K.we), OP.i32GeU, OP.if, VOID, ...fail(5), OP.end,
    ...get(K.ps), ...get(K.j), OP.i32Add, ...load8(), ...tee(K.x),
    ...get(K.ws), ...get(K.j), OP.i32Add, ...load8(), ...tee(K.y), OP.i32LtU, ...brIf(1),
    ...get(K.x), ...get(K.y), OP.i32GtU, OP.if, VOID, ...fail(5), OP.end,
    ...addTo(K.j, 1), ...br(0),
    OP.end, OP.end,
    OP.end,
    ...get(K.ws), ...set(K.ps), ...get(K.we), ...set(K.pe),
    ...get(K.words), ...get(K.count), 0x7c /* i64.add */, ...set(K.words),
    ...br(0),
    OP.end, OP.end,
    ...c(0), ...get(K.lines), ...store(CHECK_HEADER.lines),
    ...c(0), ...get(K.words), ...store64(CHECK_HEADER.words),
    ...c(0),
  ],
});

/** The kernel's export. */
export interface CanonicalKernel {
  /** Checks `[pos, end)`; 0, or an index into {@link CHECK_ERRORS} with the line in the header. */
  check(pos: number, end: number): number;
}

let compiled: WebAssembly.Module | undefined;

/** A check kernel over `memory` (the module is compiled once per process). */
export function instantiateCanonicalKernel(memory: WebAssembly.Memory): CanonicalKernel {
  compiled ??= compileOptimized(wasmModule([check()]));
  return new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as CanonicalKernel;
}
