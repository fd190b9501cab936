import { compileOptimized } from './compile.js';
import { ins, OP, VOID, wasmModule, type WasmFunction } from './wasm-writer.js';

/**
 * The wordcount kernel as a WebAssembly module, written with {@link wasmModule}: it counts the
 * words of an input held in its own linear memory, then sorts them and writes the canonical
 * counts file, all in the same memory. The input is read straight from the file into the memory
 * and never copied; no JS object is made per word.
 *
 * Memory layout (byte addresses):
 * - `[0, 256)`: separator table, 1 for the six ASCII whitespace bytes;
 * - `[256, 512)`: header words (see {@link HEADER}) and two 16-byte scratch records;
 * - `[512, 1024)`: the sort's stack;
 * - `[INPUT_BASE, …)`: the input, then {@link SLACK} bytes whose first is a separator (a sentinel
 *   that ends the last word); then the arena, where each distinct word is copied when first seen;
 *   then the hash table(s); after counting, the sort records and the output.
 *
 * A table slot is 16 bytes: hash, arena address of the word, length (0 = empty slot), count
 * (unsigned 32-bit). Words are hashed and compared 4 bytes at a time, reading up to 3 bytes past
 * their end, which the slack covers. A sort record is 16 bytes: the word's first 8 bytes as a
 * big-endian integer (zero-padded), the slot address, the length.
 */

/** Header word addresses. */
export const HEADER = {
  /** Distinct words in the table. */
  distinct: 256,
  /** Word occurrences counted (unsigned 32-bit). */
  total: 260,
  /** Address of the current table. */
  base: 264,
  /** Slots of the current table minus one (a power of two minus one). */
  mask: 268,
  /** `count` stops before inserting a word once the table holds this many. */
  limit: 272,
  /** Where `count` stopped: past the last word counted, or the first byte of the word it could not insert. */
  resume: 276,
  /** Next free byte of the arena. */
  arenaTop: 280,
} as const;

const PIVOT = 288;
const TEMP = 304;
const STACK = 512;

/** First byte of the input in the memory. */
export const INPUT_BASE = 1024;
/** Bytes kept free after the input and after the arena (sentinel and over-reads). */
export const SLACK = 16;
/** Bytes per table slot and per sort record. */
export const SLOT_BYTES = 16;
/** Most bytes one decimal count takes in the output, with its tab and newline. */
export const LINE_OVERHEAD = 12;

const C1 = 0x85ebca77 | 0;
const SEED = 0x9e3779b1 | 0;
const FN = { count: 0, rehash: 1, less: 2, gather: 3, sort: 4, write: 5 };

const { get, set, tee, load, load8, store, store8, load64, store64, br, brIf, call, memoryCopy } = ins;
const c = ins.const;

/** `(1 << (8 * local)) - 1`: a mask of the low `local` bytes (local < 4). */
const lowBytesMask = (local: number): number[] => [...c(1), ...get(local), ...c(3), OP.i32Shl, OP.i32Shl, ...c(1), OP.i32Sub];

/** h = rotl((h ^ x) * C1, 13), with x on the stack. */
const mixInto = (h: number): number[] => [...get(h), OP.i32Xor, ...c(C1), OP.i32Mul, ...c(13), OP.i32Rotl, ...set(h)];

/** local += n */
const addTo = (local: number, n: number): number[] => [...get(local), ...c(n), OP.i32Add, ...set(local)];

// count(pos, end, size) locals
const P = { i: 0, end: 1, size: 2, from: 3, h: 4, len: 5, s: 6, addr: 7, off: 8, j: 9, distinct: 10, total: 11, mask: 12, base: 13, limit: 14, rem: 15, top: 16 };

const saveCountState = [
  ...c(0), ...get(P.distinct), ...store(HEADER.distinct),
  ...c(0), ...get(P.total), ...store(HEADER.total),
  ...c(0), ...get(P.top), ...store(HEADER.arenaTop),
];

