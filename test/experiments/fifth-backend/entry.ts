import type { BackendEntry } from '../../../src/backends/backend.js';
import { KATA_DESCRIPTOR } from './descriptor.js';
import { KataBackend } from './kata-backend.js';

/** The fifth backend's registry entry: all a registry needs to offer it. */
export const KATA_ENTRY: BackendEntry = { descriptor: KATA_DESCRIPTOR, create: async () => new KataBackend() };
