import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../executor/paths.js';
import { procStartTime } from '../session/proc.js';
import { NAME_PREFIX } from '../session/session-id.js';
import { inspectSession, sessionDir } from '../session/session-lock.js';
import { stateDir } from '../session/state-dir.js';
import {
  buildNetwork, clusterNames, deleteLink, deleteNetns, listClusterLinks, listClusterNetns, NETNS_DIR, netnsPids, type ClusterNames,
} from './net.js';

/** Port of the cluster's master (Mesos' master port). */
export const CLUSTER_MASTER_PORT = 5050;

/** Principal of the credential a cluster makes for its master, agents and frameworks. */
export const CLUSTER_PRINCIPAL = 'isolab-cluster';

/** One process the cluster runs: the master or an agent. */
export interface ClusterProcess {
  /** `master` or `agent-<i>`. */
  role: string;
  /** Host index (0: the master's). */
  host: number;
  /** Pid (the node process, inside its namespace). */
  pid: number;
  /** Its start time (clock ticks after boot): with the pid it names one process. */
  startTime: number;
  /** The isolab session it runs as (an agent's executors carry it). */
  session: string;
}

/** What `<state>/clusters/isolab-<session>/cluster.json` records about a running cluster. */
export interface ClusterRecord {
  /** The cluster's session. */
  session: string;
  /** Its folder. */
  dir: string;
  /** Pid of `isolab cluster up`, which supervises it. */
  supervisorPid: number;
  /** Hosts: the master's and one per agent. */
  hosts: { index: number; netns: string; address: string; role: string }[];
  /** Backends of the agents. */
  backends: string[];
  /** The master's URL (inside the cluster's namespaces). */
  masterUrl: string;
  /** The credentials file (mode 0600) the master requires and agents and frameworks present. */
  credentials: string;
  /** The processes now. */
  processes: ClusterProcess[];
  /** True once the master and every agent are up. */
  ready: boolean;
}

/** Where clusters keep their folders. */
export function clustersDir(): string {
  return join(stateDir(), 'clusters');
}

/** A cluster's folder. */
export function clusterDir(session: string): string {
  return join(clustersDir(), `${NAME_PREFIX}${session}`);
}

/** Reads a cluster's record, if it has one. */
export function readClusterRecord(session: string): ClusterRecord | undefined {
  try {
    return JSON.parse(readFileSync(join(clusterDir(session), 'cluster.json'), 'utf8')) as ClusterRecord;
  } catch {
    return undefined;
  }
}

function writeRecord(r: ClusterRecord): void {
  const f = join(r.dir, 'cluster.json');
  writeFileSync(`${f}.tmp`, JSON.stringify(r, null, 2) + '\n', { mode: 0o600 });
  renameSync(`${f}.tmp`, f);
}

/** Sessions that have a cluster folder. */
export function recordedClusters(): string[] {
  const d = clustersDir();
  if (!existsSync(d)) return [];
  return readdirSync(d).map((n) => new RegExp(`^${NAME_PREFIX}([0-9a-z]{4,32})$`).exec(n)?.[1]).filter((s): s is string => s !== undefined);
}

/** The session of a cluster's master (`m`) or agent i (`a<i>`): the cluster's, cut to leave room for the suffix. */
export function childSession(session: string, suffix: string): string {
  return `${session.slice(0, 28)}${suffix}`;
}

/** Everything of one cluster found on the host (for `down`, `status` and the reaper). */
export interface ClusterLeftovers {
  /** The session. */
  session: string;
  /** Its namespaces. */
  netns: string[];
  /** Its links (bridge, host ends of veths). */
  links: string[];
  /** Processes inside its namespaces. */
  pids: number[];
  /** Its folder, when it exists. */
  dir?: string;
  /** Sessions of its agents (their executors' leftovers are the process backend's to find). */
  agentSessions: string[];
}

/** Every cluster's parts on this host, by session. */
export function findClusters(): ClusterLeftovers[] {
  const by = new Map<string, ClusterLeftovers>();
  const of = (s: string): ClusterLeftovers => {
    let c = by.get(s);
    if (!c) by.set(s, (c = { session: s, netns: [], links: [], pids: [], agentSessions: [] }));
    return c;
  };
  for (const n of listClusterNetns()) {
    const c = of(n.session);
    c.netns.push(n.name);
    c.pids.push(...netnsPids(n.name));
  }
  for (const l of listClusterLinks()) of(l.session).links.push(l.name);
  for (const s of recordedClusters()) {
    const c = of(s);
    c.dir = clusterDir(s);
    c.agentSessions = (readClusterRecord(s)?.hosts ?? []).filter((h) => h.index > 0).map((h) => childSession(s, `a${h.index}`));
  }
  return [...by.values()].sort((a, b) => a.session.localeCompare(b.session));
}