const count = (): WasmFunction => ({
  name: 'count',
  params: 3,
  result: true,
  locals: 14,
  body: [
    ...c(0), ...load(HEADER.distinct), ...set(P.distinct),
    ...c(0), ...load(HEADER.total), ...set(P.total),
    ...c(0), ...load(HEADER.base), ...set(P.base),
    ...c(0), ...load(HEADER.mask), ...set(P.mask),
    ...c(0), ...load(HEADER.limit), ...set(P.limit),
    ...c(0), ...load(HEADER.arenaTop), ...set(P.top),
    OP.block, VOID, // $done
    OP.loop, VOID, // $words
    OP.block, VOID, // $inword
    OP.loop, VOID, // skip separators
    ...get(P.i), ...get(P.end), OP.i32GeU, ...brIf(3),
    ...get(P.i), ...load8(), ...load8(), OP.i32Eqz, ...brIf(1),
    ...addTo(P.i, 1), ...br(0),
    OP.end, OP.end,
    ...get(P.i), ...set(P.from),
    OP.loop, VOID, // to the word's end (the sentinel stops it at the input's end)
    ...get(P.i), ...c(1), OP.i32Add, ...tee(P.i), ...load8(), ...load8(), OP.i32Eqz, ...brIf(0),
    OP.end,
    ...get(P.i), ...get(P.from), OP.i32Sub, ...tee(P.len), ...c(SEED), OP.i32Mul, ...set(P.h),
    ...get(P.from), ...set(P.j),
    OP.block, VOID,
    OP.loop, VOID, // hash 4 bytes at a time
    ...get(P.i), ...get(P.j), OP.i32Sub, ...c(4), OP.i32LtU, ...brIf(1),
    ...get(P.j), ...load(), ...mixInto(P.h),
    ...addTo(P.j, 4), ...br(0),
    OP.end, OP.end,
    ...get(P.i), ...get(P.j), OP.i32Sub, ...set(P.rem),
    ...get(P.j), ...load(), ...lowBytesMask(P.rem), OP.i32And, ...mixInto(P.h),
    ...get(P.h), ...get(P.h), ...c(16), OP.i32ShrU, OP.i32Xor, ...c(0x7feb352d), OP.i32Mul, ...set(P.h),
    ...get(P.h), ...get(P.h), ...c(15), OP.i32ShrU, OP.i32Xor, ...c(0x846ca68b | 0), OP.i32Mul, ...set(P.h),
    ...get(P.h), ...get(P.h), ...c(16), OP.i32ShrU, OP.i32Xor, ...set(P.h),
    ...get(P.h), ...get(P.mask), OP.i32And, ...set(P.s),
    OP.block, VOID, // $found
    OP.loop, VOID, // $probe
    ...get(P.base), ...get(P.s), ...c(4), OP.i32Shl, OP.i32Add, ...tee(P.addr), ...load(8), OP.i32Eqz,
    OP.if, VOID, // empty slot: insert
    ...get(P.distinct), ...get(P.limit), OP.i32GeU,
    OP.if, VOID, // table full: stop before this word
    ...c(0), ...get(P.from), ...store(HEADER.resume), ...saveCountState, ...c(1), OP.return,
    OP.end,
    ...get(P.top), ...get(P.from), ...get(P.len), ...memoryCopy(),
    ...get(P.addr), ...get(P.h), ...store(0),
    ...get(P.addr), ...get(P.top), ...store(4),
    ...get(P.addr), ...get(P.len), ...store(8),
    ...get(P.addr), ...c(1), ...store(12),
    ...get(P.top), ...get(P.len), OP.i32Add, ...set(P.top),
    ...addTo(P.distinct, 1),
    ...br(2), // -> $found
    OP.end,
    ...get(P.addr), ...load(0), ...get(P.h), OP.i32Eq, ...get(P.addr), ...load(8), ...get(P.len), OP.i32Eq, OP.i32And,
    OP.if, VOID, // same hash and length: compare the bytes
    ...get(P.addr), ...load(4), ...set(P.off),
    ...c(0), ...set(P.j),
    OP.block, VOID, // $differ
    OP.block, VOID, // $tail
    OP.loop, VOID,
    ...get(P.len), ...get(P.j), OP.i32Sub, ...c(4), OP.i32LtU, ...brIf(1),
    ...get(P.off), ...get(P.j), OP.i32Add, ...load(), ...get(P.from), ...get(P.j), OP.i32Add, ...load(), OP.i32Ne, ...brIf(2),
    ...addTo(P.j, 4), ...br(0),
    OP.end, OP.end,
    ...get(P.len), ...get(P.j), OP.i32Sub, ...set(P.rem),
    ...get(P.off), ...get(P.j), OP.i32Add, ...load(), ...get(P.from), ...get(P.j), OP.i32Add, ...load(), OP.i32Xor,
    ...lowBytesMask(P.rem), OP.i32And, ...brIf(0),
    ...get(P.addr), ...get(P.addr), ...load(12), ...c(1), OP.i32Add, ...store(12),
    ...br(3), // -> $found
    OP.end, // $differ
    OP.end, // if
    ...get(P.s), ...c(1), OP.i32Add, ...get(P.mask), OP.i32And, ...set(P.s), ...br(0),
    OP.end, OP.end, // $probe, $found
    ...addTo(P.total, 1),
    ...br(0),
    OP.end, OP.end, // $words, $done
    ...c(0), ...get(P.i), ...store(HEADER.resume), ...saveCountState,
    ...c(0),
  ],
});

