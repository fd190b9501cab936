import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const URI = 'qemu:///system';

describe('libvirt binding under garbage collection (real libvirtd; a defined, never started domain)', () => {
  const name = `isolab-test-gc-${process.pid.toString(36)}${Date.now().toString(36)}`;
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'isolab-gc-'));
    const xml = join(dir, 'domain.xml');
    writeFileSync(xml, `<domain type='qemu'><name>${name}</name><memory unit='MiB'>32</memory><os><type arch='x86_64' machine='q35'>hvm</type></os><devices/></domain>`);
    execFileSync('virsh', ['-c', URI, 'define', xml], { stdio: 'ignore' });
  });

  afterAll(() => {
    spawnSync('virsh', ['-c', URI, 'undefine', name], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  });

  it('4000 domain lookups, each followed by an info or XML call on the domain object, 4 at a time, with a forced GC every millisecond: no invalid domain pointer, no segfault (the binding holds raw pointers; the connection keeps each domain object reachable during its call)', () => {
    const r = spawnSync(process.execPath, ['--expose-gc', join(import.meta.dirname, 'fixtures', 'gc-during-calls.mjs'), join(ROOT, 'dist'), name, '1000'], {
      encoding: 'utf8', timeout: 240_000,
    });
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('done 4000');
  }, 250_000);
});
