import { describe, expect, it } from 'vitest';
import type { Backend, Fingerprint } from '../../src/backends/backend.js';
import { acceleratorOf } from '../../src/backends/descriptor.js';
import { registry } from '../../src/backends/registry.js';
import { defaultBackends, inspectBackends, orderBackends, unknownBackends, type BackendSource } from '../../src/experiments/backends.js';

/** A source registering only the fingerprinted names, describing them (and nothing else) as the real registry does. */
function source(fps: Record<string, Fingerprint>): BackendSource {
  return {
    names: () => Object.keys(fps),
    describe: (n) => (Object.hasOwn(fps, n) ? registry.describe(n) ?? registry.describe('process') : undefined),
    get: async () => ({}) as Backend,
    fingerprint: async (n) => fps[n]!,
  };
}

describe('backends of a run', () => {
  const src = source({
    process: { health: 'healthy', description: 'child processes', attributes: { 'process.node': 'v20.1.0' } },
    vm: { health: 'unhealthy', description: 'guest image not built', attributes: { 'vm.accelerator': 'tcg', 'vm.qemu.version': '7.2' } },
  });

  it('keeps unregistered and unhealthy backends, unusable, with the reason, along the isolation spectrum', async () => {
    const infos = await inspectBackends(['vm', 'docker', 'process'], src);
    expect(infos.map((b) => [b.name, b.usable, b.health, b.description, b.accelerator])).toEqual([
      ['process', true, 'healthy', 'child processes', 'none'],
      ['vm', false, 'unhealthy', 'guest image not built', 'tcg'],
      ['docker', false, 'undetected', 'backend not registered in this build', 'unknown'],
    ]);
  });

  it('records each backend\'s descriptor with the versions and accelerator its fingerprint found', async () => {
    const [p, vm, docker] = await inspectBackends(['process', 'vm', 'docker'], src);
    expect(p!.descriptor).toMatchObject({ kind: 'process', boundary: 'host-kernel', baseline: true, runtime: { name: 'node', version: 'v20.1.0' } });
    expect(vm!.descriptor).toMatchObject({ kind: 'vm', boundary: 'hypervisor', runtime: { name: 'QEMU', version: '7.2' } });
    expect(vm!.descriptor!.accelerator).toMatchObject({ value: 'tcg', emulated: true });
    expect(docker!.descriptor).toBeNull();
  });

  it('defaults to every registered backend along the isolation spectrum: process, docker, gvisor, vm', () => {
    expect(defaultBackends()).toEqual(['process', 'docker', 'gvisor', 'vm']);
    expect(orderBackends(['vm', 'gvisor', 'docker:crun', 'process', 'docker'])).toEqual(['process', 'docker', 'docker:crun', 'gvisor', 'vm']);
  });

  it('never offers the test-only mock backend, and calls a name unknown only when the registry cannot resolve it', () => {
    expect(registry.names()).not.toContain('mock');
    expect(unknownBackends(['process', 'docker:crun', 'gvisor', 'mock', 'nope', 'docker:runsc'])).toEqual(['mock', 'nope', 'docker:runsc']);
  });

  it('reads the accelerator from the attribute the descriptor names', () => {
    const vm = registry.describe('vm')!;
    expect(acceleratorOf(vm, { 'vm.accelerator': 'kvm', 'vm.accelerator.reason': 'probe' })).toBe('kvm');
    expect(acceleratorOf(vm, {})).toBe('unknown');
    expect(acceleratorOf(registry.describe('docker')!, {})).toBe('none');
    expect(acceleratorOf(registry.describe('gvisor')!, { 'gvisor.platform': 'ptrace' })).toBe('none');
  });
});