// rehash(oldBase, oldSlots, newBase, newMask) locals
const R = { oldBase: 0, oldSlots: 1, newBase: 2, newMask: 3, k: 4, src: 5, s: 6, dst: 7 };

const rehash = (): WasmFunction => ({
  name: 'rehash',
  params: 4,
  result: false,
  locals: 4,
  body: [
    OP.block, VOID,
    OP.loop, VOID,
    ...get(R.k), ...get(R.oldSlots), OP.i32GeU, ...brIf(1),
    ...get(R.oldBase), ...get(R.k), ...c(4), OP.i32Shl, OP.i32Add, ...tee(R.src), ...load(8),
    OP.if, VOID,
    ...get(R.src), ...load(0), ...get(R.newMask), OP.i32And, ...set(R.s),
    OP.loop, VOID,
    ...get(R.newBase), ...get(R.s), ...c(4), OP.i32Shl, OP.i32Add, ...tee(R.dst), ...load(8),
    OP.if, VOID,
    ...get(R.s), ...c(1), OP.i32Add, ...get(R.newMask), OP.i32And, ...set(R.s), ...br(1),
    OP.end,
    OP.end,
    ...get(R.dst), ...get(R.src), ...load64(0), ...store64(0),
    ...get(R.dst), ...get(R.src), ...load64(8), ...store64(8),
    OP.end,
    ...addTo(R.k, 1), ...br(0),
    OP.end, OP.end,
  ],
});

// less(a, b): record a sorts before record b
const L = { a: 0, b: 1, pa: 2, pb: 3, la: 4, lb: 5, m: 6, j: 7, x: 8, y: 9, ka: 10, kb: 11 };

const less = (): WasmFunction => ({
  name: 'less',
  params: 2,
  result: true,
  locals: 8,
  locals64: 2,
  body: [
    ...get(L.a), ...load64(), ...set(L.ka),
    ...get(L.b), ...load64(), ...set(L.kb),
    ...get(L.ka), ...get(L.kb), OP.i64Ne,
    OP.if, VOID,
    ...get(L.ka), ...get(L.kb), OP.i64LtU, OP.return,
    OP.end,
    ...get(L.a), ...load(12), ...set(L.la),
    ...get(L.b), ...load(12), ...set(L.lb),
    ...get(L.a), ...load(8), ...load(4), ...set(L.pa),
    ...get(L.b), ...load(8), ...load(4), ...set(L.pb),
    ...get(L.la), ...get(L.lb), ...get(L.la), ...get(L.lb), OP.i32LtU, OP.select, ...set(L.m),
    ...c(8), ...set(L.j),
    OP.block, VOID,
    OP.loop, VOID,
    ...get(L.j), ...get(L.m), OP.i32GeU, ...brIf(1),
    ...get(L.pa), ...get(L.j), OP.i32Add, ...load8(), ...tee(L.x),
    ...get(L.pb), ...get(L.j), OP.i32Add, ...load8(), ...tee(L.y), OP.i32Ne,
    OP.if, VOID,
    ...get(L.x), ...get(L.y), OP.i32LtU, OP.return,
    OP.end,
    ...addTo(L.j, 1), ...br(0),
    OP.end, OP.end,
    ...get(L.la), ...get(L.lb), OP.i32LtU,
  ],
});

