import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TASK_PHASES } from '../../src/backends/phases.js';
import { VmBackend } from '../../src/backends/vm/vm-backend.js';
import { timeToMarker } from '../../src/experiments/cross-checks.js';
import { startupOnce } from '../../src/experiments/startup.js';
import { ensureImage } from '../../src/image/index.js';
import { session } from '../../src/session/session.js';
import { generateCorpus } from '../../src/workload/corpus.js';
import { tempDir } from '../cli/helpers.js';

describe('vm phases and accounting (real libvirtd; the accelerator the probe finds)', () => {
  const b = new VmBackend();
  let input: string;

  beforeAll(async () => {
    await ensureImage({ docker: false });
    input = join(tempDir(), 'tiny.txt');
    writeFileSync(input, generateCorpus({ bytes: 64 * 1024, seed: 1 }));
    await b.accelerator();
  }, 180_000);

  afterAll(async () => {
    await session().close();
  });

  it('stamps exited at QEMU\'s exit, libvirt\'s linger after it before cleaned, and reports the result before exited', async () => {
    const { status, data } = await startupOnce(b, {
      taskId: 'vmph-1', input: { path: input, bytes: 64 * 1024, description: 'tiny' }, resources: { cpus: 1, mem: 256 },
      agentResources: { cpus: 2, mem: 4096 }, timeoutMs: 300_000,
    });
    expect(status.state).toBe('finished');
    const p = data!.phases;
    for (const name of TASK_PHASES) expect(p[name], name).toBeTypeOf('number');
    for (let i = 1; i < TASK_PHASES.length; i++) expect(p[TASK_PHASES[i]!]!).toBeGreaterThanOrEqual(p[TASK_PHASES[i - 1]!]!);
    // the guest's end marker, then QEMU's exit soon after
    expect(p.exited! - p.guestEnd!).toBeLessThan(5000);
    if (data!.attributes['vm.exitedFrom'] === 'the QEMU process exited') {
      // the usual order: the domain lingers in libvirt well after QEMU's exit
      expect(p.cleaned! - p.exited!).toBeGreaterThan(300);
      expect(p.gone!).toBeGreaterThan(p.exited!);
    } else {
      // libvirt can drop the domain while QEMU's process is still leaving /proc (seen on a quiet
      // 2-core host): exited is then stamped when the domain disappears
      expect(data!.attributes['vm.exitedFrom']).toBe('the domain disappeared');
    }
    expect(p.created!).toBeLessThan(p.running!);
    expect((status.data as { phases: Record<string, number> }).phases.exited).toBeUndefined();
    const u = data!.usage!;
    expect(u.cpuSeconds!).toBeGreaterThan(0.5);
    expect(u.peakMemoryBytes!).toBeGreaterThan(64 * 2 ** 20);
    // the last usage reading comes shortly before the exit (slack for a loaded host: 1.7–1.9 s seen)
    expect(u.lagMs!).toBeLessThan(5000);
    expect(u.guest!.cpuSeconds).toBeGreaterThan(0);
  }, 300_000);

  it('boots the same kernel, initramfs and disk with a plain qemu-system-x86_64 to the init marker (the cross-check\'s tool)', async () => {
    const cmd = await b.plainCommand({ taskId: 'vmph-plain', resources: { cpus: 1, mem: 256 }, executor: { taskId: 'vmph-plain', mode: 'idle' } });
    expect(cmd!.argv).toEqual(expect.arrayContaining(['-kernel', '-initrd', '-nodefaults']));
    const t = await timeToMarker(cmd!, 180_000);
    expect(t.error).toBeUndefined();
    expect(t.ms!).toBeGreaterThan(100);
  }, 200_000);
});
