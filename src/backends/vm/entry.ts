import type { BackendEntry } from '../backend.js';
import { VM_DESCRIPTOR, VM_VARIANTS, vmVariantDescriptor, type VmVariant } from './descriptor.js';

/** The entry of `vm:micro` or `vm:snapshot`: QEMU started directly (see direct-backend.ts). */
export function vmVariantEntry(v: string): BackendEntry | undefined {
  if (!(VM_VARIANTS as readonly string[]).includes(v)) return undefined;
  const mode = v as VmVariant;
  const descriptor = vmVariantDescriptor(mode);
  return {
    descriptor,
    create: async () => new (await import('./direct-backend.js')).DirectQemuBackend(descriptor, mode),
  };
}

/** Registry entry of the vm backend (libvirt's native client loads on first use); `vm:micro` and `vm:snapshot` select its variants. */
export const VM_ENTRY: BackendEntry = {
  descriptor: VM_DESCRIPTOR,
  create: async () => new (await import('./vm-backend.js')).VmBackend(),
  variant: vmVariantEntry,
  discoverVariants: async () => VM_VARIANTS.map((v) => `vm:${v}`),
};
