import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskSink, TaskSpec } from '../../src/backends/backend.js';
import type { AccelResult } from '../../src/backends/vm/accel-probe.js';
import { METADATA_NS } from '../../src/backends/vm/domain-xml.js';
import { vmRunRoot } from '../../src/backends/vm/paths.js';
import { VmBackend } from '../../src/backends/vm/vm-backend.js';
import { decodeMessage, type ResultMessage } from '../../src/executor/protocol.js';
import { currentImage, ensureImage } from '../../src/image/index.js';
import { reap } from '../../src/reaper/reaper.js';
import { sessionDir } from '../../src/session/session-lock.js';
import { session } from '../../src/session/session.js';
import { countFileRange } from '../../src/workload/count.js';
import { canonicalBytes, decodeCounts, sha256Hex, tableToCounts } from '../../src/workload/counts.js';
import { generateCorpus } from '../../src/workload/corpus.js';
import { isolab, tempDir } from '../cli/helpers.js';
import { killChild, sessionHolder, testSession } from '../reaper/helpers.js';
import { domainTypeOf, expectedAccelerator, runFiles, stateWithImage } from './helpers.js';

function recorder(): TaskSink & { lines: string[]; phases: Record<string, number> } {
  const lines: string[] = [];
  const phases: Record<string, number> = {};
  return { lines, phases, line: (l) => lines.push(l), phase: (n, at) => void (phases[n] ??= at) };
}

