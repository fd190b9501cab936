import { hostname } from 'node:os';
import { LocalAgent } from '../../agent/agent.js';
import { detectHostResources } from '../../agent/host-resources.js';
import { ENDPOINTS, startApiServer } from '../../http/server.js';
import { Master } from '../../master/master.js';
import { formatResources, parseResources, type Resources } from '../../master/resources.js';
import { session } from '../../session/session.js';
import { int, parseFlags, str, type Command } from '../command.js';
import { RuntimeError, UsageError } from '../errors.js';
import { usableBackend } from '../input.js';

const HELP = `Usage: isolab master [--port P] [--host H] [--resources R] [--backend NAME] [--agents N]

Runs a standalone Mesos-style master with its HTTP API until Ctrl-C (or SIGTERM), with one
local agent that offers this host's resources on one backend. No framework registers from
outside (there is no scheduler API): use it to look at the API; "isolab wordcount --http PORT"
serves the same API from a master that runs a job.

Endpoints (GET): /state, /metrics/snapshot, /tasks?state=&framework_id=&limit=&offset=, /health.

Options:
  --port P          TCP port (default: 5050; 0 picks a free one)
  --host H          address to bind (default: 127.0.0.1; the API has no authentication)
  --resources R     resources of the local agent, e.g. 'cpus:2;mem:4096' (default: host)
  --backend NAME    backend of the local agent (default: process)
  --agents N        local agents to register, 0 for none (default: 1)
  -h, --help        show this help

Exit status: 0 stopped by a signal, 1 the port cannot be bound, 2 bad usage.`;

export const masterCommand: Command = {
  name: 'master',
  summary: 'run a standalone master with its HTTP API (/state, /metrics/snapshot)',
  help: HELP,
  async run(argv) {
    const p = parseFlags(argv, { port: { type: 'string' }, host: { type: 'string' }, resources: { type: 'string' }, backend: { type: 'string' }, agents: { type: 'string' } });
    const port = int(p, 'port', 5050, 0);
    if (port > 65535) throw new UsageError(`--port must be at most 65535, got ${port}`);
    const host = str(p, 'host', '127.0.0.1')!;
    const agents = int(p, 'agents', 1, 0);
    if (agents > 64) throw new UsageError(`--agents must be at most 64, got ${agents}`);
    let resources: Resources | undefined;
    const r = str(p, 'resources');
    if (r !== undefined) {
      try {
        resources = parseResources(r);
      } catch (err) {
        throw new UsageError(`--resources: ${(err as Error).message}`);
      }
    }
    const backend = agents > 0 ? await usableBackend(str(p, 'backend', 'process')!) : undefined;
    const sess = session();
    const abort = new AbortController();
    const master = new Master();
    master.start();
    const local: LocalAgent[] = [];
    try {
      if (backend) {
        resources ??= await detectHostResources();
        for (let i = 0; i < agents; i++) {
          const agent = new LocalAgent(master, new Map([[backend.name, backend]]), abort.signal);
          agent.register({ hostname: agents > 1 ? `${hostname()}-${i + 1}` : hostname(), resources });
          local.push(agent);
        }
      }
      const api = await startApiServer(master, { host, port }).catch((err: NodeJS.ErrnoException) => {
        throw new RuntimeError(`cannot listen on ${host}:${port}: ${err.code ?? err.message}`);
      });
      const what = backend ? `${agents} local agent${agents > 1 ? 's' : ''} (${formatResources(resources!)}, ${backend.name})` : 'no agents';
      process.stdout.write(`isolab master on ${api.url} with ${what}; endpoints: ${ENDPOINTS.join(', ')}; Ctrl-C to stop\n`);
      const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
      let stopping = false;
      const onSignal = (sig: NodeJS.Signals): void => {
        if (stopping) process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
        stopping = true;
        abort.abort(new Error(`stopped by ${sig}`));
      };
      for (const s of signals) process.on(s, onSignal);
      try {
        await new Promise<void>((resolve) => abort.signal.addEventListener('abort', () => resolve(), { once: true }));
        process.stderr.write('isolab: stopping master\n');
      } finally {
        for (const s of signals) process.off(s, onSignal);
        await api.close();
      }
      return 0;
    } finally {
      for (const a of local) a.shutdown('master stopped');
      master.stop();
      const errors = await sess.close();
      for (const e of errors) process.stderr.write(`isolab: cleanup: ${e}\n`);
    }
  },
};
