/**
 * A minimal WebAssembly binary writer: just enough of the format (one imported memory, i32
 * functions, structured control flow, loads and stores) to express small hot loops, such as the
 * wordcount kernel, without a toolchain. Spec: https://webassembly.github.io/spec/core/binary/
 */

/** Value type i32. */
export const I32 = 0x7f;
/** Block type "no result". */
export const VOID = 0x40;

/** Opcodes used by the kernels (core spec numbering). */
export const OP = {
  block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b, br: 0x0c, brIf: 0x0d, return: 0x0f, call: 0x10, select: 0x1b,
  localGet: 0x20, localSet: 0x21, localTee: 0x22,
  i32Load: 0x28, i64Load: 0x29, i32Load8U: 0x2d, i32Store: 0x36, i64Store: 0x37, i32Store8: 0x3a,
  i32Const: 0x41, i64Const: 0x42, i32Eqz: 0x45, i32Eq: 0x46, i32Ne: 0x47, i32LtU: 0x49, i32GtU: 0x4b, i32LeU: 0x4d, i32GeU: 0x4f,
  i64Eq: 0x51, i64Ne: 0x52, i64LtU: 0x54,
  i32Add: 0x6a, i32Sub: 0x6b, i32Mul: 0x6c, i32DivU: 0x6e, i32RemU: 0x70, i32And: 0x71, i32Or: 0x72, i32Xor: 0x73, i32Shl: 0x74,
  i32ShrU: 0x76, i32Rotl: 0x77, i64Or: 0x84, i64Shl: 0x86, i64ExtendI32U: 0xad,
} as const;

/** Value type i64. */
export const I64 = 0x7e;

/** Unsigned LEB128. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  let v = n >>> 0;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

/** Signed LEB128 of a 32-bit integer. */
export function sleb(n: number): number[] {
  const out: number[] = [];
  let v = n | 0;
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/** Instruction helpers: each returns the bytes of one instruction. */
export const ins = {
  get: (local: number): number[] => [OP.localGet, ...uleb(local)],
  set: (local: number): number[] => [OP.localSet, ...uleb(local)],
  tee: (local: number): number[] => [OP.localTee, ...uleb(local)],
  const: (n: number): number[] => [OP.i32Const, ...sleb(n)],
  load: (offset = 0): number[] => [OP.i32Load, 0, ...uleb(offset)],
  load8: (offset = 0): number[] => [OP.i32Load8U, 0, ...uleb(offset)],
  store: (offset = 0): number[] => [OP.i32Store, 0, ...uleb(offset)],
  store8: (offset = 0): number[] => [OP.i32Store8, 0, ...uleb(offset)],
  load64: (offset = 0): number[] => [OP.i64Load, 0, ...uleb(offset)],
  store64: (offset = 0): number[] => [OP.i64Store, 0, ...uleb(offset)],
  call: (fn: number): number[] => [OP.call, ...uleb(fn)],
  /** memory.copy (bulk memory): dst, src, length on the stack. */
  memoryCopy: (): number[] => [0xfc, ...uleb(10), 0x00, 0x00],
  br: (depth: number): number[] => [OP.br, ...uleb(depth)],
  brIf: (depth: number): number[] => [OP.brIf, ...uleb(depth)],
};

/** One function of a module: its signature (i32 params, 0 or 1 i32 result), extra i32 locals and body. */
export interface WasmFunction {
  /** Exported under this name. */
  name: string;
  /** Number of i32 parameters (locals 0..params-1). */
  params: number;
  /** Whether it returns an i32. */
  result: boolean;
  /** Number of extra i32 locals (numbered after the parameters). */
  locals: number;
  /** Number of i64 locals, numbered after the i32 ones. */
  locals64?: number;
  /** Instructions, without the final `end`. */
  body: number[];
}

const section = (id: number, bytes: number[]): number[] => [id, ...uleb(bytes.length), ...bytes];
const vector = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const name = (s: string): number[] => [...uleb(Buffer.byteLength(s)), ...Buffer.from(s)];

/** A module importing memory `env.memory` and exporting `functions`; returns its binary. */
export function wasmModule(functions: WasmFunction[]): Uint8Array {
  const types = functions.map((f) => [0x60, ...vector(Array.from({ length: f.params }, () => [I32])), ...vector(f.result ? [[I32]] : [])]);
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vector(types)),
    ...section(2, vector([[...name('env'), ...name('memory'), 0x02, 0x00, ...uleb(1)]])),
    ...section(3, vector(functions.map((_, i) => uleb(i)))),
    ...section(7, vector(functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vector(functions.map((f) => {
      const decls = [...(f.locals > 0 ? [[...uleb(f.locals), I32]] : []), ...(f.locals64 ? [[...uleb(f.locals64), I64]] : [])];
      const code = [...vector(decls), ...f.body, OP.end];
      return [...uleb(code.length), ...code];
    }))),
  ];
  return Uint8Array.from(bytes);
}
