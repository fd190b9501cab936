import { describe, expect, it } from 'vitest';
import type { Backend, Fingerprint } from '../../src/backends/backend.js';
import { acceleratorOf, defaultBackends, inspectBackends, unknownBackends, type BackendSource } from '../../src/experiments/backends.js';

function source(fps: Record<string, Fingerprint>): BackendSource {
  return {
    names: () => Object.keys(fps),
    get: async () => ({}) as Backend,
    fingerprint: async (n) => fps[n]!,
  };
}

describe('backends of a run', () => {
  const src = source({
    process: { health: 'healthy', description: 'child processes', attributes: {} },
    vm: { health: 'unhealthy', description: 'guest image not built', attributes: { 'vm.accelerator': 'tcg' } },
  });

  it('keeps unregistered and unhealthy backends, unusable, with the reason', async () => {
    const infos = await inspectBackends(['process', 'docker', 'vm'], src);
    expect(infos.map((b) => [b.name, b.usable, b.health, b.description, b.accelerator])).toEqual([
      ['process', true, 'healthy', 'child processes', 'none'],
      ['docker', false, 'undetected', 'backend not registered in this build', 'none'],
      ['vm', false, 'unhealthy', 'guest image not built', 'tcg'],
    ]);
  });

  it('defaults to the lab\'s three backends plus any other registered one, never the mock', () => {
    expect(defaultBackends(source({ mock: { health: 'healthy', description: '', attributes: {} }, extra: { health: 'healthy', description: '', attributes: {} } })))
      .toEqual(['process', 'docker', 'vm', 'extra']);
  });

  it('calls a name unknown only when it is neither registered nor one of the lab\'s', () => {
    expect(unknownBackends(['process', 'docker', 'nope'], src)).toEqual(['nope']);
  });

  it('reads the accelerator from a *.accelerator attribute', () => {
    expect(acceleratorOf('vm', { 'vm.accelerator': 'kvm', 'vm.accelerator.reason': 'probe' })).toBe('kvm');
    expect(acceleratorOf('vm', {})).toBe('unknown');
    expect(acceleratorOf('docker', {})).toBe('none');
  });
});
