import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { basename, dirname, join, posix, relative, resolve } from 'node:path';
import { repoRoot } from '../executor/paths.js';
import { fileDigest } from './digest.js';
import { execTool } from './exec.js';
import { stateDir } from '../session/state-dir.js';
import { BUILDER_VERSION, GUEST } from './layout.js';

/** One file the image is made from: where it comes from and where it goes. */
export interface InputFile {
  /** What it is: node, lib, busybox, app (compiled executor code), guest (scripts), kernel, module. */
  role: 'node' | 'lib' | 'busybox' | 'app' | 'guest' | 'kernel' | 'module';
  /** Path on the host. */
  src: string;
  /** Path inside the root tree (or, for modules, the initramfs); the kernel has none. */
  dest: string;
  /** sha256 of the content. */
  sha256: string;
}

/** The guest kernel and the modules its initramfs loads. */
export interface KernelInputs {
  /** Kernel release, e.g. 6.1.0-56-cloud-amd64. */
  version: string;
  /** vmlinuz on the host. */
  path: string;
  /** Module names in load order (dependencies first), for the q35 machine (virtio over PCI). */
  modules: { name: string; src: string }[];
  /** Module names in load order for QEMU's microvm machine (virtio over MMIO), from modules-mmio.txt. */
  mmioModules: { name: string; src: string }[];
}

/** Everything an image is built from, and the hash naming it. */
export interface ImageInputs {
  /** sha256 (hex) over the builder version and every input file's role, destination and content. */
  hash: string;
  /** First 12 hex digits of the hash: the Docker tag and the disk folder name. */
  id: string;
  /** Host node binary (real path) and its version. */
  node: { path: string; version: string };
  /** Every file, in a stable order. */
  files: InputFile[];
  /** The guest kernel, or undefined (with the reason) when none is installed. */
  kernel?: KernelInputs;
  /** Why there is no kernel, when there is none. */
  noKernel?: string;
  /** The guest scripts folder (src/image/guest). */
  guestDir: string;
}

/** Folder holding the guest scripts: init.sh, initramfs-init.sh, modules.txt. */
export function guestDir(): string {
  return join(repoRoot(), 'src', 'image', 'guest');
}

/** Shared libraries `ldd` lists for a binary, as {real file, path the loader asks for}. */
export async function lddLibraries(binary: string): Promise<{ src: string; dest: string }[]> {
  const { stdout } = await execTool('ldd', [binary]);
  const out: { src: string; dest: string }[] = [];
  for (const line of stdout.split('\n')) {
    const m = /=>\s*(\/\S+)\s*\(/.exec(line) ?? /^\s*(\/\S+)\s*\(/.exec(line);
    if (!m) {
      if (/not found/.test(line)) throw new Error(`ldd ${binary}: ${line.trim()}`);
      continue;
    }
    const dest = m[1]!;
    out.push({ src: realpathSync(dest), dest });
  }
  return out;
}

const IMPORT_RE = /^\s*(?:import|export)\s[^'"]*?\bfrom\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm;

/** The compiled files `entry` needs (itself included), following relative imports; throws on package imports. */
export function importClosure(entry: string): string[] {
  const seen = new Set<string>();
  const todo = [resolve(entry)];
  while (todo.length) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    if (!existsSync(file)) throw new Error(`${file} is missing; run make build`);
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(IMPORT_RE)) {
      const spec = (m[1] ?? m[2] ?? m[3])!;
      if (spec.startsWith('node:')) continue;
      if (!spec.startsWith('.')) throw new Error(`${file} imports package "${spec}": the guest has no node_modules`);
      todo.push(resolve(dirname(file), spec));
    }
  }
  return [...seen].sort();
}

/** Module names the initramfs should load, from modules.txt (or another list, e.g. modules-mmio.txt). */
export function wantedModules(dir = guestDir(), file = 'modules.txt'): string[] {
  return readFileSync(join(dir, file), 'utf8')
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean);
}

const norm = (n: string): string => n.replace(/-/g, '_');
const modName = (p: string): string => basename(p).replace(/\.ko(\.(xz|zst|gz))?$/, '');

/** Resolves module names to files in load order, adding dependencies from modules.dep first. */
export function resolveModules(modulesDir: string, wanted: string[]): { name: string; src: string }[] {
  const dep = readFileSync(join(modulesDir, 'modules.dep'), 'utf8');
  const byName = new Map<string, { path: string; deps: string[] }>();
  for (const line of dep.split('\n')) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    const path = line.slice(0, i);
    const deps = line.slice(i + 1).trim().split(/\s+/).filter(Boolean);
    byName.set(norm(modName(path)), { path, deps: deps.map((d) => norm(modName(d))) });
  }
  const out: { name: string; src: string }[] = [];
  const done = new Set<string>();
  const visit = (name: string, display: string, chain: string[]): void => {
    const key = norm(name);
    if (done.has(key)) return;
    const e = byName.get(key);
    if (!e) throw new Error(`kernel module ${display} not found in ${modulesDir}`);
    if (chain.includes(key)) return;
    for (const d of e.deps) visit(d, d, [...chain, key]);
    done.add(key);
    out.push({ name: display, src: join(modulesDir, e.path) });
  };
  for (const w of wanted) visit(w, w, []);
  return out;
}

