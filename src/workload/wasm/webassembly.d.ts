// The part of the WebAssembly JS API the kernels use. TypeScript declares it only in lib.dom,
// which a Node project does not load; node provides the global at run time.
declare namespace WebAssembly {
  /** A compiled module. */
  class Module {
    constructor(bytes: Uint8Array);
  }
  /** An instantiated module. */
  class Instance {
    constructor(module: Module, imports?: Record<string, Record<string, unknown>>);
    /** The module's exports. */
    readonly exports: Record<string, unknown>;
  }
  /** A linear memory, in 64 KiB pages. */
  class Memory {
    constructor(descriptor: { initial: number; maximum?: number });
    /** The memory's bytes; replaced (and the old one detached) by grow. */
    readonly buffer: ArrayBuffer;
    /** Adds `delta` pages; returns the previous size in pages. */
    grow(delta: number): number;
  }
}
