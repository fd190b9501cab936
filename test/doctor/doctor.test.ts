import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { probeKey, type AccelResult } from '../../src/backends/vm/accel-probe.js';
import { vmImage } from '../../src/backends/vm/guest-image.js';
import { hostFacts } from '../../src/backends/vm/host-facts.js';
import { LibvirtConnection } from '../../src/backends/vm/libvirt-connection.js';
import { currentImage, ensureImage, kernelsDir } from '../../src/image/index.js';
import { isolab } from '../cli/helpers.js';

/** Every path under `dir` with its size and modification time. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const st = statSync(p);
      out[relative(dir, p)] = `${e.isDirectory() ? 'dir' : st.size} ${st.mtimeMs} ${(st.mode & 0o7777).toString(8)}`;
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

/**
 * src/image rewrites its cache of input digests (images/digests.json, through a rename, so the
 * images folder's mtime moves too) on every image lookup; that module is not the doctor's (reported
 * to its owner). Everything else in the state folder must stay exactly as it was.
 */
const withoutImageCache = (s: Record<string, string>): Record<string, string> => {
  const { [join('images', 'digests.json')]: _file, images: _dir, ...rest } = s;
  return rest;
};

/**
 * Libvirt's kvm domain type, as a host with /dev/kvm offers it: without one, the accelerator is
 * decided (`not-offered`) before any cache is read, so the cache paths need it injected there.
 */
const WITH_KVM = { ISOLAB_VM_DOMAIN_TYPES: 'qemu,kvm' };

describe('isolab doctor is read-only unless --probe', () => {
  let state: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    await ensureImage({ docker: false });
    const info = (await currentImage())!;
    state = mkdtempSync(join(tmpdir(), 'isolab-doctor-'));
    mkdirSync(join(state, 'images', info.id), { recursive: true });
    copyFileSync(join(info.dir, 'manifest.json'), join(state, 'images', info.id, 'manifest.json'));
    for (const f of readdirSync(info.dir)) if (f !== 'manifest.json') symlinkSync(join(info.dir, f), join(state, 'images', info.id, f));
    symlinkSync(kernelsDir(), join(state, 'kernels'));
    env = { ISOLAB_STATE_DIR: state, ISOLAB_SESSION: `doc${Date.now().toString(36)}` };
    const first = await isolab(['doctor', '--json'], env);
    expect(first.code, first.stderr).toBe(0);
  }, 180_000);

  it('without a cached answer (a kvm domain type injected by ISOLAB_VM_DOMAIN_TYPES where the host lacks one): boots nothing, writes nothing, and says the accelerator is not probed yet and how to probe', async () => {
    const before = snapshot(state);
    const r = await isolab(['doctor'], { ...env, ...WITH_KVM });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^vm\s+usable\s+healthy\s+.*accelerator not probed yet \(isolab doctor --probe boots two tiny VMs/m);
    expect(r.stdout).toMatch(/vm\.accelerator = unknown$/m);
    const j = JSON.parse((await isolab(['doctor', '--json'], { ...env, ...WITH_KVM })).stdout);
    expect(j.vm.attributes).toMatchObject({ 'vm.accelerator': 'unknown', 'vm.accelerator.kvm': 'not-probed', 'vm.accelerator.source': 'none' });
    expect(withoutImageCache(snapshot(state))).toEqual(withoutImageCache(before));
    expect(Object.keys(snapshot(state)).filter((p) => p.startsWith('vm') || p.startsWith('sessions') || p.startsWith('tmp'))).toEqual([]);
  }, 60_000);

  it('ISOLAB_VM_ACCEL=kvm|tcg is shown as forced, with no probe and no cache written', async () => {
    const before = snapshot(state);
    for (const v of ['kvm', 'tcg']) {
      const j = JSON.parse((await isolab(['doctor', '--json'], { ...env, ISOLAB_VM_ACCEL: v })).stdout);
      expect(j.vm.attributes).toMatchObject({ 'vm.accelerator': v, 'vm.accelerator.kvm': 'forced', 'vm.accelerator.source': 'env', 'vm.accelerator.reason': `forced by ISOLAB_VM_ACCEL=${v}` });
    }
    expect(withoutImageCache(snapshot(state))).toEqual(withoutImageCache(before));
  }, 60_000);

  it('with a cached answer of any age (a kvm domain type injected by ISOLAB_VM_DOMAIN_TYPES where the host lacks one): shows it with its age and why it may be stale, and leaves the cache as it was', async () => {
    const image = await vmImage();
    const facts = await hostFacts(new LibvirtConnection().uri, { ...process.env, ...WITH_KVM });
    const key = probeKey({ conn: new LibvirtConnection(), image, facts });
    const at = Date.now() - 3 * 3600_000;
    const result: AccelResult = { accelerator: 'tcg', kvm: 'hangs', reason: 'KVM guest printed no init line within 5000 ms (no serial output); using TCG', source: 'probe', at };
    mkdirSync(join(state, 'vm'), { recursive: true });
    writeFileSync(join(state, 'vm', 'accel-cache.json'), JSON.stringify({ key, result }));
    const before = snapshot(state);
    const r = await isolab(['doctor'], { ...env, ...WITH_KVM });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/accelerator tcg \(KVM guest printed no init line .*; probed 3 h ago, may be stale: older than the 15 min a probe is trusted\)/);
    expect(r.stdout).toMatch(/vm\.accelerator\.age = 3 h$/m);
    expect(withoutImageCache(snapshot(state))).toEqual(withoutImageCache(before));
    expect(readFileSync(join(state, 'vm', 'accel-cache.json'), 'utf8')).toBe(JSON.stringify({ key, result }));
  }, 60_000);
});
