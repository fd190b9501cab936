import { execFile } from 'node:child_process';

/** What libvirt says about itself and the hypervisor, read with `virsh` (the binding has no such calls). */
export interface HostFacts {
  /** libvirt library version, e.g. `9.0.0`. */
  libvirtVersion?: string;
  /** Hypervisor, e.g. `QEMU 7.2.22`. */
  hypervisor?: string;
  /** QEMU version alone, e.g. `7.2.22`. */
  qemuVersion?: string;
  /** Domain types offered for x86_64 hvm guests, e.g. `['qemu', 'kvm']`. */
  domainTypes: string[];
  /** Emulator binary libvirt uses. */
  emulator?: string;
  /** Why something could not be read. */
  problems: string[];
}

function virsh(uri: string, args: string[], timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('virsh', ['-c', uri, ...args], { timeout: timeoutMs, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error((stderr || err.message).trim().split('\n').pop() ?? err.message));
      else resolve(stdout);
    });
  });
}

/** Parses `virsh version` output. */
export function parseVersion(text: string): Pick<HostFacts, 'libvirtVersion' | 'hypervisor' | 'qemuVersion'> {
  const lib = /Using library: libvirt ([0-9.]+)/.exec(text)?.[1];
  const hyp = /Running hypervisor: (.+)/.exec(text)?.[1]?.trim();
  const qemu = hyp && /^QEMU ([0-9.]+)/.exec(hyp)?.[1];
  return { libvirtVersion: lib, hypervisor: hyp, qemuVersion: qemu || undefined };
}

/** Parses `virsh capabilities`: domain types and emulator of the x86_64 hvm guest. */
export function parseCapabilities(xml: string): Pick<HostFacts, 'domainTypes' | 'emulator'> {
  const guests = xml.split('<guest>').slice(1);
  for (const g of guests) {
    if (!/<os_type>hvm<\/os_type>/.test(g) || !/<arch name=['"]x86_64['"]/.test(g)) continue;
    const types = [...g.matchAll(/<domain type=['"]([a-z0-9]+)['"]/g)].map((m) => m[1]!);
    const emulator = /<emulator>([^<]+)<\/emulator>/.exec(g)?.[1];
    return { domainTypes: [...new Set(types)], emulator };
  }
  return { domainTypes: [] };
}

/**
 * Environment variable that makes isolab act as if libvirt offered exactly these domain types
 * (comma-separated): `qemu` is how a host without /dev/kvm looks, `qemu,kvm` how a host with one
 * looks, so each path can be tested on any host. The domains still run on the real libvirtd (a kvm
 * domain where the host has none fails to start, which is the `fails` outcome).
 */
export const DOMAIN_TYPES_ENV = 'ISOLAB_VM_DOMAIN_TYPES';

/** Reads versions and domain types; never throws (problems are listed instead). */
export async function hostFacts(uri: string, env: NodeJS.ProcessEnv = process.env): Promise<HostFacts> {
  const facts: HostFacts = { domainTypes: [], problems: [] };
  const [ver, caps] = await Promise.allSettled([virsh(uri, ['version']), virsh(uri, ['capabilities'])]);
  if (ver.status === 'fulfilled') Object.assign(facts, parseVersion(ver.value));
  else facts.problems.push(`virsh version: ${(ver.reason as Error).message}`);
  if (caps.status === 'fulfilled') Object.assign(facts, parseCapabilities(caps.value));
  else facts.problems.push(`virsh capabilities: ${(caps.reason as Error).message}`);
  const only = env[DOMAIN_TYPES_ENV]?.split(',').map((t) => t.trim()).filter(Boolean);
  if (only?.length) {
    facts.domainTypes = [...new Set(only)];
    facts.problems.push(`domain types set to ${only.join(',')} by ${DOMAIN_TYPES_ENV}`);
  }
  return facts;
}
