import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DUMP = join(ROOT, 'test', 'vagrant', 'dump-config.rb');
const TRIGGER = join(ROOT, 'test', 'vagrant', 'report-trigger.rb');

/** What test/vagrant/dump-config.rb prints: the configuration Vagrant itself parsed. */
interface VagrantDump {
  /** Settings of each provider block (libvirt attributes; VirtualBox `customize` calls). */
  providers: {
    libvirt: { driver?: string; cpus?: number; memory?: number; nested?: boolean; cpu_mode?: string };
    virtualbox: { customizations?: [string, unknown[]][] };
  };
  /** Box name. */
  box: string;
  /** Provisioners in the order Vagrant runs them. */
  provisioners: { name: string; type: string; inline: string; privileged: boolean }[];
  /** Synced folders. */
  synced_folders: { hostpath: string; guestpath: string; type: string; disabled: boolean; exclude?: string[] }[];
  /** After-triggers: name, commands they fire on, whether they run Ruby on the host. */
  after_triggers: { name: string; command: string[]; ruby: boolean }[];
}

/**
 * Why the Vagrant tests cannot run here, or undefined when they can. A skip says so in the output;
 * under `make test` (ISOLAB_TEST_REQUIRE_ALL=1, after setup installed vagrant) it is a failure instead.
 */
const VAGRANT_MISSING = spawnSync('vagrant', ['--version'], { stdio: 'ignore' }).status === 0
  ? undefined
  : 'vagrant is not installed (scripts/setup.sh packages installs Debian\'s vagrant and vagrant-libvirt)';
const REQUIRE_ALL = process.env.ISOLAB_TEST_REQUIRE_ALL === '1';
if (VAGRANT_MISSING && !REQUIRE_ALL) console.warn(`test/vagrant: SKIPPING the Vagrantfile tests: ${VAGRANT_MISSING}`);

