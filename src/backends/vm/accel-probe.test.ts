import { appendFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ACCEL_ENV, ageText, PROBE_CACHE_TTL_MS, probeAccelerator, probeKey, readProbeCache, setProbePolicy, type AccelResult, type ProbeOptions,
} from './accel-probe.js';
import type { VmImage } from './guest-image.js';
import type { HostFacts } from './host-facts.js';
import type { LibvirtConnection } from './libvirt-connection.js';

type Behaviour = 'boots' | 'hangs' | 'refused' | 'crashes';

/**
 * A fake libvirt connection (no libvirtd, no QEMU): each probe domain behaves as told per domain
 * type. `boots` writes the kernel's init line to the domain's serial log, `hangs` writes nothing and
 * stays running, `refused` fails creation (as libvirt does when /dev/kvm is unusable), `crashes`
 * disappears without output.
 */
function fakeConnection(b: { kvm: Behaviour; qemu: Behaviour }) {
  const created: string[] = [];
  const running = new Set<string>();
  const conn = {
    uri: 'test:///fake',
    async createXml(xml: string) {
      const type = /<domain type='([a-z]+)'>/.exec(xml)![1] as 'kvm' | 'qemu';
      const name = /<name>([^<]+)<\/name>/.exec(xml)![1]!;
      const serial = /<serial type='file'><source path='([^']+)'/.exec(xml)![1]!;
      const how = b[type];
      if (how === 'refused') throw new Error('unsupported configuration: Domain requires KVM, but it is not available');
      created.push(name);
      if (how !== 'crashes') running.add(name);
      writeFileSync(serial, '');
      if (how === 'boots') setTimeout(() => appendFileSync(serial, '[    0.9] Run /init as init process\r\n'), 30);
      return {};
    },
    async info(name: string) {
      return running.has(name) ? { state: 1 } : undefined;
    },
    async destroy(name: string) {
      running.delete(name);
    },
  };
  return { conn: conn as unknown as LibvirtConnection, created, running };
}

function setup(b: { kvm: Behaviour; qemu: Behaviour }, domainTypes = ['qemu', 'kvm']) {
  const dir = mkdtempSync(join(tmpdir(), 'isolab-probe-'));
  writeFileSync(join(dir, 'vmlinuz'), 'kernel');
  const image = { kernel: join(dir, 'vmlinuz'), initramfs: join(dir, 'initrd') } as VmImage;
  const facts: HostFacts = { domainTypes, problems: [], qemuVersion: '7.2', libvirtVersion: '9.0.0' };
  const fake = fakeConnection(b);
  let names = 0;
  const o: ProbeOptions = { conn: fake.conn, image, facts, dir, name: () => `isolab-probetest-p${++names}`, session: 'probetest', timeoutMs: 400 };
  return { o, dir, ...fake, names: () => names };
}

afterEach(() => {
  setProbePolicy('auto');
  delete process.env[ACCEL_ENV];
});