// gather(rec) -> end of the records written
const G = { rec: 0, k: 1, slot: 2, len: 3, p: 4, j: 5, base: 6, slots: 7, key: 8 };

const gather = (): WasmFunction => ({
  name: 'gather',
  params: 1,
  result: true,
  locals: 7,
  locals64: 1,
  body: [
    ...c(0), ...load(HEADER.base), ...set(G.base),
    ...c(0), ...load(HEADER.mask), ...c(1), OP.i32Add, ...set(G.slots),
    OP.block, VOID,
    OP.loop, VOID,
    ...get(G.k), ...get(G.slots), OP.i32GeU, ...brIf(1),
    ...get(G.base), ...get(G.k), ...c(4), OP.i32Shl, OP.i32Add, ...tee(G.slot), ...load(8), ...tee(G.len),
    OP.if, VOID,
    ...get(G.slot), ...load(4), ...set(G.p),
    OP.i64Const, 0, ...set(G.key),
    ...c(0), ...set(G.j),
    OP.loop, VOID, // key = key << 8 | (j < len ? byte j : 0), 8 times
    ...get(G.key), OP.i64Const, 8, OP.i64Shl,
    ...get(G.p), ...get(G.j), OP.i32Add, ...load8(), ...c(0), ...get(G.j), ...get(G.len), OP.i32LtU, OP.select,
    OP.i64ExtendI32U, OP.i64Or, ...set(G.key),
    ...addTo(G.j, 1),
    ...get(G.j), ...c(8), OP.i32LtU, ...brIf(0),
    OP.end,
    ...get(G.rec), ...get(G.key), ...store64(0),
    ...get(G.rec), ...get(G.slot), ...store(8),
    ...get(G.rec), ...get(G.len), ...store(12),
    ...addTo(G.rec, 16),
    OP.end,
    ...addTo(G.k, 1), ...br(0),
    OP.end, OP.end,
    ...get(G.rec),
  ],
});

// sort(lo, hi): sorts the records in [lo, hi) with less(): quicksort (median of three, Hoare
// partition, the larger part pushed, the smaller looped on), insertion sort below 16 records.
const S = { lo: 0, hi: 1, sp: 2, i: 3, j: 4, mid: 5, x: 6, y: 7, t1: 8, t2: 9, pk: 10, k: 11 };
const SMALL = 16 * 16;

const swap = (a: number, b: number): number[] => [
  ...get(a), ...load64(0), ...set(S.t1), ...get(a), ...load64(8), ...set(S.t2),
  ...get(a), ...get(b), ...load64(0), ...store64(0), ...get(a), ...get(b), ...load64(8), ...store64(8),
  ...get(b), ...get(S.t1), ...store64(0), ...get(b), ...get(S.t2), ...store64(8),
];
const copyRecord = (to: number[], from: number[]): number[] => [...to, ...from, ...load64(0), ...store64(0), ...to, ...from, ...load64(8), ...store64(8)];
const push = (a: number[], b: number[]): number[] => [...get(S.sp), ...a, ...store(0), ...get(S.sp), ...b, ...store(4), ...addTo(S.sp, 8)];
const lessThan = (a: number[], b: number[]): number[] => [...a, ...b, ...call(FN.less)];
/**
 * Inside a loop: continue it (br 0) when record `rec` sorts before the record whose key is in
 * local `pk` and whose address is `pivot` (or after it, when `after`): keys decide, and `less`
 * only breaks ties.
 */
const continueIfBefore = (rec: number[], pivot: number[], after = false): number[] => [
  ...rec, ...load64(), ...set(S.k),
  ...(after ? [...get(S.pk), ...get(S.k)] : [...get(S.k), ...get(S.pk)]), OP.i64LtU, ...brIf(0),
  ...get(S.k), ...get(S.pk), OP.i64Eq,
  OP.if, VOID, ...(after ? lessThan(pivot, rec) : lessThan(rec, pivot)), ...brIf(1), OP.end,
];