/** One line describing a cluster's parts. */
export function describeLeftovers(c: ClusterLeftovers): string {
  const parts = [`${c.netns.length} namespace(s)`, `${c.links.length} link(s)`, `${c.pids.length} process(es)`];
  if (c.dir) parts.push('its folder');
  return parts.join(', ');
}

async function waitGone(pids: number[], ms: number): Promise<number[]> {
  const until = Date.now() + ms;
  let left = pids;
  for (;;) {
    left = left.filter((p) => procStartTime(p) !== undefined);
    if (left.length === 0 || Date.now() >= until) return left;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Removes one cluster's parts: kills every process inside its namespaces (SIGTERM, then SIGKILL
 * after `graceMs`), deletes its namespaces (their veth pairs go with them), its remaining links and
 * bridge, its agents' leftover executors and cgroups (by their sessions), and its folder.
 */
export async function removeCluster(c: ClusterLeftovers, graceMs = 5000): Promise<void> {
  const pids = c.netns.flatMap((n) => netnsPids(n));
  for (const p of pids) {
    try {
      process.kill(p, 'SIGTERM');
    } catch {
      /* gone */
    }
  }
  for (const p of await waitGone(pids, graceMs)) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  await waitGone(pids, 2000);
  if (c.agentSessions.length > 0) {
    const { getBackend } = await import('../backends/registry.js');
    const b = await getBackend('process');
    for (const r of await b.listOwned()) {
      if (r.session && c.agentSessions.includes(r.session)) await b.removeOwned(r).catch(() => {});
    }
  }
  // The records of its master's and agents' sessions, once no process holds them (an agent killed mid-task leaves its executors' records).
  for (const s of [...c.agentSessions, childSession(c.session, 'm')]) {
    if (inspectSession(s).state !== 'live') rmSync(sessionDir(s), { recursive: true, force: true });
  }
  for (const n of c.netns) deleteNetns(n);
  for (const l of listClusterLinks()) if (l.session === c.session) deleteLink(l.name);
  if (c.dir) rmSync(c.dir, { recursive: true, force: true });
}

/** How to start a cluster. */
export interface ClusterUpOptions {
  /** The cluster's session (its parts carry it). */
  session: string;
  /** Agents (one namespace each). */
  agents: number;
  /** Backends of every agent. */
  backends: string[];
  /** Resources of each agent, Mesos syntax; the host's when omitted. */
  agentResources?: string;
  /** Seconds between heartbeats and pings (a cut link is noticed after 3 of them). Default 1. */
  heartbeatSeconds?: number;
  /** Lines about what happens. */
  log: (line: string) => void;
  /** Extra environment for the master and agents (e.g. test switches). */
  env?: NodeJS.ProcessEnv;
}

interface Child {
  role: string;
  host: number;
  session: string;
  args: string[];
  proc?: ChildProcess;
  restarts: number;
  log: string;
}

/**
 * `isolab cluster up`: builds the network (a bridge, one namespace per host, veth pairs, addresses
 * in 198.18.0.0/24), starts the master in the first namespace and one agent in each other, and
 * supervises them: a master or agent that dies is started again after 1 s (so a killed agent comes
 * back and recovers from its work dir). stop() ends them (SIGTERM: agents stop their tasks and
 * unregister) and removes every part.
 */
export class ClusterSupervisor {
  /** The cluster's names. */
  readonly names: ClusterNames;
  /** Its folder. */
  readonly dir: string;
  private readonly children: Child[] = [];
  private stopping = false;
  private record!: ClusterRecord;

  constructor(private readonly o: ClusterUpOptions) {
    this.names = clusterNames(o.session);
    this.dir = clusterDir(o.session);
  }

  /** The master's URL inside the cluster. */
  get masterUrl(): string {
    return `http://${this.names.address(0)}:${CLUSTER_MASTER_PORT}`;
  }

  /** Builds the network, starts the master and agents; resolves once each is up (or throws, leaving the parts for stop()). */
  async start(signal?: AbortSignal): Promise<ClusterRecord> {
    const n = this.names;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const credentials = join(this.dir, 'credentials.json');
    writeFileSync(credentials, JSON.stringify({ credentials: [{ principal: CLUSTER_PRINCIPAL, secret: randomBytes(24).toString('base64url') }] }) + '\n', { mode: 0o600 });
    const hosts = this.o.agents + 1;
    this.record = {
      session: this.o.session, dir: this.dir, supervisorPid: process.pid, backends: this.o.backends, masterUrl: this.masterUrl, credentials,
      hosts: Array.from({ length: hosts }, (_, i) => ({ index: i, netns: n.netns(i), address: n.address(i), role: i === 0 ? 'master' : `agent-${i}` })),
      processes: [], ready: false,
    };
    writeRecord(this.record);
    buildNetwork(n, hosts);
    signal?.throwIfAborted();
    const hb = String(this.o.heartbeatSeconds ?? 1);
    const sub = (suffix: string): string => childSession(this.o.session, suffix);
    this.children.push({
      role: 'master', host: 0, session: sub('m'), restarts: 0, log: join(this.dir, 'master.log'),
      args: ['master', '--host', n.address(0), '--port', String(CLUSTER_MASTER_PORT), '--agents', '0', '--credentials', credentials,
        '--heartbeat-interval', hb, '--agent-ping-interval', hb, '--max-agent-ping-timeouts', '3'],
    });
    for (let i = 1; i < hosts; i++) {
      this.children.push({
        role: `agent-${i}`, host: i, session: sub(`a${i}`), restarts: 0, log: join(this.dir, `agent-${i}.log`),
        args: ['agent', '--master', this.masterUrl, '--credentials', credentials, '--backends', this.o.backends.join(','),
          '--work-dir', join(this.dir, `agent-${i}`), '--hostname', `host${i}`,
          ...(this.o.agentResources ? ['--resources', this.o.agentResources] : [])],
      });
    }
    this.spawn(this.children[0]!);
    await this.waitForLine(this.children[0]!, /^isolab master on /, 20_000, signal);
    for (const c of this.children.slice(1)) this.spawn(c);
    for (const c of this.children.slice(1)) await this.waitForLine(c, /subscribed to /, 20_000, signal);
    this.record.ready = true;
    writeRecord(this.record);
    return this.record;
  }

  /** Stops the master and agents (SIGTERM, SIGKILL after 15 s) and removes every part of the cluster. */
  async stop(): Promise<void> {
    this.stopping = true;
    const agents = this.children.filter((c) => c.role !== 'master');
    const master = this.children.find((c) => c.role === 'master');
    await this.end(agents, 15_000);
    if (master) await this.end([master], 5000);
    const c = findClusters().find((x) => x.session === this.o.session) ?? { session: this.o.session, netns: [], links: [], pids: [], agentSessions: [] };
    c.agentSessions = this.children.filter((x) => x.role !== 'master').map((x) => x.session);
    c.dir = this.dir;
    await removeCluster(c, 2000);
  }

  private async end(children: Child[], ms: number): Promise<void> {
    const pids = children.map((c) => c.proc?.pid).filter((p): p is number => p !== undefined && procStartTime(p) !== undefined);
    for (const p of pids) {
      try {
        process.kill(p, 'SIGTERM');
      } catch {
        /* gone */
      }
    }
    for (const p of await waitGone(pids, ms)) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }

  private spawn(c: Child): void {
    const fd = openSync(c.log, 'a', 0o600);
    const proc = spawn('nsenter', [`--net=${join(NETNS_DIR, this.names.netns(c.host))}`, '--', process.execPath, join(repoRoot(), 'bin', 'isolab'), ...c.args], {
      stdio: ['ignore', fd, fd],
      env: { ...process.env, ...this.o.env, ISOLAB_SESSION: c.session },
    });
    closeSync(fd);
    c.proc = proc;
    proc.on('error', () => {});
    proc.on('exit', (code, sig) => {
      this.record.processes = this.record.processes.filter((p) => p.pid !== proc.pid);
      if (!this.stopping) writeRecord(this.record);
      if (this.stopping || c.proc !== proc) return;
      c.restarts++;
      this.o.log(`isolab: cluster: ${c.role} exited (${sig ?? `code ${code}`}); starting it again in 1 s`);
      setTimeout(() => {
        if (!this.stopping) this.spawn(c);
      }, 1000).unref();
    });
    // nsenter execs node in place: the child's pid is the node process.
    const record = (): void => {
      const st = proc.pid ? procStartTime(proc.pid) : undefined;
      if (proc.pid === undefined || st === undefined) return;
      this.record.processes.push({ role: c.role, host: c.host, pid: proc.pid, startTime: st, session: c.session });
      writeRecord(this.record);
    };
    proc.once('spawn', record);
  }

  private async waitForLine(c: Child, re: RegExp, ms: number, signal?: AbortSignal): Promise<void> {
    const until = Date.now() + ms;
    const start = c.proc;
    for (;;) {
      signal?.throwIfAborted();
      let text = '';
      try {
        text = readFileSync(c.log, 'utf8');
      } catch {
        /* not yet */
      }
      if (text.split('\n').some((l) => re.test(l))) return;
      if (c.proc === start && start?.exitCode !== null && start?.exitCode !== undefined) {
        throw new Error(`${c.role} exited with ${start.exitCode} while starting: ${text.trim().split('\n').pop()?.slice(0, 200) ?? ''} (log ${c.log})`);
      }
      if (Date.now() > until) throw new Error(`${c.role} did not come up in ${ms / 1000} s (log ${c.log})`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
