import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { NAME_PREFIX, isSessionId } from '../session/session-id.js';

/** The test range hosts get addresses in (RFC 2544's benchmark range, never routed). */
export const CLUSTER_SUBNET = '198.18.0.0/24';

/** Where iproute2 keeps named network namespaces. */
export const NETNS_DIR = '/run/netns';

/** Most hosts (master included) in one cluster. */
export const MAX_HOSTS = 65;

/** An `ip` command failed; the message is its stderr's first line. */
export class IpError extends Error {}

/** Runs `ip ARGS`; throws IpError with its stderr unless `ok` allows the failure. */
export function ip(args: string[], ok = false): string {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.error) throw new IpError(`ip: ${(r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not installed (apt-get install iproute2, or scripts/setup.sh packages)' : r.error.message}`);
  if (r.status !== 0 && !ok) throw new IpError(`ip ${args.join(' ')}: ${(r.stderr || '').trim().split('\n')[0] ?? `exit ${r.status}`}`);
  return r.stdout;
}

/**
 * Names of a cluster's network parts. Namespaces carry the session prefix in full
 * (`isolab-<session>-h<i>`); link names are limited to 15 bytes, so they carry `isl` + 6 hex of the
 * session's sha256 (`isl1a2b3c-br`, host ends `isl1a2b3c-v<i>`), and their ifalias
 * `isolab:<session>:<role>` names the session in full: that alias is what proves a link isolab's.
 */
export interface ClusterNames {
  /** Session id. */
  session: string;
  /** The bridge. */
  bridge: string;
  /** Namespace of host i (0: the master's). */
  netns(i: number): string;
  /** Host end of host i's veth pair (the other end is eth0 in its namespace). */
  veth(i: number): string;
  /** Address of host i, e.g. 198.18.0.2 for the master. */
  address(i: number): string;
  /** ifalias of a link of this cluster. */
  alias(role: string): string;
}

/** The 6 hex digits of a session in its cluster's link names. */
export function linkTag(session: string): string {
  return `isl${createHash('sha256').update(session).digest('hex').slice(0, 6)}`;
}

/** Names of the cluster of `session`. */
export function clusterNames(session: string): ClusterNames {
  const tag = linkTag(session);
  return {
    session,
    bridge: `${tag}-br`,
    netns: (i) => `${NAME_PREFIX}${session}-h${i}`,
    veth: (i) => `${tag}-v${i}`,
    address: (i) => `198.18.0.${i + 2}`,
    alias: (role) => `isolab:${session}:${role}`,
  };
}

/** A cluster's namespace found on the host. */
export interface FoundNetns {
  /** Namespace name. */
  name: string;
  /** Session in its name. */
  session: string;
}

/** Namespaces named `isolab-<session>-h<i>`. */
export function listClusterNetns(): FoundNetns[] {
  if (!existsSync(NETNS_DIR)) return [];
  const out: FoundNetns[] = [];
  for (const name of readdirSync(NETNS_DIR)) {
    const m = new RegExp(`^${NAME_PREFIX}([0-9a-z]{4,32})-h\\d{1,2}$`).exec(name);
    if (m) out.push({ name, session: m[1]! });
  }
  return out;
}

/** A cluster's link found on the host. */
export interface FoundLink {
  /** Interface name. */
  name: string;
  /** Session named by its alias. */
  session: string;
}

/** Links whose name has a session's tag and whose alias `isolab:<session>:…` names that same session. */
export function listClusterLinks(): FoundLink[] {
  let links: { ifname: string; ifalias?: string }[];
  try {
    links = JSON.parse(ip(['-j', 'link', 'show']) || '[]') as { ifname: string; ifalias?: string }[];
  } catch {
    return [];
  }
  const out: FoundLink[] = [];
  for (const l of links) {
    const m = /^isolab:([0-9a-z]{4,32}):[a-z0-9]+$/.exec(l.ifalias ?? '');
    if (!m || !isSessionId(m[1])) continue;
    if (l.ifname.startsWith(`${linkTag(m[1])}-`)) out.push({ name: l.ifname, session: m[1] });
  }
  return out;
}

/** Pids of the processes inside a namespace. */
export function netnsPids(name: string): number[] {
  return ip(['netns', 'pids', name], true).split('\n').filter((l) => /^\d+$/.test(l.trim())).map(Number);
}

/** Builds the bridge and `hosts` namespaces, each with a veth pair on the bridge, its address and lo up. */
export function buildNetwork(n: ClusterNames, hosts: number): void {
  ip(['link', 'add', n.bridge, 'type', 'bridge']);
  ip(['link', 'set', 'dev', n.bridge, 'alias', n.alias('br')]);
  ip(['link', 'set', n.bridge, 'up']);
  for (let i = 0; i < hosts; i++) {
    const ns = n.netns(i);
    ip(['netns', 'add', ns]);
    ip(['link', 'add', n.veth(i), 'type', 'veth', 'peer', 'name', `${n.veth(i)}p`, 'netns', ns]);
    ip(['link', 'set', 'dev', n.veth(i), 'alias', n.alias(`v${i}`)]);
    ip(['-n', ns, 'link', 'set', `${n.veth(i)}p`, 'name', 'eth0']);
    ip(['link', 'set', n.veth(i), 'master', n.bridge, 'up']);
    ip(['-n', ns, 'addr', 'add', `${n.address(i)}/24`, 'dev', 'eth0']);
    ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
    ip(['-n', ns, 'link', 'set', 'lo', 'up']);
  }
}

/** Deletes a namespace (its veth pair goes with it); no error when it is already gone. */
export function deleteNetns(name: string): void {
  ip(['netns', 'del', name], true);
}

/** Deletes a link; no error when it is already gone. */
export function deleteLink(name: string): void {
  ip(['link', 'del', name], true);
}
