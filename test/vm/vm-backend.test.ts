import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskSink, TaskSpec } from '../../src/backends/backend.js';
import { domainXml } from '../../src/backends/vm/domain-xml.js';
import { VmBackend, vmStateDir } from '../../src/backends/vm/vm-backend.js';
import { decodeMessage, type ResultMessage } from '../../src/executor/protocol.js';
import { ensureImage } from '../../src/image/index.js';
import { session } from '../../src/session/session.js';
import { countFileRange } from '../../src/workload/count.js';
import { canonicalBytes, decodeCounts, sha256Hex, tableToCounts } from '../../src/workload/counts.js';
import { generateCorpus } from '../../src/workload/corpus.js';
import { tempDir } from '../cli/helpers.js';

function recorder(): TaskSink & { lines: string[]; phases: Record<string, number> } {
  const lines: string[] = [];
  const phases: Record<string, number> = {};
  return { lines, phases, line: (l) => lines.push(l), phase: (n, at) => void (phases[n] ??= at) };
}

const runFiles = (prefix: string): string[] => {
  try {
    return readdirSync(join(vmStateDir(), 'run')).filter((f) => f.startsWith(prefix));
  } catch {
    return [];
  }
};

describe.concurrent('vm backend (real libvirtd, TCG here)', () => {
  const b = new VmBackend();
  let input: string;
  let size: number;

  beforeAll(async () => {
    await ensureImage({ docker: false });
    const dir = tempDir();
    input = join(dir, 'in.txt');
    const data = generateCorpus({ bytes: 20_000, seed: 5 });
    writeFileSync(input, data);
    size = data.length;
    await b.accelerator();
  }, 180_000);

  afterAll(async () => {
    await session().close();
    const mine = (await b.connection.domainNames()).filter((n) => n.startsWith(`isolab-${session().id}-`));
    expect(mine).toEqual([]);
    expect(runFiles(`isolab-${session().id}-`)).toEqual([]);
  });

  const spec = (taskId: string, mode: TaskSpec['executor']['mode'], extra: Partial<TaskSpec> = {}): TaskSpec => ({
    taskId, resources: { cpus: 1, mem: 256 }, executor: { taskId, mode, input, start: 0, end: size }, timeoutMs: 180_000, ...extra,
  });

  it('probes KVM with a short boot, finds it does not work here and falls back to TCG', async () => {
    const fresh = new VmBackend();
    const t0 = performance.now();
    const a = await fresh.accelerator(true);
    const ms = performance.now() - t0;
    expect(a.source).toBe('probe');
    expect(a.accelerator).toBe('tcg');
    expect(['hangs', 'fails']).toContain(a.kvm);
    expect(a.tcgWorks).toBe(true);
    expect(a.reason).toMatch(/KVM/);
    expect(ms).toBeLessThan(60_000);
    const fp = await fresh.fingerprint();
    expect(fp.health).toBe('healthy');
    expect(fp.attributes).toMatchObject({ 'vm.accelerator': 'tcg', 'vm.accelerator.source': 'probe' });
    expect(fp.attributes['vm.domainTypes']).toContain('qemu');
    expect(fp.attributes['vm.libvirt.version']).toMatch(/^\d+\.\d+/);
    expect(fp.attributes['vm.qemu.version']).toMatch(/^\d+\.\d+/);
    const names = await fresh.connection.domainNames();
    expect(names.filter((n) => n.includes('-probe-'))).toEqual([]);
  }, 120_000);

  it('boots, counts correctly, has the vCPUs and memory asked for, records phases and leaves nothing', async () => {
    const sink = recorder();
    const h = await b.start(spec('ok', 'wordcount', { resources: { cpus: 2, mem: 200 } }), sink);
    expect(h.attributes['vm.accelerator']).toBe('tcg');
    expect(h.attributes).toMatchObject({ 'vm.vcpus': '2', 'vm.memMiB': '200', 'vm.domainType': 'qemu' });
    expect(h.limits).toMatchObject({ cpus: true, mem: true });
    const info = await b.connection.info(h.instanceId);
    expect(info?.nrVirtCpu).toBe(2);
    expect(info?.maxMem).toBe(200 * 1024);
    const xml = await b.connection.xml(h.instanceId);
    expect(xml).toMatch(/<domain type='qemu'/);
    expect(xml).not.toMatch(/<interface/);
    expect(xml).toMatch(/<rng model='virtio'>/);
    const stats = await b.stats(h);
    expect(stats.pids).toHaveLength(1);
    expect(stats.memoryBytes).toBeGreaterThan(0);
    const exit = await b.wait(h);
    expect(exit).toMatchObject({ exitCode: 0, timedOut: false });
    await b.destroy(h);
    const result = sink.lines.map(decodeMessage).find((m) => m?.type === 'result') as ResultMessage | undefined;
    expect(result).toBeDefined();
    const expected = tableToCounts(await countFileRange(input, 0, size));
    expect(sha256Hex(canonicalBytes(decodeCounts(result!.counts, result!.encoding)))).toBe(sha256Hex(canonicalBytes(expected)));
    for (const p of ['created', 'guestInit', 'guestEnd', 'poweredOff', 'gone']) expect(sink.phases[p], p).toBeGreaterThan(0);
    expect(sink.phases.created!).toBeLessThan(sink.phases.guestInit!);
    expect(sink.phases.guestInit!).toBeLessThan(sink.phases.guestEnd!);
    expect(sink.phases.poweredOff!).toBeLessThanOrEqual(sink.phases.gone!);
    expect(await b.connection.lookup(h.instanceId)).toBeUndefined();
    expect(runFiles(h.instanceId)).toEqual([]);
  }, 240_000);

  it('caps a fractional cpus request with a CFS quota and raises memory to the minimum', async () => {
    const sink = recorder();
    const h = await b.start(spec('frac', 'idle', { resources: { cpus: 0.5, mem: 64 } }), sink);
    try {
      expect(h.limits).toMatchObject({ cpus: true, mem: false });
      expect(h.attributes).toMatchObject({ 'vm.vcpus': '1', 'vm.memMiB': '128', 'vm.memRequestedMiB': '64', 'vm.cpusRequested': '0.5' });
      const info = await b.connection.info(h.instanceId);
      expect(info?.nrVirtCpu).toBe(1);
      expect(info?.maxMem).toBe(128 * 1024);
      expect(await b.connection.xml(h.instanceId)).toMatch(/<global_quota>50000<\/global_quota>/);
    } finally {
      await b.stop(h, 1000);
      await b.destroy(h);
    }
    expect((await b.wait(h)).exitCode).toBeNull();
    expect(await b.connection.lookup(h.instanceId)).toBeUndefined();
  }, 120_000);

  it('destroys a hung guest at its timeout', async () => {
    const sink = recorder();
    const t0 = performance.now();
    const h = await b.start(spec('hang', 'hang', { timeoutMs: 20_000 }), sink);
    const exit = await b.wait(h);
    const ms = performance.now() - t0;
    await b.destroy(h);
    expect(exit.timedOut).toBe(true);
    expect(exit.exitCode).toBeNull();
    expect(ms).toBeGreaterThanOrEqual(20_000);
    expect(ms).toBeLessThan(40_000);
    expect(await b.connection.lookup(h.instanceId)).toBeUndefined();
    expect(runFiles(h.instanceId)).toEqual([]);
  }, 120_000);

  it('runs an idle guest until stopped, and reports the qemu process as its pid', async () => {
    const sink = recorder();
    const h = await b.start(spec('idle', 'idle', { resources: { cpus: 1, mem: 128 } }), sink);
    const deadline = Date.now() + 150_000;
    while (!sink.lines.some((l) => decodeMessage(l)?.type === 'ready') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(sink.lines.some((l) => decodeMessage(l)?.type === 'ready')).toBe(true);
    const stats = await b.stats(h);
    expect(stats.pids).toHaveLength(1);
    expect(readCmdline(stats.pids![0]!)).toContain(`guest=${h.instanceId}`);
    expect(await b.connection.lookup(h.instanceId)).toBeDefined();
    await b.stop(h, 1000);
    const exit = await b.wait(h);
    expect(exit.timedOut).toBe(false);
    expect(exit.message).toMatch(/destroyed on request/);
    await b.destroy(h);
    expect(await b.connection.lookup(h.instanceId)).toBeUndefined();
    expect(runFiles(h.instanceId)).toEqual([]);
  }, 200_000);

  it('reports the executor exit code of a crashing task', async () => {
    const h = await b.start(spec('crash', 'crash'), recorder());
    const exit = await b.wait(h);
    await b.destroy(h);
    expect(exit).toMatchObject({ exitCode: 3, timedOut: false });
  }, 200_000);

  it('lists and removes domains and files of other sessions, not its own', async () => {
    const other = `vmreap${Date.now().toString(36)}`;
    const dir = join(vmStateDir(), 'run', `isolab-${other}-t9`);
    mkdirSync(dir, { recursive: true });
    const img = await b.image();
    const name = `isolab-${other}-t9`;
    await b.connection.createXml(domainXml({
      name, session: other, taskId: 't9', accelerator: 'tcg', vcpus: 1, memMiB: 128, kernel: img.kernel, initramfs: img.initramfs,
      cmdline: 'console=ttyS0', disks: [], serialLog: join(dir, 'serial.log'),
    }));
    const owned = await b.listOwned();
    expect(owned.find((r) => r.id === name)).toMatchObject({ backend: 'vm', kind: 'domain', session: other });
    expect(owned.find((r) => r.id === dir)).toMatchObject({ backend: 'vm', kind: 'file', session: other });
    expect(owned.filter((r) => r.session === session().id)).toEqual([]);
    for (const r of owned.filter((o) => o.session === other)) await b.removeOwned(r);
    expect(await b.connection.lookup(name)).toBeUndefined();
    expect(existsSync(dir)).toBe(false);
  }, 60_000);
});

function readCmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}