/** Where `scripts/setup.sh kernel` unpacks guest kernels: `stateDir()/kernels` (`current` links the one in use). */
export function kernelsDir(): string {
  return join(stateDir(), 'kernels');
}

/** What `scripts/setup.sh kernel` writes beside an unpacked kernel package (isolab-kernel.json). */
interface KernelRecord {
  /** The versioned Debian package, e.g. linux-image-6.1.0-57-cloud-amd64. */
  package?: string;
  /** Its Debian version. */
  version?: string;
  /** Kernel release, e.g. 6.1.0-57-cloud-amd64. */
  release?: string;
}

const RELEASE_RE = /^[0-9][A-Za-z0-9._+~-]*$/;

/**
 * The guest kernel `scripts/setup.sh kernel` unpacked into the state folder (never one installed
 * on the host), with its modules, or why there is none. Paths are built from the kernel release,
 * checked against a strict pattern, never taken from the record as they are.
 */
export function findGuestKernel(dir = kernelsDir()): { version: string; path: string; modulesDir: string; package?: string } | { none: string } {
  const hint = 'run: scripts/setup.sh kernel';
  let root: string;
  try {
    root = realpathSync(join(dir, 'current'));
  } catch {
    return { none: `no guest kernel in ${dir} (${hint})` };
  }
  let rec: KernelRecord;
  try {
    rec = JSON.parse(readFileSync(join(root, 'isolab-kernel.json'), 'utf8')) as KernelRecord;
  } catch {
    return { none: `${root}/isolab-kernel.json is missing or unreadable (${hint})` };
  }
  const version = rec.release;
  if (typeof version !== 'string' || !RELEASE_RE.test(version)) return { none: `${root}/isolab-kernel.json names no valid kernel release (${hint})` };
  const path = join(root, 'boot', `vmlinuz-${version}`);
  const modulesDir = join(root, 'lib', 'modules', version);
  if (!existsSync(path)) return { none: `${path} missing (${hint})` };
  if (!existsSync(join(modulesDir, 'modules.dep'))) return { none: `${modulesDir}/modules.dep missing (${hint})` };
  return { version, path, modulesDir, ...(typeof rec.package === 'string' ? { package: `${rec.package} ${rec.version ?? ''}`.trim() } : {}) };
}

/** Where the busybox-static binary is. */
export function busyboxPath(): string {
  for (const p of ['/bin/busybox', '/usr/bin/busybox']) if (existsSync(p)) return realpathSync(p);
  throw new Error('busybox not found (apt-get install busybox-static)');
}

/** Every module file of the initramfs once: the PCI list's, then those only the MMIO list has. */
export function allModules(k: KernelInputs): { name: string; src: string }[] {
  const names = new Set(k.modules.map((m) => m.name));
  return [...k.modules, ...k.mmioModules.filter((m) => !names.has(m.name))];
}

/** Gathers every input of the guest image and hashes them. */
export async function collectInputs(): Promise<ImageInputs> {
  const root = repoRoot();
  const gdir = guestDir();
  const nodePath = realpathSync(process.execPath);
  const planned: Omit<InputFile, 'sha256'>[] = [];
  planned.push({ role: 'node', src: nodePath, dest: GUEST.node });
  for (const l of await lddLibraries(nodePath)) planned.push({ role: 'lib', src: l.src, dest: l.dest });
  planned.push({ role: 'busybox', src: busyboxPath(), dest: '/bin/busybox' });
  const dist = join(root, 'dist');
  const entry = join(dist, 'executor', 'main.js');
  if (!existsSync(entry)) throw new Error(`executor not built (${entry}); run make build`);
  for (const f of importClosure(entry)) {
    planned.push({ role: 'app', src: f, dest: posix.join(GUEST.appRoot, 'dist', relative(dist, f).split('\\').join('/')) });
  }
  for (const g of ['init.sh', 'initramfs-init.sh', 'modules.txt', 'modules-mmio.txt']) planned.push({ role: 'guest', src: join(gdir, g), dest: `guest:${g}` });
  const k = findGuestKernel();
  let kernel: KernelInputs | undefined;
  if ('version' in k) {
    const modules = resolveModules(k.modulesDir, wantedModules(gdir));
    const mmioModules = resolveModules(k.modulesDir, wantedModules(gdir, 'modules-mmio.txt'));
    kernel = { version: k.version, path: k.path, modules, mmioModules };
    planned.push({ role: 'kernel', src: k.path, dest: `kernel:${k.version}` });
    for (const m of allModules(kernel)) planned.push({ role: 'module', src: m.src, dest: `/lib/modules/${m.name}.ko` });
  }
  const files: InputFile[] = [];
  for (const p of planned) files.push({ ...p, sha256: await fileDigest(p.src) });
  const version = process.version;
  const h = createHash('sha256');
  h.update(JSON.stringify({ builder: BUILDER_VERSION, node: version, kernel: kernel?.version ?? null }));
  for (const f of files) h.update(`\n${f.role} ${f.dest} ${f.sha256}`);
  const hash = h.digest('hex');
  return {
    hash, id: hash.slice(0, 12), node: { path: nodePath, version }, files, kernel,
    noKernel: 'none' in k ? k.none : undefined, guestDir: gdir,
  };
}
