import { hostname as osHostname, release } from 'node:os';
import { resolve } from 'node:path';
import type { Credential } from '../../http/auth.js';
import type { Resources } from '../../master/resources.js';
import { parseFlags, str, type Command } from '../command.js';
import { RuntimeError, UsageError } from '../errors.js';

const HELP = `Usage: isolab agent --master URL [--resources R] [--backends LIST] [--credentials FILE]
                   [--work-dir DIR] [--hostname NAME] [--attributes K=V,...]

Runs an agent in its own process, for a master on this or another host ("isolab master", or
"isolab cluster up"). It registers over HTTP (POST /api/v1/agent) with its resources, its backends
and their descriptors, its attributes and host name, and keeps that request open as a RecordIO
stream on which the master sends launch, kill, reconcile, ping, heartbeat and shutdown events.
Tasks run on its local backends; an executor task whose input is an http:// URL has its byte
range fetched into the task's sandbox first. Status updates go through the agent's status update
manager: per task in order, each retried until the master acknowledges it, kept in the work dir.
After a restart with the same work dir it registers again under the same id, re-attaches to the
process-backend executors that still run (their output goes to files in each task's sandbox),
sends the updates not yet acknowledged, and reports the other tasks that were running as failed
(their executors, containers and domains are found by its session and removed). SIGTERM or
Ctrl-C: every task is stopped and reported failed, the agent unregisters, and it removes what it
made.

Options:
  --master URL       the master, e.g. http://198.18.0.2:5050 (required)
  --resources R      resources offered, e.g. 'cpus:2;mem:4096' (default: this host's)
  --backends LIST    backends, comma-separated (default: process); each must be usable here
  --credentials FILE principal and secret for HTTP Basic, Mesos' JSON format (the first entry);
                     required when the master is beyond loopback (it answers 401 otherwise)
  --work-dir DIR     identity, unacknowledged status updates and sandboxes (default:
                     <state>/agents/<host name>); one agent per work dir
  --hostname NAME    host name to register (default: this host's)
  --attributes LIST  extra attributes, e.g. rack=r1,zone=a
  -h, --help         show this help

Exit status: 0 stopped by a signal or removed by the master, 1 refused by the master (401 wrong
secret, 403 marked gone), 2 bad usage.`;

function resourcesOf(v: string | undefined, parse: (s: string) => Resources): Resources | undefined {
  if (v === undefined) return undefined;
  try {
    return parse(v);
  } catch (err) {
    throw new UsageError(`--resources: ${(err as Error).message}`);
  }
}

export const agentCommand: Command = {
  name: 'agent',
  summary: 'run an agent in its own process for a master over HTTP (this host or another)',
  help: HELP,
  async run(argv) {
    const p = parseFlags(argv, {
      master: { type: 'string' }, resources: { type: 'string' }, backends: { type: 'string' }, credentials: { type: 'string' },
      'work-dir': { type: 'string' }, hostname: { type: 'string' }, attributes: { type: 'string' },
    });
    const masterUrl = str(p, 'master');
    if (!masterUrl) throw new UsageError('--master URL is required (e.g. http://127.0.0.1:5050)');
    try {
      const u = new URL(masterUrl);
      if (u.protocol !== 'http:') throw new Error('only http:// is supported');
      if (u.username || u.password) throw new Error('no credentials in the URL: use --credentials FILE');
    } catch (err) {
      throw new UsageError(`--master ${masterUrl.slice(0, 80)}: ${err instanceof TypeError ? 'not a URL (expected http://HOST:PORT)' : (err as Error).message}`);
    }
    const { parseResources } = await import('../../master/resources.js');
    let resources = resourcesOf(str(p, 'resources'), parseResources);
    const names = [...new Set(str(p, 'backends', 'process')!.split(',').map((b) => b.trim()))];
    if (names.some((b) => b === '')) throw new UsageError('--backends: empty backend name (expected e.g. process,docker)');
    const attributes: Record<string, string> = { os: 'linux', kernel: release(), node: process.version };
    for (const kv of (str(p, 'attributes') ?? '').split(',').filter(Boolean)) {
      const m = /^([A-Za-z0-9_.-]{1,64})=([^,]{0,200})$/.exec(kv.trim());
      if (!m) throw new UsageError(`--attributes: expected KEY=VALUE, got "${kv.slice(0, 40)}"`);
      attributes[m[1]!] = m[2]!;
    }
    let credential: Credential | undefined;
    const credentialsFile = str(p, 'credentials');
    if (credentialsFile !== undefined) {
      const { loadCredentials, CredentialsError } = await import('../../http/auth.js');
      try {
        credential = loadCredentials(credentialsFile)[0];
      } catch (err) {
        if (err instanceof CredentialsError) throw new UsageError(`--credentials ${err.message}`);
        throw err;
      }
    }
    const host = str(p, 'hostname') ?? osHostname();
    const { stateDir } = await import('../../session/state-dir.js');
    const { workDirLayout, loadIdentity } = await import('../../agent/remote/work-dir.js');
    const { sessionIdFromEnv, SESSION_ENV } = await import('../../session/session-id.js');
    const workDir = workDirLayout(resolve(str(p, 'work-dir') ?? `${stateDir()}/agents/${host.replace(/[^A-Za-z0-9._-]/g, '_')}`));
    const { identity } = loadIdentity(workDir, host, sessionIdFromEnv());
    // The executors, cgroups and containers of every run of this agent carry the work dir's session, so a restart finds them.
    process.env[SESSION_ENV] = identity.session;
    const { usableBackend } = await import('../input.js');
    const backends = await Promise.all(names.map((b) => usableBackend(b)));
    resources ??= await (await import('../../agent/host-resources.js')).detectHostResources();
    const [{ runAgentDaemon }, { session }] = await Promise.all([import('../../agent/remote/daemon.js'), import('../../session/session.js')]);
    const sess = session();
    const abort = new AbortController();
    const sigs: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    let stopping = false;
    const onSignal = (sig: NodeJS.Signals): void => {
      if (stopping) process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
      stopping = true;
      process.stderr.write(`isolab: agent: ${sig} received, stopping its tasks\n`);
      abort.abort(new Error(`stopped by ${sig}`));
    };
    for (const s of sigs) process.on(s, onSignal);
    const log = (line: string): void => void process.stderr.write(line + '\n');
    try {
      const { formatResources } = await import('../../master/resources.js');
      log(`isolab agent ${identity.agentId} (session ${identity.session}) on ${host}: ${formatResources(resources)}, ${backends.map((b) => b.name).join(', ')}; master ${masterUrl}; work dir ${workDir.root}`);
      const end = await runAgentDaemon({
        masterUrl, credential, backends, resources, hostname: host, workDir, identity, attributes, signal: abort.signal, log,
      });
      if (end.kind === 'refused') throw new RuntimeError(end.message);
      if (end.kind === 'removed') log(`isolab: agent ${identity.agentId} removed by the master: ${end.reason}`);
      return 0;
    } finally {
      for (const s of sigs) process.off(s, onSignal);
      const errors = await sess.close();
      for (const e of errors) log(`isolab: cleanup: ${e}`);
    }
  },
};
