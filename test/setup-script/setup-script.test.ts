import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { findGuestKernel } from '../../src/image/inputs.js';
import { ROOT } from '../cli/helpers.js';

const SETUP = join(ROOT, 'scripts', 'setup.sh');
const NODESOURCE_FPR = '6F71F525282841EEDAF851B42F59B5F99B1BE0B4';
const scratch: string[] = [];
const helpers: ChildProcess[] = [];

afterAll(() => {
  for (const h of helpers) h.kill('SIGKILL');
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});

/** A scratch "host": stub commands first on PATH, and its own state folder, lock, daemon.json and dockerd pid file. */
interface Host {
  /** Root of the scratch folder. */
  dir: string;
  /** Folder of stub commands (put first on PATH). */
  bin: string;
  /** ISOLAB_STATE_DIR. */
  state: string;
  /** Every stub appends "<name> <args>" here. */
  calls: string;
  /** ISOLAB_DOCKER_CONFIG: the daemon.json setup manages. */
  daemonJson: string;
  /** ISOLAB_DOCKER_PIDFILE. */
  pidfile: string;
  /** ISOLAB_SETUP_LOCK. */
  lock: string;
}

function scratchHost(): Host {
  const dir = mkdtempSync(join(tmpdir(), 'isolab-setup-test-'));
  scratch.push(dir);
  const host = { dir, bin: join(dir, 'bin'), state: join(dir, 'state'), calls: join(dir, 'calls.log'), daemonJson: join(dir, 'etc-docker', 'daemon.json'), pidfile: join(dir, 'docker.pid'), lock: join(dir, 'setup.lock') };
  mkdirSync(host.bin);
  mkdirSync(join(dir, 'etc-docker'));
  writeFileSync(host.calls, '');
  return host;
}

/** Writes a stub command: it logs its arguments to the host's calls file, then runs `body` (bash). */
function stub(host: Host, name: string, body: string): string {
  const path = join(host.bin, name);
  writeFileSync(path, `#!/bin/bash\nprintf '%s\\n' "${name} $*" >> '${host.calls}'\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

/** Stubs of a host running Docker CE (not Debian's docker.io): its docker answers, its dockerd must never be run by setup. */
function dockerCeStubs(host: Host): void {
  stub(host, 'docker', `case "$1" in
  version) echo 24.0.7 ;;
  info) if [ -f '${host.dir}/hupped' ]; then echo '{"runc":{"path":"runc"},"runsc":{"path":"runsc"}}'; else echo '{"runc":{"path":"runc"}}'; fi ;;
  *) exit 1 ;;
