/**
 * Largest byte range one map task counts: its input and the arena of its distinct words (at most
 * as large) must fit a 4 GiB WebAssembly memory with the hash table and the sort records.
 */
export const MAX_RANGE_BYTES = 1_800_000_000;
