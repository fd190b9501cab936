import type { BackendEntry } from '../backend.js';
import { VM_DESCRIPTOR } from './descriptor.js';

/** Registry entry of the vm backend (libvirt's native client loads on first use). */
export const VM_ENTRY: BackendEntry = {
  descriptor: VM_DESCRIPTOR,
  create: async () => new (await import('./vm-backend.js')).VmBackend(),
};