esac`);
  stub(host, 'dockerd', 'echo "stub dockerd: must not be started" >&2; exit 1');
  // dpkg sees docker-ce/containerd.io, not docker.io/containerd/runc; everything else isolab needs is installed.
  stub(host, 'dpkg-query', 'case "${@: -1}" in docker.io|containerd|runc) exit 1 ;; *) printf "install ok installed" ;; esac');
  stub(host, 'apt-get', 'echo "stub apt-get: refusing $*" >&2; exit 100');
  stub(host, 'virsh', 'echo 9.0.0');
  // runsc: the kvm probe fails (as on a host without a usable /dev/kvm).
  stub(host, 'runsc', 'exit 1');
}

/** A process standing in for the running dockerd (pid in the host's pid file); it notes each SIGHUP it gets. */
function fakeDockerd(host: Host): ChildProcess {
  const child = spawn('bash', ['-c', `trap 'touch "${host.dir}/hupped"' HUP; while :; do sleep 0.1; done`], { stdio: 'ignore' });
  helpers.push(child);
  writeFileSync(host.pidfile, `${child.pid}\n`);
  return child;
}

function setupEnv(host: Host, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('ISOLAB_') || k === 'DOCKER_HOST') delete env[k];
  return {
    ...env, PATH: `${host.bin}:${process.env.PATH}`, ISOLAB_STATE_DIR: host.state, ISOLAB_SETUP_LOCK: host.lock,
    ISOLAB_DOCKER_CONFIG: host.daemonJson, ISOLAB_DOCKER_PIDFILE: host.pidfile, ISOLAB_LOG_DIR: join(host.dir, 'log'), ...extra,
  };
}

function runSetup(host: Host, args: string[], extra: Record<string, string> = {}): { code: number | null; err: string; calls: string[] } {
  const r = spawnSync('bash', [SETUP, ...args], { env: setupEnv(host, extra), encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, err: `${r.stdout}${r.stderr}`, calls: readFileSync(host.calls, 'utf8').split('\n').filter(Boolean) };
}

const USER_CONFIG = { 'log-level': 'warn', 'default-ulimits': { nofile: { Name: 'nofile', Soft: 1024, Hard: 2048 } }, runtimes: { mine: { path: '/opt/mine/runtime' } } };

describe('scripts/setup.sh on a host where Docker CE (a non-Debian dockerd) answers (stub docker, dockerd, dpkg-query, apt-get, runsc, virsh on PATH)', () => {
  it('installs and removes nothing, starts no dockerd, merges runsc into daemon.json keeping the user\'s settings, and reloads dockerd by SIGHUP', async () => {
    const host = scratchHost();
    dockerCeStubs(host);
    writeFileSync(host.daemonJson, JSON.stringify(USER_CONFIG, null, 2));
    const before = readFileSync(host.daemonJson, 'utf8');
    fakeDockerd(host);
    const r = runSetup(host, ['packages', 'node', 'gvisor', 'services']);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain('Docker: using the running Docker engine 24.0.7');
    expect(r.calls.filter((c) => c.startsWith('apt-get') || c.startsWith('dockerd'))).toEqual([]);
    expect(r.err).not.toMatch(/would:|apt-get install/);

    const merged = JSON.parse(readFileSync(host.daemonJson, 'utf8'));
    expect(merged).toMatchObject(USER_CONFIG);
    expect(merged.runtimes.runsc).toEqual({ path: join(host.bin, 'runsc'), runtimeArgs: ['--platform=ptrace', '--network=none'] });
    expect(readFileSync(`${host.daemonJson}.before-isolab`, 'utf8')).toBe(before);
    expect(existsSync(join(host.dir, 'hupped'))).toBe(true);
    expect(r.err).toMatch(/changed: reloaded dockerd \(SIGHUP to pid \d+\)/);
    expect(readFileSync(join(host.state, 'setup', 'changes.log'), 'utf8')).toContain('added runtimes.runsc');

    const again = runSetup(host, ['packages', 'node', 'gvisor', 'services']);
    expect(again.code, again.err).toBe(0);
    expect(again.err).toContain('dockerd knows the runsc runtime');
    expect(again.err).toContain('done: nothing to change');
    expect(JSON.parse(readFileSync(host.daemonJson, 'utf8'))).toEqual(merged);
  });

  it('keeps a runsc runtime the user configured, and refuses to touch a daemon.json that is not valid JSON', () => {
    const host = scratchHost();
    dockerCeStubs(host);
    const own = JSON.stringify({ runtimes: { runsc: { path: '/opt/runsc', runtimeArgs: ['--platform=kvm', '--debug'] } } });
    writeFileSync(host.daemonJson, own);
    const kept = runSetup(host, ['gvisor']);
    expect(kept.code, kept.err).toBe(0);
    expect(kept.err).toContain('already has a runsc runtime: left as it is');
    expect(readFileSync(host.daemonJson, 'utf8')).toBe(own);
    expect(existsSync(`${host.daemonJson}.before-isolab`)).toBe(false);

    writeFileSync(host.daemonJson, '{ "log-level": "warn", ');
    const bad = runSetup(host, ['gvisor']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/is not valid JSON/);
    expect(readFileSync(host.daemonJson, 'utf8')).toBe('{ "log-level": "warn", ');
  });

  it('one setup at a time: a second run waits for the first one\'s lock, then goes on', async () => {
    const host = scratchHost();
    dockerCeStubs(host);
    // Its own process group, so that killing it ends flock and its sleep together.
    const holder = spawn('flock', ['-o', host.lock, 'sleep', '60'], { stdio: 'ignore', detached: true });
    const killHolder = (): void => {
      try {
        process.kill(-holder.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    };
    onTestFinished(killHolder);
    await new Promise((r) => setTimeout(r, 300));
    const second = spawn('bash', [SETUP, 'services'], { env: setupEnv(host), stdio: ['ignore', 'pipe', 'pipe'] });
    helpers.push(second);
    let out = '';
    second.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((resolve) => second.once('exit', (code) => resolve(code)));
    await new Promise((r) => setTimeout(r, 1500));
    expect(second.exitCode).toBeNull();
    expect(out).toContain('waiting for another setup run to finish');
    expect(out).not.toContain('libvirtd answers');
    killHolder();
    expect(await exited).toBe(0);
    expect(out).toContain('libvirtd answers');
  });
});

describe('scripts/setup.sh --dry-run', () => {
  it('on a host with only a docker client (stub client with no engine, no dockerd on PATH): plans docker.io and a dockerd without networking, changes nothing', () => {
    const host = scratchHost();
    stub(host, 'docker', 'echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock." >&2; exit 1');
    stub(host, 'dpkg-query', 'case "${@: -1}" in docker.io|containerd|runc|runsc) exit 1 ;; *) printf "install ok installed" ;; esac');
    stub(host, 'apt-get', 'case " $* " in *" -s "*) for p in "${@: -3}"; do echo "Inst $p (1.0 Debian:12/stable [amd64])"; done ;; *) exit 100 ;; esac');
    stub(host, 'virsh', 'exit 1');
    stub(host, 'runsc', 'exit 1');
    // PATH without /usr/sbin and /sbin, where this machine's own dockerd lives.
    const r = runSetup(host, ['--dry-run', 'packages', 'gvisor', 'services'], { PATH: `${host.bin}:/usr/local/bin:/usr/bin:/bin` });
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/no Docker engine: \S+docker is a client with no engine behind it and there is no dockerd: docker\.io will be installed/);
    expect(r.err).toMatch(/would: apt-get install --no-remove docker\.io runsc/);
    expect(r.err).toContain('apt would: Inst');
    expect(r.err).toMatch(/would: start dockerd --bridge=none --iptables=false --ip-forward=false --config-file \S+ --pidfile \S+ \(once docker\.io is installed\)/);
    expect(r.err).toMatch(/would: add runtimes\.runsc to \S+daemon\.json/);
    expect(r.err).toMatch(/dry run: \d+ change\(s\) would be made/);
    expect(r.calls.filter((c) => c.startsWith('apt-get') && !c.includes(' -s '))).toEqual([]);
    expect(existsSync(host.state)).toBe(false);
    expect(existsSync(host.daemonJson)).toBe(false);
    expect(existsSync(host.lock)).toBe(false);
  });

  it('with no Node.js >= 20 (stub node 18, stub apt-cache with Debian\'s 18): plans NodeSource with its key fingerprint, pinned to nodejs', () => {
    const host = scratchHost();
    stub(host, 'node', 'echo 18');
    stub(host, 'apt-cache', 'echo "nodejs:"; echo "  Installed: (none)"; echo "  Candidate: 18.19.0+dfsg-6~deb12u2"');
    stub(host, 'apt-get', 'exit 100');
    const r = runSetup(host, ['--dry-run', 'node']);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain('Node.js >= 20 is not available from the configured apt sources (candidate: 18)');
    expect(r.err).toContain(NODESOURCE_FPR);
    expect(r.err).toMatch(/would: write \/etc\/apt\/preferences\.d\/isolab-nodesource \(only the nodejs package may come from deb\.nodesource\.com\)|isolab-nodesource exists: left as it is/);
    expect(r.err).toMatch(/would: write \/etc\/apt\/sources\.list\.d\/isolab-nodesource\.list|isolab-nodesource\.list exists: left as it is/);
    expect(r.err).toContain('would: apt-get update; apt-get install --no-remove nodejs');
    expect(r.calls.filter((c) => c.startsWith('apt-get'))).toEqual([]);
  });

  it('on this real host (read-only): prints its plan and changes nothing (packages, /etc/docker, /boot, apt sources, dockerd, node_modules, state)', () => {
    const host = scratchHost();
    const env: NodeJS.ProcessEnv = { ...process.env, ISOLAB_STATE_DIR: host.state, ISOLAB_SETUP_LOCK: host.lock };
    delete env.ISOLAB_SETUP_LOCKED;
    const look = (): Record<string, string> => {
      const sh = (cmd: string): string => spawnSync('bash', ['-c', cmd], { encoding: 'utf8' }).stdout;
      return {
        dpkg: sh("dpkg-query -W -f='${Package} ${Status} ${Version}\\n' | sort"),
        etcDocker: sh('ls -la --time-style=full-iso /etc/docker 2>&1; sha256sum /etc/docker/* 2>&1'),
        boot: sh('ls -la --time-style=full-iso /boot 2>&1'),
        apt: sh('ls -la --time-style=full-iso /etc/apt/sources.list.d /etc/apt/preferences.d /etc/apt/keyrings 2>&1'),
        dockerd: sh('cat /var/run/docker.pid 2>&1; pgrep -x dockerd'),
        // name, size, mtime, mode: not the link count, which a hard-linked copy of node_modules elsewhere changes
        nodeModules: sh(`find ${ROOT}/node_modules -maxdepth 1 -name '.*' -printf '%p %s %T@ %m\\n' | sort; find ${ROOT}/node_modules/@unraid/libvirt/build/Release -maxdepth 1 -printf '%p %s %T@ %m\\n' 2>&1 | sort`),
      };
    };
    const before = look();
    const r = spawnSync('bash', [SETUP, '--dry-run'], { env, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('setup: dry run: nothing is changed');
    expect(r.stderr).toMatch(/would: download linux-image-\S+-cloud-amd64 \S+ \(what linux-image-cloud-amd64 depends on\) and unpack it into \S+ \(not installed on the host\)/);
    expect(r.stderr).toMatch(/dry run: \d+ change\(s\) would be made/);
    expect(r.stderr).not.toContain('changed:');
    expect(look()).toEqual(before);
    expect(existsSync(host.state)).toBe(false);
    expect(existsSync(host.lock)).toBe(false);
  });
});

describe('scripts/setup.sh helpers (sourced)', () => {
  it('apt_install refuses instead of removing: busybox would replace the installed busybox-static (real apt-get, in simulate mode via a stub)', (ctx) => {
    const status = spawnSync('dpkg-query', ['-W', '-f=${Status}', 'busybox-static'], { encoding: 'utf8' }).stdout;
    if (!status.startsWith('install ok installed')) ctx.skip('busybox-static is not installed here (scripts/setup.sh packages installs it), so busybox would not conflict');
    const host = scratchHost();
    stub(host, 'apt-get', 'case " $* " in *" update "*) exit 0 ;; esac\nexec /usr/bin/apt-get -s "$@"');
    const before = spawnSync('dpkg-query', ['-W', '-f=${Package} ${Status}\\n', 'busybox', 'busybox-static'], { encoding: 'utf8' }).stdout;
    const r = spawnSync('bash', ['-c', 'source "$1"; init_paths; apt_install busybox', '_', SETUP], { env: setupEnv(host), encoding: 'utf8' });
    expect(r.status).toBe(1);
    const out = `${r.stdout}${r.stderr}`;
    expect(out).toContain('E: Packages need to be removed but remove is disabled.');
    expect(out).toContain('apt-get refused or failed to install busybox (see its output above); nothing was removed');
    expect(readFileSync(host.calls, 'utf8')).toMatch(/apt-get .*install -y -q --no-remove --no-install-recommends busybox/);
    expect(spawnSync('dpkg-query', ['-W', '-f=${Package} ${Status}\\n', 'busybox', 'busybox-static'], { encoding: 'utf8' }).stdout).toBe(before);
    expect(existsSync(join(host.state, 'setup', 'installed-packages'))).toBe(false);
  });

  it('key_has_fingerprint accepts a keyring holding exactly the expected key, nothing else (Debian\'s own keyrings as samples)', () => {
    const check = (file: string, fpr: string): number | null =>
      spawnSync('bash', ['-c', 'source "$1"; key_has_fingerprint "$2" "$3"', '_', SETUP, file, fpr], { encoding: 'utf8' }).status;
    const one = '/usr/share/keyrings/debian-archive-bookworm-stable.gpg';
    const home = mkdtempSync(join(tmpdir(), 'isolab-gpg-'));
    scratch.push(home);
    const r = spawnSync('gpg', ['--batch', '--homedir', home, '--with-colons', '--show-keys', one], { encoding: 'utf8' });
    const fpr = /^fpr:+([0-9A-F]{40}):/m.exec(r.stdout)?.[1];
    expect(fpr).toBeDefined();
    expect(check(one, fpr!)).toBe(0);
    expect(check(one, NODESOURCE_FPR)).not.toBe(0);
    expect(check('/usr/share/keyrings/debian-archive-keyring.gpg', fpr!)).not.toBe(0);
    expect(check('/nonexistent', fpr!)).not.toBe(0);
  });
});

describe('scripts/setup.sh kernel: the guest kernel without installing it on the host (real apt-get download into a scratch state folder)', () => {
  const dpkgLine = (pkg: string): string => spawnSync('dpkg-query', ['-W', '-f=${Status} ${Version}', pkg], { encoding: 'utf8' }).stdout;
  const installed = (pkg: string): boolean => dpkgLine(pkg).startsWith('install ok installed');
  const metaInstalledBefore = installed('linux-image-cloud-amd64');
  const host = scratchHost();
  const env = { ...process.env, ISOLAB_STATE_DIR: host.state, ISOLAB_SETUP_LOCK: host.lock };
  delete env.ISOLAB_SETUP_LOCKED;
  let firstOut = '';
  let kernelPackage = '';

  it('unpacks kernel and modules into <state>/kernels, changes no package and nothing in /boot, and a second run changes nothing', () => {
    const dpkgBefore = spawnSync('bash', ['-c', "dpkg-query -W -f='${Package} ${Status} ${Version}\\n' 'linux-image-*' | sort"], { encoding: 'utf8' }).stdout;
    const bootBefore = readdirSync('/boot').sort();
    const r = spawnSync('bash', [SETUP, 'kernel'], { env, encoding: 'utf8', timeout: 300_000 });
    firstOut = r.stderr;
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/changed: unpacked the guest kernel linux-image-\S+ \S+ \(\S+\) into \S+ \(not installed on the host\)/);
    const k = findGuestKernel(join(host.state, 'kernels'));
    expect('version' in k, JSON.stringify(k)).toBe(true);
    if (!('version' in k)) return;
    kernelPackage = k.package!.split(' ')[0]!;
    expect(k.path.startsWith(realpathSync(host.state) + '/')).toBe(true);
    expect(statSync(k.path).size).toBeGreaterThan(1_000_000);
    expect(existsSync(join(k.modulesDir, 'modules.dep'))).toBe(true);
    expect(readFileSync(join(k.modulesDir, 'modules.dep'), 'utf8')).toMatch(/virtio_blk\.ko/);
    expect(spawnSync('bash', ['-c', "dpkg-query -W -f='${Package} ${Status} ${Version}\\n' 'linux-image-*' | sort"], { encoding: 'utf8' }).stdout).toBe(dpkgBefore);
    expect(readdirSync('/boot').sort()).toEqual(bootBefore);

    const inode = statSync(k.path).ino;
    const again = spawnSync('bash', [SETUP, 'kernel'], { env, encoding: 'utf8', timeout: 120_000 });
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toContain('done: nothing to change');
    expect(statSync(k.path).ino).toBe(inode);
  });

  it('dpkg -l shows linux-image-cloud-amd64 and the kernel package not installed while the kernel is in the state folder (a fresh host)', (ctx) => {
    if (metaInstalledBefore) {
      ctx.skip('linux-image-cloud-amd64 was already installed on this host before the test (an older setup.sh put it into /boot); '
        + '"not installed" can only be shown on a host without it: apt-get purge linux-image-cloud-amd64 and its linux-image-*-cloud-amd64 there');
    }
    expect(firstOut).toContain('not installed on the host');
    expect(kernelPackage).toMatch(/^linux-image-\S+-cloud-amd64$/);
    expect(findGuestKernel(join(host.state, 'kernels'))).toHaveProperty('version');
    for (const pkg of ['linux-image-cloud-amd64', kernelPackage]) {
      const l = spawnSync('dpkg', ['-l', pkg], { encoding: 'utf8' });
      expect(l.stdout, `dpkg -l ${pkg}`).not.toMatch(/^ii\s/m);
      expect(installed(pkg)).toBe(false);
    }
  });
});
