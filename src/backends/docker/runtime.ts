import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** An OCI runtime as dockerd and the host know it. */
export interface RuntimeFacts {
  /** dockerd's name for it (`runc`, `runsc`, `crun`). */
  name: string;
  /** True when dockerd lists it in `docker info` Runtimes. */
  known: boolean;
  /** True when it is dockerd's default runtime. */
  isDefault: boolean;
  /** Path dockerd runs (as registered), when known. */
  path?: string;
  /** `runtimeArgs` dockerd passes it. */
  args: string[];
  /** The executable, resolved on PATH when not absolute; undefined when not found. */
  binary?: string;
  /** Its version (`<binary> --version`), when it answered. */
  version?: string;
}

/** The subset of dockerd's `/info` answer the runtime checks read. */
export interface EngineRuntimes {
  /** Runtimes by name, as `docker info` lists them. */
  Runtimes?: Record<string, { path?: string; runtimeArgs?: string[] }>;
  /** The default runtime's name. */
  DefaultRuntime?: string;
}

/** Folders searched after PATH: dockerd (root) finds runtimes in the sbin folders too. */
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The executable `bin` resolves to on PATH and the system folders (or itself, when absolute and executable), else undefined. */
export function findExecutable(bin: string, path = `${process.env.PATH ?? ''}:${SYSTEM_PATH}`): string | undefined {
  const ok = (p: string): boolean => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (isAbsolute(bin)) return ok(bin) ? bin : undefined;
  for (const dir of path.split(delimiter)) {
    if (dir && ok(join(dir, bin))) return join(dir, bin);
  }
  return undefined;
}

/** The version an OCI runtime prints first (`runsc version 0.0~20221219.0`, `crun version 1.8.1`), or undefined. */
export function parseRuntimeVersion(text: string): string | undefined {
  return /\bversion:?\s+(\S+)/i.exec(text)?.[1];
}

/** Runs `<binary> --version` (5 s at most); undefined when it fails. */
export async function binaryVersion(binary: string): Promise<string | undefined> {
  try {
    const { stdout } = await run(binary, ['--version'], { timeout: 5000 });
    return parseRuntimeVersion(stdout);
  } catch {
    return undefined;
  }
}

/** What dockerd and the host say about runtime `name` (default: dockerd's default runtime). */
export async function runtimeFacts(info: EngineRuntimes, name?: string): Promise<RuntimeFacts> {
  const rt = name ?? info.DefaultRuntime ?? 'runc';
  const reg = info.Runtimes?.[rt];
  const binary = findExecutable(reg?.path || rt);
  return {
    name: rt,
    known: reg !== undefined,
    isDefault: rt === (info.DefaultRuntime ?? 'runc'),
    path: reg?.path,
    args: reg?.runtimeArgs ?? [],
    binary,
    version: binary ? await binaryVersion(binary) : undefined,
  };
}

/** The value of a `--flag=value` or `--flag value` runtime argument, or undefined. */
export function runtimeArg(args: readonly string[], flag: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!.replace(/^--?/, '-');
    if (a.startsWith(`-${flag}=`)) return a.slice(flag.length + 2);
    if (a === `-${flag}`) return args[i + 1];
  }
  return undefined;
}

/** How to get a runtime installed and registered, for the one-line reasons. */
export interface RuntimeHints {
  /** How to install it, e.g. `Debian package runsc; scripts/setup.sh installs it`. */
  install: string;
  /** How to register it with dockerd. */
  register: string;
}

/** Hints for a runtime isolab does not set up itself. */
export function manualHints(name: string): RuntimeHints {
  return {
    install: `Debian package ${name}`,
    register: `add it to "runtimes" in /etc/docker/daemon.json and send dockerd SIGHUP`,
  };
}

/** One line on why dockerd cannot run containers on runtime `f.name`, for `doctor`. */
export function unknownRuntimeReason(f: RuntimeFacts, hints: RuntimeHints = manualHints(f.name)): string {
  const head = `dockerd does not know the runtime ${f.name}`;
  if (f.binary) return `${head}: ${f.name}${f.version ? ` ${f.version}` : ''} is installed at ${f.binary} but not registered (${hints.register})`;
  return `${head}: ${f.name} is not installed (${hints.install})`;
}