/** Passes whatever this host's KVM does (absent, hanging, failing or working): expectations follow the probe's answer. */
describe.concurrent('vm backend (real libvirtd; accelerator as probed on this host)', () => {
  const b = new VmBackend();
  let input: string;
  let size: number;
  let accel: AccelResult;

  beforeAll(async () => {
    await ensureImage({ docker: false });
    const dir = tempDir();
    input = join(dir, 'in.txt');
    const data = generateCorpus({ bytes: 20_000, seed: 5 });
    writeFileSync(input, data);
    size = data.length;
    accel = await b.accelerator();
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

  const probeCase = async (extra: Record<string, string>): Promise<void> => {
    const state = stateWithImage((await currentImage())!);
    const env = { ISOLAB_STATE_DIR: state, ISOLAB_SESSION: testSession('vmprobe'), ...extra };
    const r = await isolab(['doctor', '--probe', '--json'], env, 120_000);
    expect(r.code, r.stderr).toBe(0);
    const fp = JSON.parse(r.stdout).vm as { health: string; attributes: Record<string, string> };
    expect(fp.health).toBe('healthy');
    const kvm = fp.attributes['vm.accelerator.kvm'] as AccelResult['kvm'];
    expect(['works', 'hangs', 'fails', 'not-offered']).toContain(kvm);
    expect(fp.attributes['vm.accelerator']).toBe(expectedAccelerator({ kvm, accelerator: fp.attributes['vm.accelerator'] as 'kvm' | 'tcg' }));
    expect(fp.attributes['vm.domainTypes']).toContain('qemu');
    expect(fp.attributes['vm.libvirt.version']).toMatch(/^\d+\.\d+/);
    expect(fp.attributes['vm.qemu.version']).toMatch(/^\d+\.\d+/);
    if (kvm === 'not-offered') {
      expect(fp.attributes['vm.domainTypes']).not.toContain('kvm');
      expect(existsSync(join(state, 'vm', 'run')), 'nothing booted').toBe(false);
      expect(existsSync(join(state, 'vm', 'accel-cache.json')), 'nothing cached').toBe(false);
    } else {
      expect(fp.attributes).toMatchObject({ 'vm.accelerator.source': 'probe' });
      expect(fp.attributes['vm.accelerator.reason']).toMatch(/KVM/);
      expect(Number(fp.attributes['vm.accelerator.tcgProbeMs'])).toBeGreaterThan(0);
      const cache = JSON.parse(readFileSync(join(state, 'vm', 'accel-cache.json'), 'utf8')) as { result: AccelResult };
      expect(cache.result).toMatchObject({ kvm, source: 'probe', tcgWorks: true });
      const plain = await isolab(['doctor'], env);
      expect(plain.stdout).toMatch(/; probed \d+ s ago\)$/m);
      expect(readdirSync(join(state, 'vm', 'run')), 'probe run folders removed').toEqual([]);
    }
    expect((await b.connection.domainNames()).filter((n) => n.startsWith(`isolab-${env.ISOLAB_SESSION}-`))).toEqual([]);
    expect(existsSync(sessionDir(env.ISOLAB_SESSION))).toBe(false);
  };

  it('doctor --probe probes the accelerator as this host offers it (a KVM and a TCG boot, unless libvirt offers no kvm), caches a consistent answer, and a plain doctor then shows its age', async () => {
    await probeCase({});
  }, 150_000);

  it('doctor --probe with libvirt\'s kvm domain type injected (ISOLAB_VM_DOMAIN_TYPES=qemu,kvm; a host without /dev/kvm then gets the real `fails` outcome): boots a KVM and a TCG probe, caches the answer, and leaves nothing', async () => {
    await probeCase({ ISOLAB_VM_DOMAIN_TYPES: 'qemu,kvm' });
  }, 150_000);

  it('boots, counts correctly, has the vCPUs and memory asked for, records phases and leaves nothing', async () => {
    const sink = recorder();
    const img = await b.image();
    const h = await b.start(spec('ok', 'wordcount', { resources: { cpus: 2, mem: 200 } }), sink);
    expect(h.attributes['vm.accelerator']).toBe(accel.accelerator);
    expect(h.attributes).toMatchObject({ 'vm.vcpus': '2', 'vm.memMiB': '200', 'vm.domainType': domainTypeOf(accel) });
    const runDir = join(vmRunRoot(), h.instanceId);
    expect(statSync(runDir).mode & 0o777).toBe(0o700);
    expect(statSync(vmRunRoot()).mode & 0o777).toBe(0o711);
    const disk = statSync(img.rootDisk);
    expect([disk.uid, disk.gid, disk.mode & 0o777]).toEqual([0, 0, 0o644]);
    expect(h.limits).toMatchObject({ cpus: true, mem: true });
    const info = await b.connection.info(h.instanceId);
    expect(info?.nrVirtCpu).toBe(2);
    expect(info?.maxMem).toBe(200 * 1024);
    const xml = await b.connection.xml(h.instanceId);
    expect(xml).toMatch(new RegExp(`<domain type='${domainTypeOf(accel)}'`));
    expect(xml).toMatch(/<seclabel type='none' model='dac' relabel='no'\/>|<seclabel model='dac' relabel='no'\/>/);
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
    const after = statSync(img.rootDisk);
    expect([after.uid, after.gid, after.mode & 0o777]).toEqual([0, 0, 0o644]);
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

  it('destroys a hung guest at its timeout, not before, and not on its own', async () => {
    const sink = recorder();
    const t0 = performance.now();
    const h = await b.start(spec('hang', 'hang', { timeoutMs: 20_000 }), sink);
    expect(existsSync(join(vmRunRoot(), h.instanceId))).toBe(true);
    const exit = await b.wait(h);
    const ms = performance.now() - t0;
    await b.destroy(h);
    expect(exit).toMatchObject({ timedOut: true, exitCode: null, signal: 'SIGKILL', message: 'domain destroyed at its timeout' });
    expect(ms).toBeGreaterThanOrEqual(20_000);
    expect(sink.phases.guestEnd).toBeUndefined();
    expect(sink.phases.created!).toBeLessThan(sink.phases.gone!);
    expect(await b.connection.lookup(h.instanceId)).toBeUndefined();
    expect(runFiles(h.instanceId)).toEqual([]);
  }, 180_000);

  it('runs an idle guest until stopped, and reports the qemu process as its pid', async () => {
    const sink = recorder();
    const h = await b.start(spec('idle', 'idle', { resources: { cpus: 1, mem: 128 } }), sink);
    expect(runFiles(h.instanceId)).toEqual([h.instanceId]);
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

  it('reap takes a dead session\'s transient isolab domain and files, and leaves alone a persistent isolab-foo, an unmarked or live session\'s domain', async () => {
    const dead = testSession('vmdead');
    const live = testSession('vmlive');
    const holder = await sessionHolder(live);
    const names = { dead: `isolab-${dead}-t9`, unmarked: `isolab-${dead}-t8`, live: `isolab-${live}-t7`, foo: `isolab-foo${Date.now().toString(36)}`, persistent: `isolab-${dead}-t6` };
    const dir = join(vmRunRoot(), `isolab-${dead}-t9`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'serial.log'), 'x');
    try {
      await b.connection.createXml(idleDomain(names.dead, dead));
      await b.connection.createXml(idleDomain(names.unmarked));
      await b.connection.createXml(idleDomain(names.live, live));
      const hv = await b.connection.hypervisor();
      await hv.domainDefineXML(idleDomain(names.foo));
      await hv.domainDefineXML(idleDomain(names.persistent, dead));
      const owned = await b.listOwned();
      const ids = owned.map((r) => r.id);
      expect(owned.find((r) => r.id === names.dead)).toEqual({ backend: 'vm', kind: 'domain', id: names.dead, session: dead });
      expect(owned.find((r) => r.id === dir)).toEqual({ backend: 'vm', kind: 'file', id: dir, session: dead });
      for (const n of [names.unmarked, names.foo, names.persistent]) expect(ids, n).not.toContain(n);
      expect((await reap({ backends: ['vm'], session: session().id, dryRun: true })).items, 'the reaping session itself is left alone').toEqual([]);
      const r = await reap({ backends: ['vm'], session: dead });
      expect(r.items.map((i) => [i.kind, i.id, i.removed, i.error])).toEqual([['domain', names.dead, true, undefined], ['file', dir, true, undefined]]);
      const l = await reap({ backends: ['vm'], session: live });
      expect(l.items).toEqual([expect.objectContaining({ id: names.live, removed: false, skipped: expect.stringMatching(/is running/) })]);
      expect(await b.connection.lookup(names.dead)).toBeUndefined();
      expect(existsSync(dir)).toBe(false);
      for (const n of [names.unmarked, names.foo, names.persistent, names.live]) expect(await b.connection.lookup(n), n).toBeDefined();
      expect((await hv.domainGetInfo((await b.connection.lookup(names.unmarked))!)).state).toBe(1);
    } finally {
      await killChild(holder);
      rmSync(sessionDir(live), { recursive: true, force: true });
      rmSync(sessionDir(dead), { recursive: true, force: true });
      const hv = await b.connection.hypervisor();
      for (const n of Object.values(names)) {
        const d = await b.connection.lookup(n).catch(() => undefined);
        if (!d) continue;
        await hv.domainDestroy(d).catch(() => {});
        if (n === names.foo || n === names.persistent) await hv.domainUndefine(d).catch(() => {});
      }
    }
    for (const n of Object.values(names)) expect(await b.connection.lookup(n), n).toBeUndefined();
  }, 120_000);
});

/**
 * A domain that costs almost nothing: no kernel and no disk, so the firmware finds nothing to boot
 * and waits. With `session`, it carries isolab's metadata element as isolab's own domains do.
 */
function idleDomain(name: string, sessionId?: string): string {
  const meta = sessionId ? `<metadata><isolab:task xmlns:isolab='${METADATA_NS}' session='${sessionId}' task='t'/></metadata>` : '';
  return `<domain type='qemu'><name>${name}</name>${meta}<memory unit='MiB'>32</memory><vcpu>1</vcpu>` +
    `<os><type arch='x86_64' machine='q35'>hvm</type><boot dev='hd'/></os><on_poweroff>destroy</on_poweroff>` +
    `<devices><memballoon model='none'/></devices></domain>`;
}

function readCmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}