describe('accelerator probe, each KVM outcome (fake libvirt connection and injected host facts)', () => {
  it('not-offered: libvirt lists no kvm domain type (no /dev/kvm; injected facts) -> TCG without booting anything', async () => {
    const t = setup({ kvm: 'boots', qemu: 'boots' }, ['qemu']);
    const a = await probeAccelerator(t.o);
    expect(a).toMatchObject({ accelerator: 'tcg', kvm: 'not-offered', source: 'probe' });
    expect(t.created).toEqual([]);
    expect(t.names()).toBe(0);
  });

  it('works: the KVM guest reaches init (fake) -> KVM, TCG checked too, answer cached', async () => {
    const t = setup({ kvm: 'boots', qemu: 'boots' });
    const a = await probeAccelerator(t.o);
    expect(a).toMatchObject({ accelerator: 'kvm', kvm: 'works', source: 'probe', tcgWorks: true });
    expect(a.reason).toMatch(/^KVM guest reached init \d+ ms after creation$/);
    expect(t.created.sort()).toEqual(['isolab-probetest-p1-kvm', 'isolab-probetest-p1-tcg']);
    expect(t.running.size).toBe(0);
    expect(readProbeCache(t.dir, probeKey(t.o))).toMatchObject({ accelerator: 'kvm', source: 'cache' });
    expect(readdirSync(join(t.dir, 'run'))).toEqual([]);
  });

  it('hangs: the KVM guest prints nothing within the timeout (fake) -> TCG, and the KVM domain is destroyed', async () => {
    const t = setup({ kvm: 'hangs', qemu: 'boots' });
    const a = await probeAccelerator(t.o);
    expect(a).toMatchObject({ accelerator: 'tcg', kvm: 'hangs', tcgWorks: true });
    expect(a.reason).toBe('KVM guest printed no init line within 400 ms (no serial output); using TCG');
    expect(t.running.size).toBe(0);
  });

  it('fails: libvirt refuses to create a KVM domain (fake) -> TCG', async () => {
    const t = setup({ kvm: 'refused', qemu: 'boots' });
    const a = await probeAccelerator(t.o);
    expect(a).toMatchObject({ accelerator: 'tcg', kvm: 'fails', tcgWorks: true });
    expect(a.reason).toMatch(/^KVM domain failed: unsupported configuration: Domain requires KVM.*; using TCG$/);
  });

  it('fails: the KVM guest stops before init (fake) -> TCG', async () => {
    const t = setup({ kvm: 'crashes', qemu: 'boots' });
    const a = await probeAccelerator({ ...t.o, timeoutMs: 2000 });
    expect(a).toMatchObject({ accelerator: 'tcg', kvm: 'fails' });
    expect(a.reason).toMatch(/^KVM guest stopped before init/);
  });

  it('says so when TCG does not boot either (fake)', async () => {
    const t = setup({ kvm: 'hangs', qemu: 'refused' });
    const a = await probeAccelerator(t.o);
    expect(a).toMatchObject({ accelerator: 'tcg', kvm: 'hangs', tcgWorks: false });
    expect(a.reason).toMatch(/\(but TCG failed too: TCG domain failed: /);
  });
});

describe('accelerator cache and ISOLAB_VM_ACCEL (README claims; fake libvirt connection)', () => {
  it('a second probe within the TTL answers from the cache without booting; a changed host key or an old answer probes again', async () => {
    const t = setup({ kvm: 'hangs', qemu: 'boots' });
    const first = await probeAccelerator(t.o);
    expect(first.source).toBe('probe');
    const n = t.created.length;
    const again = await probeAccelerator(t.o);
    expect(again).toMatchObject({ source: 'cache', kvm: 'hangs', at: first.at });
    expect(t.created.length).toBe(n);
    expect(readProbeCache(t.dir, probeKey(t.o), first.at + PROBE_CACHE_TTL_MS + 1)).toBeUndefined();
    const changed = { ...t.o, facts: { ...t.o.facts, qemuVersion: '8.0' } };
    expect(readProbeCache(t.dir, probeKey(changed))).toBeUndefined();
    expect((await probeAccelerator(changed)).source).toBe('probe');
    expect(t.created.length).toBe(n + 2);
  });

  it('fresh ignores the cache', async () => {
    const t = setup({ kvm: 'boots', qemu: 'boots' });
    await probeAccelerator(t.o);
    expect((await probeAccelerator({ ...t.o, fresh: true })).source).toBe('probe');
    setProbePolicy('fresh');
    expect((await probeAccelerator(t.o)).source).toBe('probe');
    expect(t.created).toHaveLength(6);
  });

  it('ISOLAB_VM_ACCEL=kvm or tcg forces the accelerator with no probe; other values are ignored', async () => {
    for (const v of ['kvm', 'tcg'] as const) {
      process.env[ACCEL_ENV] = v;
      const t = setup({ kvm: 'hangs', qemu: 'boots' });
      expect(await probeAccelerator(t.o)).toMatchObject({ accelerator: v, kvm: 'forced', source: 'env', reason: `forced by ISOLAB_VM_ACCEL=${v}` });
      expect(t.created).toEqual([]);
      expect(existsSync(join(t.dir, 'accel-cache.json'))).toBe(false);
    }
    process.env[ACCEL_ENV] = 'bogus';
    const t = setup({ kvm: 'hangs', qemu: 'boots' });
    expect((await probeAccelerator(t.o)).source).toBe('probe');
  });

  it('cache-only (plain doctor): never boots nor writes; answers from a cache of any age and says why it may be stale, else "not probed yet"', async () => {
    const t = setup({ kvm: 'boots', qemu: 'boots' });
    setProbePolicy('cache-only');
    const none: AccelResult = await probeAccelerator(t.o);
    expect(none).toMatchObject({ kvm: 'not-probed', source: 'none' });
    expect(none.reason).toMatch(/^not probed yet \(isolab doctor --probe/);
    expect(t.names()).toBe(0);
    expect(readdirSync(t.dir).sort()).toEqual(['vmlinuz']);
    const old = Date.now() - 3 * 3600_000;
    const cached: AccelResult = { accelerator: 'tcg', kvm: 'hangs', reason: 'r', source: 'probe', at: old };
    writeFileSync(join(t.dir, 'accel-cache.json'), JSON.stringify({ key: probeKey(t.o), result: cached }));
    const before = readFileSync(join(t.dir, 'accel-cache.json'), 'utf8');
    const a = await probeAccelerator(t.o);
    expect(a).toMatchObject({ source: 'cache', kvm: 'hangs', at: old, stale: 'older than the 15 min a probe is trusted' });
    const other = await probeAccelerator({ ...t.o, facts: { ...t.o.facts, libvirtVersion: '10.0' } });
    expect(other.stale).toMatch(/changed since/);
    expect(t.created).toEqual([]);
    expect(readFileSync(join(t.dir, 'accel-cache.json'), 'utf8')).toBe(before);
  });

  it('ageText', () => {
    expect([ageText(5_000), ageText(600_000), ageText(3 * 3600_000), ageText(3 * 86_400_000)]).toEqual(['5 s', '10 min', '3 h', '3 d']);
  });
});