/** The environment without any ISOLAB_BOX_* / ISOLAB_RUN_LAB the caller may have set. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, VAGRANT_CHECKPOINT_DISABLE: '1' };
  for (const key of Object.keys(env)) {
    if (key.startsWith('ISOLAB_BOX_') || key === 'ISOLAB_RUN_LAB') delete env[key];
  }
  return { ...env, ...extra };
}

async function dump(extra: Record<string, string>): Promise<VagrantDump> {
  const { stdout } = await run('ruby', [DUMP], { cwd: ROOT, env: cleanEnv(extra), timeout: 30_000 });
  return JSON.parse(stdout) as VagrantDump;
}

function virtualboxArgs(d: VagrantDump): unknown[][] {
  return (d.providers.virtualbox.customizations ?? []).map(([, args]) => args);
}

describe('Vagrantfile (as parsed by Vagrant)', () => {
  let defaults: VagrantDump;
  let custom: VagrantDump;

  beforeAll(async () => {
    if (VAGRANT_MISSING) {
      if (REQUIRE_ALL) throw new Error(`${VAGRANT_MISSING}: make test installs it, so these tests must run`);
      return;
    }
    [defaults, custom] = await Promise.all([
      dump({}),
      dump({ ISOLAB_BOX_CPUS: '3', ISOLAB_BOX_MEMORY: '3072', ISOLAB_RUN_LAB: '1' }),
    ]);
  });

  beforeEach((ctx) => {
    if (VAGRANT_MISSING) ctx.skip(VAGRANT_MISSING);
  });

  it('uses a Debian 12 box, libvirt with nested KVM and host-passthrough, VirtualBox with nested HW virt', () => {
    expect(defaults.box).toMatch(/debian12|bookworm/);
    expect(defaults.providers.libvirt).toMatchObject({
      driver: 'kvm', cpus: 4, memory: 8192, nested: true, cpu_mode: 'host-passthrough',
    });
    const vb = virtualboxArgs(defaults);
    expect(vb).toContainEqual(['modifyvm', 'id', '--nested-hw-virt', 'on']);
    expect(vb).toContainEqual(['modifyvm', 'id', '--cpus', 4]);
    expect(vb).toContainEqual(['modifyvm', 'id', '--memory', '8192']);
  });

  it('takes CPUs and memory from ISOLAB_BOX_CPUS / ISOLAB_BOX_MEMORY on both providers', () => {
    expect(custom.providers.libvirt).toMatchObject({ cpus: 3, memory: 3072 });
    const vb = virtualboxArgs(custom);
    expect(vb).toContainEqual(['modifyvm', 'id', '--cpus', 3]);
    expect(vb).toContainEqual(['modifyvm', 'id', '--memory', '3072']);
  });

  it('syncs the repo to /vagrant and provisions first with the repo\'s own scripts/setup.sh', () => {
    const folder = defaults.synced_folders.find((f) => f.guestpath === '/vagrant');
    expect(folder).toMatchObject({ hostpath: '.', type: 'rsync', disabled: false });
    expect(folder?.exclude).toEqual(expect.arrayContaining(['/node_modules/', '/dist/']));
    const first = defaults.provisioners[0];
    expect(first).toMatchObject({ name: 'isolab-setup', type: 'shell', privileged: true });
    expect(first?.inline).toBe('bash /vagrant/scripts/setup.sh all');
    expect(defaults.provisioners.map((p) => p.name)).not.toContain('isolab-lab');
    expect(defaults.after_triggers).toEqual([]);
  });

  it('leaves the box\'s kernel and GRUB alone (setup installs no kernel on the host it runs on)', () => {
    for (const p of defaults.provisioners) expect(p.inline).not.toMatch(/grub|linux-image|vmlinuz/i);
  });

  it('ISOLAB_RUN_LAB=1 adds a `make lab` provisioner and a host trigger that copies the report back', () => {
    const lab = custom.provisioners.find((p) => p.name === 'isolab-lab');
    expect(lab).toMatchObject({ type: 'shell', privileged: true, inline: 'cd /vagrant && make lab' });
    const names = custom.provisioners.map((p) => p.name);
    expect(names.indexOf('isolab-setup')).toBeLessThan(names.indexOf('isolab-lab'));
    const fired = custom.after_triggers.flatMap((t) => (t.ruby ? t.command : []));
    expect(fired).toEqual(expect.arrayContaining(['up', 'provision']));
  });

  it('the report trigger replaces reports/vagrant/ with the box\'s reports/latest, or warns when there is none', async () => {
    const base = mkdtempSync(join(tmpdir(), 'isolab-vagrant-test-'));
    try {
      const guest = join(base, 'guest');
      const host = join(base, 'host');
      mkdirSync(join(guest, 'vagrant', 'reports', 'latest'), { recursive: true });
      mkdirSync(join(guest, 'tmp'));
      mkdirSync(join(host, 'reports', 'vagrant'), { recursive: true });
      writeFileSync(join(guest, 'vagrant', 'reports', 'latest', 'report.md'), '# report\n');
      writeFileSync(join(guest, 'vagrant', 'reports', 'latest', 'startup.svg'), '<svg/>\n');
      writeFileSync(join(host, 'reports', 'vagrant', 'stale.md'), 'old\n');
      const env = cleanEnv({ ISOLAB_RUN_LAB: '1' });
      const first = JSON.parse((await run('ruby', [TRIGGER, guest, host], { cwd: ROOT, env })).stdout);
      expect(first).toMatchObject({ error: null, files: ['report.md', 'startup.svg'], staging_left: false });
      expect(first.messages[0]).toEqual(['info', expect.stringContaining('report copied to')]);
      expect(readdirSync(join(guest, 'tmp'))).toEqual(['isolab-report.tgz']);

      rmSync(join(guest, 'vagrant', 'reports'), { recursive: true });
      const second = JSON.parse((await run('ruby', [TRIGGER, guest, host], { cwd: ROOT, env })).stdout);
      expect(second).toMatchObject({ error: null, files: ['report.md', 'startup.svg'] });
      expect(second.messages).toEqual([['warn', expect.stringContaining('nothing copied')]]);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  it('rejects a non-numeric ISOLAB_BOX_MEMORY with a message naming it', () => {
    const r = spawnSync('vagrant', ['validate'], {
      cwd: ROOT, env: cleanEnv({ ISOLAB_BOX_MEMORY: 'lots' }), encoding: 'utf8', timeout: 30_000,
    });
    expect(r.status).not.toBe(0);
    expect(`${r.stdout}${r.stderr}`).toContain('ISOLAB_BOX_MEMORY must be a positive integer');
  });
});

describe('one setup script', () => {
  it('`make lab` and `make test` run the same scripts/setup.sh the box is provisioned with', () => {
    for (const target of ['lab', 'test']) {
      const r = spawnSync('make', ['-n', target], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.split('\n')).toContain('bash scripts/setup.sh all');
    }
    const r = spawnSync('make', ['-n', 'test'], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    expect(r.stdout.split('\n')).toContain('bash scripts/lint.sh');
  });

  it('lint covers the setup scripts and the CI entry', () => {
    const r = spawnSync('bash', [join(ROOT, 'scripts', 'lint.sh'), 'list'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split('\n')).toEqual(expect.arrayContaining(['.ci/run', 'scripts/setup.sh', 'scripts/lint.sh']));
  });
});
