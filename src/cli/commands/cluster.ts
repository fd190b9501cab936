import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { flag, int, parseFlags, str, type Command } from '../command.js';
import { RuntimeError, UsageError } from '../errors.js';

const HELP = `Usage: isolab cluster up [--agents N] [--backends LIST] [--resources R]
       isolab cluster down [--session ID]
       isolab cluster status [--session ID] [--json]
       isolab cluster exec [--session ID] [--host I] -- COMMAND [ARGS...]

A cluster of test hosts on this machine: a bridge, one network namespace per host joined to it by a
veth pair, each with its own address in 198.18.0.0/24 (RFC 2544's benchmark range, never routed);
the master in the first namespace (198.18.0.2:5050, credentials required), an agent ("isolab
agent") in each other one. Traffic stays inside these namespaces: the bridge has no address.
Needs root, iproute2 and nsenter.

  up      builds it, starts the master and agents, prints how to reach it, and supervises it in
          the foreground: a master or agent that dies is started again after 1 s (a killed agent
          recovers from its work dir). Ctrl-C or SIGTERM (or "cluster down") removes everything:
          processes, namespaces, veths, bridge and the cluster's folder.
  down    stops the cluster(s) of this state folder (their "up" process) and removes what is left.
  status  the cluster(s): hosts, processes, and the master's agents and tasks (from its /state).
  exec    runs COMMAND in a host's namespace (default 0, the master's), with ISOLAB_CLUSTER_MASTER
          and ISOLAB_CLUSTER_CREDENTIALS set; e.g. a framework:
            isolab cluster exec -- bin/isolab wordcount --master http://198.18.0.2:5050 \\
              --credentials "$ISOLAB_CLUSTER_CREDENTIALS" --serve-input 198.18.0.2 --input FILE -p 6
          (the shell expands $ISOLAB_CLUSTER_CREDENTIALS before exec sets it: use the path
          "status" prints, or sh -c '...').

Options:
  --agents N        agents, one per namespace (default: 3, at most 64)
  --backends LIST   backends of every agent (default: process); each must be usable here
  --resources R     resources of each agent, e.g. 'cpus:2;mem:4096' (default: the host's)
  --session ID      the cluster to act on (default: every cluster of this state folder; for exec
                    and status the only one)
  --host I          exec: the host's index (0 master, 1..N agents)
  --json            status: one JSON document
  -h, --help        show this help

Exit status: 0 done (up: stopped by a signal, after cleaning up), 1 a failure (the cluster is
removed), 2 bad usage (not root, a missing tool, an unusable backend).`;

function need(tool: string, args: string[]): void {
  const r = spawnSync(tool, args, { stdio: 'ignore' });
  if (r.error) throw new UsageError(`${tool} is not installed (apt-get install ${tool === 'ip' ? 'iproute2' : 'util-linux'}, or scripts/setup.sh packages)`);
}

