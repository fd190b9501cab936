import type { BackendEntry } from '../backend.js';
import { PROCESS_DESCRIPTOR } from './descriptor.js';

/** Registry entry of the process backend. */
export const PROCESS_ENTRY: BackendEntry = {
  descriptor: PROCESS_DESCRIPTOR,
  create: async () => new (await import('./process-backend.js')).ProcessBackend(),
};