const sort = (): WasmFunction => ({
  name: 'sort',
  params: 2,
  result: false,
  locals: 6,
  locals64: 4,
  body: [
    ...c(STACK), ...set(S.sp),
    ...push(get(S.lo), [...get(S.hi), ...c(16), OP.i32Sub]),
    OP.block, VOID, // $all
    OP.loop, VOID, // $pop
    ...get(S.sp), ...c(STACK), OP.i32LeU, ...brIf(1),
    ...get(S.sp), ...c(8), OP.i32Sub, ...tee(S.sp), ...load(0), ...set(S.lo),
    ...get(S.sp), ...load(4), ...set(S.hi), // hi is inclusive from here on
    OP.loop, VOID, // $part
    ...get(S.hi), ...get(S.lo), OP.i32Sub, ...c(SMALL), OP.i32GtU,
    OP.if, VOID,
    ...get(S.lo), ...get(S.hi), ...get(S.lo), OP.i32Sub, ...c(5), OP.i32ShrU, ...c(4), OP.i32Shl, OP.i32Add, ...set(S.mid),
    ...lessThan(get(S.mid), get(S.lo)), OP.if, VOID, ...swap(S.mid, S.lo), OP.end,
    ...lessThan(get(S.hi), get(S.mid)),
    OP.if, VOID,
    ...swap(S.hi, S.mid),
    ...lessThan(get(S.mid), get(S.lo)), OP.if, VOID, ...swap(S.mid, S.lo), OP.end,
    OP.end,
    ...copyRecord(c(PIVOT), get(S.mid)),
    ...c(PIVOT), ...load64(), ...set(S.pk),
    ...get(S.lo), ...c(16), OP.i32Sub, ...set(S.i),
    ...get(S.hi), ...c(16), OP.i32Add, ...set(S.j),
    OP.block, VOID, // $partitioned
    OP.loop, VOID,
    OP.loop, VOID, ...addTo(S.i, 16), ...continueIfBefore(get(S.i), c(PIVOT)), OP.end,
    OP.loop, VOID, ...get(S.j), ...c(16), OP.i32Sub, ...set(S.j), ...continueIfBefore(get(S.j), c(PIVOT), true), OP.end,
    ...get(S.i), ...get(S.j), OP.i32GeU, ...brIf(1),
    ...swap(S.i, S.j),
    ...br(0),
    OP.end, OP.end,
    ...get(S.j), ...get(S.lo), OP.i32Sub, ...get(S.hi), ...get(S.j), ...c(16), OP.i32Add, OP.i32Sub, OP.i32GtU,
    OP.if, VOID,
    ...push(get(S.lo), get(S.j)), ...get(S.j), ...c(16), OP.i32Add, ...set(S.lo),
    OP.else,
    ...push([...get(S.j), ...c(16), OP.i32Add], get(S.hi)), ...get(S.j), ...set(S.hi),
    OP.end,
    ...br(1), // -> $part
    OP.end,
    OP.end, // $part
    // insertion sort of [lo, hi]
    ...get(S.lo), ...c(16), OP.i32Add, ...set(S.x),
    OP.block, VOID,
    OP.loop, VOID,
    ...get(S.x), ...get(S.hi), OP.i32GtU, ...brIf(1),
    ...copyRecord(c(TEMP), get(S.x)),
    ...c(TEMP), ...load64(), ...set(S.pk),
    ...get(S.x), ...c(16), OP.i32Sub, ...set(S.y),
    OP.block, VOID, // $placed
    OP.loop, VOID,
    ...get(S.y), ...get(S.lo), OP.i32LtU, ...brIf(1),
    OP.block, VOID, // $stay: TEMP does not sort before record y
    OP.block, VOID, // $shift: it does
    ...get(S.y), ...load64(), ...set(S.k),
    ...get(S.pk), ...get(S.k), OP.i64LtU, ...brIf(0),
    ...get(S.k), ...get(S.pk), OP.i64Eq, OP.if, VOID, ...lessThan(c(TEMP), get(S.y)), ...brIf(1), OP.end,
    ...br(1),
    OP.end, // $shift
    ...copyRecord([...get(S.y), ...c(16), OP.i32Add], get(S.y)),
    ...get(S.y), ...c(16), OP.i32Sub, ...set(S.y),
    ...br(1), // next y
    OP.end, // $stay
    ...br(1), // -> $placed
    OP.end, OP.end,
    ...copyRecord([...get(S.y), ...c(16), OP.i32Add], c(TEMP)),
    ...addTo(S.x, 16), ...br(0),
    OP.end, OP.end,
    ...br(0), // -> $pop
    OP.end, OP.end,
  ],
});