async function up(argv: string[]): Promise<number> {
  const p = parseFlags(argv, { agents: { type: 'string' }, backends: { type: 'string' }, resources: { type: 'string' } });
  const agents = int(p, 'agents', 3, 1);
  if (agents > 64) throw new UsageError(`--agents must be at most 64, got ${agents}`);
  const names = [...new Set(str(p, 'backends', 'process')!.split(',').map((b) => b.trim()))];
  if (names.some((b) => b === '')) throw new UsageError('--backends: empty backend name (expected e.g. process,docker)');
  const resources = str(p, 'resources');
  if (resources !== undefined) {
    const { parseResources } = await import('../../master/resources.js');
    try {
      parseResources(resources);
    } catch (err) {
      throw new UsageError(`--resources: ${(err as Error).message}`);
    }
  }
  if (process.getuid?.() !== 0) throw new UsageError('cluster up needs root (it creates network namespaces, veth pairs and a bridge)');
  need('ip', ['-V']);
  need('nsenter', ['--version']);
  const { usableBackend } = await import('../input.js');
  for (const b of names) await usableBackend(b);
  const [{ ClusterSupervisor }, { session }] = await Promise.all([import('../../cluster/cluster.js'), import('../../session/session.js')]);
  const sess = session();
  const sup = new ClusterSupervisor({ session: sess.id, agents, backends: names, agentResources: resources, log: (l) => void process.stderr.write(l + '\n') });
  const abort = new AbortController();
  let stopped = sess.defer(`cluster ${sess.id}`, () => sup.stop());
  const sigs: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  let signalled: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (signalled) return;
    signalled = sig;
    process.stderr.write(`isolab: cluster: ${sig} received, removing the cluster\n`);
    abort.abort(new Error(`interrupted by ${sig}`));
  };
  for (const s of sigs) process.on(s, onSignal);
  try {
    process.stderr.write(`isolab: cluster ${sess.id}: building ${agents + 1} hosts (bridge ${sup.names.bridge}, namespaces ${sup.names.netns(0)}..h${agents})\n`);
    let rec;
    try {
      rec = await sup.start(abort.signal);
    } catch (err) {
      if (abort.signal.aborted) return 128 + (signalled === 'SIGINT' ? 2 : signalled === 'SIGTERM' ? 15 : 1);
      throw new RuntimeError(`cluster up failed: ${(err as Error).message}`);
    }
    const lines = [
      `isolab cluster ${rec.session} ready: master ${rec.masterUrl} in namespace ${rec.hosts[0]!.netns}; ${agents} agent(s) (${names.join(', ')}) at ${rec.hosts.slice(1).map((h) => h.address).join(', ')}`,
      `  credentials: ${rec.credentials}`,
      `  run a framework: bin/isolab cluster exec -- bin/isolab wordcount --master ${rec.masterUrl} --credentials ${rec.credentials} --serve-input ${rec.hosts[0]!.address} --input FILE -p ${2 * agents}`,
      `  status: bin/isolab cluster status; stop: Ctrl-C or bin/isolab cluster down`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
    await new Promise<void>((resolve) => abort.signal.addEventListener('abort', () => resolve(), { once: true }));
    return 128 + (signalled === 'SIGINT' ? 2 : signalled === 'SIGTERM' ? 15 : 1);
  } finally {
    stopped();
    stopped = () => true;
    await sup.stop().catch((err: Error) => process.stderr.write(`isolab: cleanup: cluster: ${err.message}\n`));
    for (const s of sigs) process.off(s, onSignal);
    const errors = await sess.close();
    for (const e of errors) process.stderr.write(`isolab: cleanup: ${e}\n`);
  }
}

/** Sessions to act on: --session, or every cluster found. */
async function targets(p: ReturnType<typeof parseFlags>, one: boolean): Promise<string[]> {
  const { findClusters } = await import('../../cluster/cluster.js');
  const s = str(p, 'session');
  const all = findClusters().map((c) => c.session);
  if (s !== undefined) {
    if (!all.includes(s)) throw new UsageError(`no cluster of session ${s.slice(0, 40)} here${all.length ? ` (clusters: ${all.join(', ')})` : ''}`);
    return [s];
  }
  if (one && all.length > 1) throw new UsageError(`${all.length} clusters here (${all.join(', ')}): name one with --session ID`);
  return all;
}

async function down(argv: string[]): Promise<number> {
  const p = parseFlags(argv, { session: { type: 'string' } });
  const { findClusters, readClusterRecord, removeCluster, describeLeftovers } = await import('../../cluster/cluster.js');
  const { procStartTime } = await import('../../session/proc.js');
  const wanted = await targets(p, false);
  if (wanted.length === 0) {
    process.stdout.write('no cluster here\n');
    return 0;
  }
  for (const s of wanted) {
    const rec = readClusterRecord(s);
    const sup = rec?.supervisorPid;
    if (sup && procStartTime(sup) !== undefined && /cluster\0up/.test(readCmdline(sup))) {
      process.kill(sup, 'SIGTERM');
      const until = Date.now() + 40_000;
      while (procStartTime(sup) !== undefined && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    }
    const left = findClusters().find((c) => c.session === s);
    if (left) {
      process.stdout.write(`cluster ${s}: removing ${describeLeftovers(left)}\n`);
      await removeCluster(left);
    }
    process.stdout.write(`cluster ${s}: down\n`);
  }
  return 0;
}

function readCmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1');
  } catch {
    return '';
  }
}

/** Runs a small node program in the master's namespace that GETs `path` with the cluster's credential. */
function masterGet(netns: string, url: string, credentials: string): unknown {
  const script = `const fs=require('fs');const c=JSON.parse(fs.readFileSync(process.argv[2],'utf8')).credentials[0];
fetch(process.argv[1],{headers:{Authorization:'Basic '+Buffer.from(c.principal+':'+c.secret).toString('base64')},signal:AbortSignal.timeout(5000)})
.then(r=>r.text()).then(t=>process.stdout.write(t),e=>{process.stdout.write(JSON.stringify({error:String(e.cause?.code??e.message)}))});`;
  const r = spawnSync('nsenter', [`--net=/run/netns/${netns}`, '--', process.execPath, '-e', script, url, credentials], { encoding: 'utf8', timeout: 10_000 });
  try {
    return JSON.parse(r.stdout);
  } catch {
    return { error: (r.stderr || 'no answer').trim().split('\n')[0] };
  }
}

