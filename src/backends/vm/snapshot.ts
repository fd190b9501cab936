import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WAITING_MARKER } from '../../executor/await-task.js';
import { acquireLock } from '../../image/lock.js';
import { imageDir, imageIds } from '../../image/manifest.js';
import type { Session } from '../../session/session.js';
import type { Accelerator } from './domain-xml.js';
import type { VmImage } from './guest-image.js';
import { makeRunDir, vmRunRoot } from './paths.js';
import { microCmdline, qemuArgv, SNAPSHOT_INPUT_CAPACITY, type QemuSpec } from './qemu-argv.js';
import { QemuProcess } from './qemu-process.js';
import { QmpClient } from './qmp-client.js';
import { SerialLogReader } from './serial-log.js';

/** Folder of an image's snapshot templates: `<state>/images/<id>/snapshots`. */
export function snapshotsDir(imageId: string): string {
  return join(imageDir(imageId), 'snapshots');
}

/** What a template is keyed by: a restored guest must find the same machine it was saved on. */
export interface TemplateKey {
  /** Image id. */
  imageId: string;
  /** kvm or tcg. */
  accelerator: Accelerator;
  /** Guest memory (MiB). */
  memMiB: number;
  /** vCPUs. */
  vcpus: number;
  /** QEMU's version (its migration format). */
  qemuVersion: string;
  /** The template's kernel command line (hashed into the key). */
  cmdline: string;
  /** Which kernel file it booted: `vmlinux` (PVH) or `vmlinuz` (hashed into the key). */
  kernel?: string;
}

/** The folder name of a key: `<accel>-<mem>m-<vcpus>c-<hash of QEMU version and command line>`. */
export function templateName(k: TemplateKey): string {
  const h = createHash('sha256').update(`${k.qemuVersion}\n${k.cmdline}${k.kernel && k.kernel !== 'vmlinuz' ? `\n${k.kernel}` : ''}`).digest('hex').slice(0, 8);
  return `${k.accelerator}-${k.memMiB}m-${k.vcpus}c-${h}`;
}

/** A saved template, as `template.json` records it. */
export interface TemplateInfo {
  /** Key. */
  key: TemplateKey;
  /** Its folder. */
  dir: string;
  /** The saved guest (QEMU's migration stream). */
  stateFile: string;
  /** Size of the saved guest (bytes). */
  stateBytes: number;
  /** When it was made. */
  createdAt: string;
  /** Time to boot the template to its waiting executor, and to save it (ms). */
  buildMs: { boot: number; save: number };
  /** The input disk size restored guests must be given (bytes). */
  inputCapacity: number;
}