// write(rec, end, out) -> end of the output
const W = { rec: 0, end: 1, out: 2, slot: 3, len: 4, n: 5, d: 6, t: 7, q: 8 };

const write = (): WasmFunction => ({
  name: 'write',
  params: 3,
  result: true,
  locals: 6,
  body: [
    OP.block, VOID,
    OP.loop, VOID,
    ...get(W.rec), ...get(W.end), OP.i32GeU, ...brIf(1),
    ...get(W.rec), ...load(8), ...set(W.slot),
    ...get(W.slot), ...load(8), ...set(W.len),
    ...get(W.slot), ...load(12), ...set(W.n),
    ...get(W.out), ...get(W.slot), ...load(4), ...get(W.len), ...memoryCopy(),
    ...get(W.out), ...get(W.len), OP.i32Add, ...tee(W.out), ...c(9), ...store8(),
    ...addTo(W.out, 1),
    ...c(1), ...set(W.d), ...get(W.n), ...set(W.t),
    OP.block, VOID,
    OP.loop, VOID,
    ...get(W.t), ...c(10), OP.i32LtU, ...brIf(1),
    ...get(W.t), ...c(10), OP.i32DivU, ...set(W.t), ...addTo(W.d, 1), ...br(0),
    OP.end, OP.end,
    ...get(W.out), ...get(W.d), OP.i32Add, ...set(W.q),
    OP.loop, VOID,
    ...get(W.q), ...c(1), OP.i32Sub, ...tee(W.q), ...get(W.n), ...c(10), OP.i32RemU, ...c(48), OP.i32Add, ...store8(),
    ...get(W.n), ...c(10), OP.i32DivU, ...tee(W.n), ...brIf(0),
    OP.end,
    ...get(W.out), ...get(W.d), OP.i32Add, ...tee(W.out), ...c(10), ...store8(),
    ...addTo(W.out, 1),
    ...addTo(W.rec, 16), ...br(0),
    OP.end, OP.end,
    ...get(W.out),
  ],
});

/** The kernel's exports (addresses are byte addresses in the memory, as unsigned 32-bit). */
export interface CountKernel {
  /**
   * Counts the words whose first byte lies in `[pos, end)`, finishing the last one at the
   * sentinel before `size`. Returns 0 when done, 1 when the table reached its limit first; either
   * way `HEADER.resume` says where to continue.
   */
  count(pos: number, end: number, size: number): number;
  /** Moves every entry of the old table into the (zeroed) new one. */
  rehash(oldBase: number, oldSlots: number, newBase: number, newMask: number): void;
  /** Writes one sort record per distinct word from `rec` on; returns the end of the records. */
  gather(rec: number): number;
  /** Sorts the records in `[lo, hi)` by the bytes of their words. */
  sort(lo: number, hi: number): void;
  /** Writes `<word>\t<count>\n` for each record in `[rec, end)` from `out` on; returns the end. */
  write(rec: number, end: number, out: number): number;
}

let compiled: WebAssembly.Module | undefined;

/** The compiled module (compiled once per process). */
export function countKernelModule(): WebAssembly.Module {
  compiled ??= compileOptimized(wasmModule([count(), rehash(), less(), gather(), sort(), write()]));
  return compiled;
}

/** A kernel instance over `memory`. */
export function instantiateCountKernel(memory: WebAssembly.Memory): CountKernel {
  const inst = new WebAssembly.Instance(countKernelModule(), { env: { memory } });
  return inst.exports as unknown as CountKernel;
}
