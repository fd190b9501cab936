import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import type { RuntimeCheck } from '../docker/docker-backend.js';
import { runtimeArg, type RuntimeFacts, type RuntimeHints } from '../docker/runtime.js';
import { PLATFORM_ATTR } from './descriptor.js';

const run = promisify(execFile);

/** Environment variable naming the dockerd runtime the gvisor backend uses (default `runsc`). */
export const RUNTIME_ENV = 'ISOLAB_GVISOR_RUNTIME';

/** The dockerd runtime name of gVisor: `ISOLAB_GVISOR_RUNTIME`, else `runsc`. */
export function gvisorRuntime(env: NodeJS.ProcessEnv = process.env): string {
  return env[RUNTIME_ENV]?.trim() || 'runsc';
}

/** How runsc gets onto a host, for the one-line reasons. */
export const RUNSC_HINTS: RuntimeHints = {
  install: 'Debian package runsc; scripts/setup.sh installs it and registers it with dockerd',
  register: 'scripts/setup.sh adds it to "runtimes" in /etc/docker/daemon.json with --platform and --network=none, then sends dockerd SIGHUP',
};

/** runsc's built-in default platform, from `runsc flags` ("... (default "ptrace")"); undefined when it does not say. */
export async function defaultPlatform(binary: string): Promise<string | undefined> {
  try {
    const { stdout, stderr } = await run(binary, ['flags'], { timeout: 5000 });
    return parseDefaultPlatform(`${stdout}\n${stderr}`);
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return parseDefaultPlatform(`${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

/** The default of `-platform` in `runsc flags` output. */
export function parseDefaultPlatform(text: string): string | undefined {
  return /-platform string\s*\n[^\n]*\(default "([a-z0-9]+)"\)/.exec(text)?.[1];
}

/** What the runsc check needs besides dockerd's facts, injectable for tests. */
export interface RunscHost {
  /** runsc's default platform when the runtime arguments do not name one. */
  defaultPlatform: (binary: string) => Promise<string | undefined>;
  /** True when /dev/kvm exists (the kvm platform needs it). */
  hasKvm: () => boolean;
}

const REAL_HOST: RunscHost = { defaultPlatform, hasKvm: () => existsSync('/dev/kvm') };

/**
 * Checks that dockerd's runsc can run isolab's containers: the platform (from `--platform`, else
 * runsc's default) is recorded, kvm needs /dev/kvm, and `--network=none` must be among the runtime
 * arguments, since runsc refuses a container without network otherwise ("cannot run with network
 * enabled in root network namespace").
 */
export async function checkRunsc(f: RuntimeFacts, host: RunscHost = REAL_HOST): Promise<RuntimeCheck> {
  const given = runtimeArg(f.args, 'platform');
  const platform = given ?? (f.binary ? await host.defaultPlatform(f.binary) : undefined);
  const attributes: Record<string, string> = { [PLATFORM_ATTR]: platform ?? 'unknown' };
  attributes['gvisor.platform.source'] = given ? 'runtime arguments' : platform ? 'runsc default' : 'unknown';
  const network = runtimeArg(f.args, 'network');
  attributes['gvisor.network'] = network ?? 'sandbox (runsc default)';
  if (network !== 'none') {
    return {
      attributes,
      problem: `runtime ${f.name} is registered without --network=none in its runtimeArgs: runsc then refuses containers that have no network ("cannot run with network enabled in root network namespace"); scripts/setup.sh registers it with --network=none`,
    };
  }
  if (platform === 'kvm' && !host.hasKvm()) {
    return { attributes, problem: `runtime ${f.name} uses the kvm platform, but /dev/kvm is missing; register it with --platform=ptrace` };
  }
  return { attributes, note: `platform ${platform ?? 'unknown'}` };
}