/** Everything needed to boot and save a template. */
export interface TemplateBuild {
  /** The key. */
  key: TemplateKey;
  /** The guest image. */
  image: VmImage;
  /** QEMU binary. */
  emulator: string;
  /** Session building it (names its run folder, so reap finds a half-built one). */
  session: Session;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** Reads `template.json` of a template folder, or undefined when it is not a complete template. */
export function readTemplate(dir: string): TemplateInfo | undefined {
  try {
    const t = JSON.parse(readFileSync(join(dir, 'template.json'), 'utf8')) as TemplateInfo;
    return existsSync(t.stateFile) ? t : undefined;
  } catch {
    return undefined;
  }
}

/** Every template of the images in this state folder (complete or not), for `image list`, prune and reap. */
export function listTemplates(ids = imageIds()): { imageId: string; dir: string; info?: TemplateInfo }[] {
  const out: { imageId: string; dir: string; info?: TemplateInfo }[] = [];
  for (const id of ids) {
    let names: string[] = [];
    try {
      names = readdirSync(snapshotsDir(id));
    } catch {
      continue;
    }
    for (const n of names) {
      if (n === '.lock') continue;
      const dir = join(snapshotsDir(id), n);
      out.push({ imageId: id, dir, info: readTemplate(dir) });
    }
  }
  return out;
}

/**
 * The QEMU spec of a template and of every guest restored from it: microvm, the image's root
 * disk and an input disk of SNAPSHOT_INPUT_CAPACITY, the serial console on a unix socket (the
 * task goes in there) that also logs to a file, QMP on a socket. Only files differ between copies.
 */
export function snapshotSpec(
  k: TemplateKey, image: VmImage, emulator: string, files: { input: string; runDir: string; name: string },
): QemuSpec {
  return {
    emulator, machine: 'microvm', accelerator: k.accelerator, memMiB: k.memMiB, vcpus: k.vcpus,
    kernel: k.kernel === 'vmlinux' && image.vmlinux ? image.vmlinux : image.kernel, initramfs: image.initramfs, cmdline: k.cmdline,
    disks: [{ file: image.rootDisk, id: 'root' }, { file: files.input, id: 'input' }],
    serial: 'chardev:ser0',
    extra: [
      '-chardev', `socket,id=ser0,path=${join(files.runDir, 'console.sock')},server=on,wait=off,logfile=${join(files.runDir, 'serial.log')}`,
      '-qmp', `unix:${join(files.runDir, 'qmp.sock')},server=on,wait=off`,
      '-name', `guest=${files.name}`, '-pidfile', join(files.runDir, 'qemu.pid'),
    ],
  };
}

/** The template's kernel command line: the micro boot path's, waiting for the task on the console. */
export function templateCmdline(image: VmImage): string {
  return `${microCmdline(image.cmdline)} init_on_free=1 isolab.await=1`;
}

/** Creates a sparse file of `bytes` (an empty input disk). */
export function sparseFile(path: string, bytes: number): void {
  writeFileSync(path, '', { mode: 0o644 });
  truncateSync(path, bytes);
}

const inFlight = new Map<string, Promise<TemplateInfo>>();

/**
 * The template for `key`, built when missing: boots a guest on the micro path with its executor
 * waiting for a task, live-migrates it to a file once it says it waits, and installs the folder
 * atomically. One build per key at a time (in this process, and across processes by a lock file).
 */
export function ensureTemplate(b: TemplateBuild): Promise<TemplateInfo> {
  const dir = join(snapshotsDir(b.key.imageId), templateName(b.key));
  const ready = readTemplate(dir);
  if (ready) return Promise.resolve(ready);
  let p = inFlight.get(dir);
  if (!p) {
    p = buildLocked(b, dir).finally(() => inFlight.delete(dir));
    inFlight.set(dir, p);
  }
  return p;
}

async function buildLocked(b: TemplateBuild, dir: string): Promise<TemplateInfo> {
  mkdirSync(snapshotsDir(b.key.imageId), { recursive: true, mode: 0o700 });
  const release = await acquireLock(join(snapshotsDir(b.key.imageId), '.lock'), { timeoutMs: 10 * 60_000 });
  try {
    return readTemplate(dir) ?? (await buildTemplate(b, dir));
  } finally {
    release();
  }
}

/** How long a template may take to boot to its waiting executor, and to save (ms). */
const TEMPLATE_TIMEOUT_MS = { boot: 180_000, save: 120_000 } as const;

async function buildTemplate(b: TemplateBuild, dir: string): Promise<TemplateInfo> {
  const log = b.log ?? (() => {});
  const name = b.session.name(`template-${templateName(b.key)}`);
  const runDir = makeRunDir(join(vmRunRoot(), name));
  const stage = join(snapshotsDir(b.key.imageId), b.session.name(`build-${templateName(b.key)}`));
  let qemu: QemuProcess | undefined;
  let reader: SerialLogReader | undefined;
  const qmp = new QmpClient(join(runDir, 'qmp.sock'));
  const cleanup = async (): Promise<void> => {
    reader?.stop();
    qmp.close();
    await qemu?.kill();
    rmSync(runDir, { recursive: true, force: true });
    rmSync(stage, { recursive: true, force: true });
  };
  const undefer = b.session.defer(`snapshot template build ${name}`, cleanup);
  try {
    rmSync(stage, { recursive: true, force: true });
    mkdirSync(stage, { mode: 0o700 });
    const input = join(runDir, 'input.raw');
    sparseFile(input, SNAPSHOT_INPUT_CAPACITY);
    const argv = qemuArgv(snapshotSpec(b.key, b.image, b.emulator, { input, runDir, name }));
    log(`snapshot template ${templateName(b.key)}: booting (${b.key.accelerator}, ${b.key.memMiB} MiB, ${b.key.vcpus} vCPU)`);
    const t0 = performance.now();
    let waiting!: () => void;
    const isWaiting = new Promise<void>((r) => (waiting = r));
    reader = new SerialLogReader(join(runDir, 'serial.log'), (l) => {
      if (l.includes(WAITING_MARKER)) waiting();
    });
    qemu = new QemuProcess(argv);
    reader.start();
    await raceExit(qemu, isWaiting, TEMPLATE_TIMEOUT_MS.boot, 'the template guest never said it waits');
    const boot = Math.round(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 300));
    const t1 = performance.now();
    await qmp.open(10_000, () => qemu!.running);
    const stateFile = join(stage, 'state.bin');
    await qmp.execute('migrate', { uri: `exec:cat > ${stateFile}` });
    const deadline = performance.now() + TEMPLATE_TIMEOUT_MS.save;
    for (;;) {
      const m = await qmp.execute<{ status?: string; 'error-desc'?: string }>('query-migrate');
      if (m.status === 'completed') break;
      if (m.status === 'failed' || m.status === 'cancelled') throw new Error(`saving the template failed: ${m['error-desc'] ?? m.status}`);
      if (performance.now() > deadline) throw new Error('saving the template took too long');
      await new Promise((r) => setTimeout(r, 50));
    }
    const save = Math.round(performance.now() - t1);
    qmp.close();
    reader.stop();
    await qemu.kill();
    const info: TemplateInfo = {
      key: b.key, dir, stateFile: join(dir, 'state.bin'), stateBytes: statSync(stateFile).size, createdAt: new Date().toISOString(),
      buildMs: { boot, save }, inputCapacity: SNAPSHOT_INPUT_CAPACITY,
    };
    writeFileSync(join(stage, 'template.json'), JSON.stringify(info, null, 2) + '\n', { mode: 0o600 });
    rmSync(dir, { recursive: true, force: true });
    renameSync(stage, dir);
    log(`snapshot template ${templateName(b.key)}: booted in ${boot} ms, saved in ${save} ms (${(info.stateBytes / 1e6).toFixed(0)} MB)`);
    return info;
  } finally {
    undefer();
    await cleanup();
  }
}

async function raceExit(q: QemuProcess, p: Promise<void>, timeoutMs: number, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      p,
      q.exited.then((e) => {
        throw new Error(`QEMU exited (${e.signal ?? e.code}) before ${what.replace(/^the template guest never said/, 'the guest said')}: ${e.stderr.split('\n').pop() ?? ''}`);
      }),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} within ${timeoutMs / 1000} s`)), timeoutMs))),
    ]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/** Removes every template folder of these images (complete, stale or half-built); returns the folders. */
export function removeTemplates(ids = imageIds(), opts: { dryRun?: boolean } = {}): string[] {
  const out: string[] = [];
  for (const t of listTemplates(ids)) {
    if (!opts.dryRun) rmSync(t.dir, { recursive: true, force: true });
    out.push(t.dir);
  }
  return out;
}
