import { setFlagsFromString } from 'node:v8';

/**
 * Compiles a module with V8's optimizing compiler up front. By default V8 first runs WebAssembly
 * in its baseline tier and swaps in optimized code for later calls only, so a kernel that does its
 * work in one long call (a sort, a check) would run entirely in the baseline tier. `--no-liftoff`
 * is set just for this compilation and then reset.
 */
export function compileOptimized(bytes: Uint8Array): WebAssembly.Module {
  setFlagsFromString('--no-liftoff');
  try {
    return new WebAssembly.Module(bytes);
  } finally {
    setFlagsFromString('--liftoff');
  }
}
