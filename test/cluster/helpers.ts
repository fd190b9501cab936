import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isolab, startIsolab, type RunningCli } from '../cli/helpers.js';

/** `make test` sets this after setup installed every tool: a test that would skip for a missing one fails instead. */
const REQUIRE_ALL = process.env.ISOLAB_TEST_REQUIRE_ALL === '1';

const hasTool = (cmd: string, args: string[]): boolean => !spawnSync(cmd, args, { stdio: 'ignore' }).error;

/** Why the cluster tests are skipped (not root, no iproute2 or nsenter, outside `make test`), or undefined. */
export const skipReason: string | undefined = REQUIRE_ALL
  ? undefined
  : process.getuid?.() !== 0
    ? 'not root (network namespaces need it)'
    : !hasTool('ip', ['-V'])
      ? 'iproute2 not installed'
      : !hasTool('nsenter', ['--version'])
        ? 'nsenter not installed'
        : undefined;

if (skipReason) process.stderr.write(`cluster tests SKIPPED: ${skipReason}\n`);

/** The /state parts the tests read. */
export interface MasterState {
  /** Registered agents. */
  agents: { id: string; hostname: string; tasks: number; reregistered_time?: number }[];
  /** Unreachable agents. */
  unreachable_agents: { id: string; hostname: string }[];
  /** Tasks (live and completed). */
  tasks: { id: string; framework_id: string; agent_id: string; state: string; message?: string }[];
}

/** One cluster of `cluster status --json`. */
export interface ClusterStatus {
  /** Session. */
  session: string;
  /** Up process alive. */
  running: boolean;
  /** Its record. */
  record?: { credentials: string; masterUrl: string; hosts: { netns: string; address: string }[]; processes: { role: string; pid: number; session: string }[] };
  /** The master's /state. */
  state?: MasterState;
}

/** `isolab cluster status --json --session S` with the given environment. */
export async function clusterStatus(env: NodeJS.ProcessEnv, session: string): Promise<ClusterStatus> {
  const r = await isolab(['cluster', 'status', '--json', '--session', session], env, 30_000);
  if (r.code !== 0) throw new Error(`cluster status: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { clusters: ClusterStatus[] }).clusters[0]!;
}

/** Starts `isolab cluster up` and waits for its "ready" line; returns the process and the session. */
export async function clusterUp(args: string[], env: NodeJS.ProcessEnv, ms = 60_000): Promise<{ up: RunningCli; session: string }> {
  const up = startIsolab(['cluster', 'up', ...args], env, 600_000);
  const until = Date.now() + ms;
  for (;;) {
    const m = /^isolab cluster ([0-9a-z]+) ready/m.exec(up.stdout());
    if (m) return { up, session: m[1]! };
    if (up.child.exitCode !== null) throw new Error(`cluster up exited ${up.child.exitCode}: ${up.stderr()}`);
    if (Date.now() > until) throw new Error(`cluster up not ready in ${ms} ms: ${up.stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Pids whose environment carries ISOLAB_OWNER_SESSION=<session> (an agent's executors). */
export function executorsOf(session: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readFileSync(`/proc/${e}/environ`, 'latin1').split('\0').includes(`ISOLAB_OWNER_SESSION=${session}`)) out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** Pids whose environment carries ISOLAB_SESSION=<one of sessions> (the cluster's master and agents). */
export function processesOf(sessions: string[]): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const env = readFileSync(`/proc/${e}/environ`, 'latin1').split('\0');
      if (sessions.some((s) => env.includes(`ISOLAB_SESSION=${s}`) || env.includes(`ISOLAB_OWNER_SESSION=${s}`))) out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** What is left of a cluster on the host: namespaces, links (by alias), processes of its sessions. */
export function leftovers(session: string, stateDir: string): { netns: string[]; links: string[]; pids: number[]; dir: boolean } {
  const netns = existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => n.startsWith(`isolab-${session}-`)) : [];
  const links = (JSON.parse(spawnSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' }).stdout || '[]') as { ifname: string; ifalias?: string }[])
    .filter((l) => (l.ifalias ?? '').startsWith(`isolab:${session}:`)).map((l) => l.ifname);
  const sessions = [session, `${session.slice(0, 28)}m`, ...Array.from({ length: 8 }, (_, i) => `${session.slice(0, 28)}a${i + 1}`)];
  return { netns, links, pids: processesOf(sessions), dir: existsSync(`${stateDir}/clusters/isolab-${session}`) };
}