async function status(argv: string[]): Promise<number> {
  const p = parseFlags(argv, { session: { type: 'string' }, json: { type: 'boolean' } });
  const { findClusters, readClusterRecord, describeLeftovers } = await import('../../cluster/cluster.js');
  const { procStartTime } = await import('../../session/proc.js');
  const wanted = new Set(await targets(p, false));
  const out = [];
  for (const c of findClusters().filter((x) => wanted.has(x.session))) {
    const rec = readClusterRecord(c.session);
    const running = rec ? procStartTime(rec.supervisorPid) !== undefined : false;
    const procs = (rec?.processes ?? []).map((x) => ({ ...x, alive: procStartTime(x.pid) === x.startTime }));
    const state = rec && running && c.netns.includes(rec.hosts[0]!.netns) ? (masterGet(rec.hosts[0]!.netns, `${rec.masterUrl}/state`, rec.credentials) as Record<string, unknown>) : undefined;
    out.push({ session: c.session, running, ready: rec?.ready ?? false, record: rec, processes: procs, parts: c, state });
  }
  if (flag(p, 'json')) {
    process.stdout.write(JSON.stringify({ clusters: out }) + '\n');
    return 0;
  }
  if (out.length === 0) process.stdout.write('no cluster here\n');
  for (const c of out) {
    const lines = [`cluster ${c.session}: ${c.running ? (c.ready ? 'up' : 'starting') : 'not running (leftovers: run isolab cluster down)'}; ${describeLeftovers(c.parts)}`];
    if (c.record) {
      lines.push(`  master ${c.record.masterUrl} (namespace ${c.record.hosts[0]!.netns}); credentials ${c.record.credentials}`);
      for (const x of c.processes) lines.push(`  ${x.role.padEnd(9)} pid ${x.pid} ${x.alive ? 'running' : 'gone'} (session ${x.session})`);
    }
    const st = c.state as { agents?: { id: string; hostname: string; tasks: number }[]; error?: string; unreachable_agents?: unknown[] } | undefined;
    if (st?.agents) {
      lines.push(`  agents registered: ${st.agents.length}; unreachable: ${st.unreachable_agents?.length ?? 0}`);
      for (const a of st.agents) lines.push(`    ${a.id} (${a.hostname}): ${a.tasks} task(s)`);
    } else if (st?.error) lines.push(`  master /state: ${st.error}`);
    process.stdout.write(lines.join('\n') + '\n');
  }
  return 0;
}

async function exec(argv: string[]): Promise<number> {
  const dash = argv.indexOf('--');
  if (dash < 0 || dash === argv.length - 1) throw new UsageError('exec: give the command after "--", e.g. isolab cluster exec -- bin/isolab wordcount ...');
  const p = parseFlags(argv.slice(0, dash), { session: { type: 'string' }, host: { type: 'string' } });
  const [s] = await targets(p, true);
  if (!s) throw new UsageError('no cluster here (isolab cluster up)');
  const { readClusterRecord } = await import('../../cluster/cluster.js');
  const rec = readClusterRecord(s);
  if (!rec) throw new RuntimeError(`cluster ${s} has no record (is it still starting?)`);
  const host = int(p, 'host', 0, 0);
  const h = rec.hosts[host];
  if (!h) throw new UsageError(`--host ${host}: the cluster has hosts 0..${rec.hosts.length - 1}`);
  const child = spawn('nsenter', [`--net=${join('/run/netns', h.netns)}`, '--', ...argv.slice(dash + 1)], {
    stdio: 'inherit', env: { ...process.env, ISOLAB_CLUSTER_MASTER: rec.masterUrl, ISOLAB_CLUSTER_CREDENTIALS: rec.credentials },
  });
  const fwd = (sig: NodeJS.Signals): void => void child.kill(sig);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, fwd);
  return new Promise((resolve) => {
    child.on('error', (err) => resolve(err ? 127 : 1));
    child.on('exit', (code, sig) => resolve(code ?? 128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 9)));
  });
}

export const clusterCommand: Command = {
  name: 'cluster',
  summary: 'a cluster of test hosts on this machine (network namespaces on a bridge): up, down, status, exec',
  help: HELP,
  async run(argv) {
    const [sub, ...rest] = argv;
    switch (sub) {
      case 'up':
        return up(rest);
      case 'down':
        return down(rest);
      case 'status':
        return status(rest);
      case 'exec':
        return exec(rest);
      default:
        throw new UsageError(`cluster: expected up, down, status or exec${sub ? `, got "${sub.slice(0, 20)}"` : ''}`);
    }
  },
};
