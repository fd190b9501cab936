import { hostname } from 'node:os';
import { join } from 'node:path';
import { urlInputPreparer } from '../../agent/remote/fetcher.js';
import { LocalAgent } from '../../agent/agent.js';
import { detectHostResources } from '../../agent/host-resources.js';
import type { ExecutorTask } from '../../executor/protocol.js';
import type { Credential } from '../../http/auth.js';
import { ENDPOINTS, isLoopbackAddress, startApiServer } from '../../http/server.js';
import { Master } from '../../master/master.js';
import { contains, formatResources, parseResources, subtract, type Resources } from '../../master/resources.js';
import { isTerminal } from '../../master/task-state.js';
import type { FrameworkDriver, Offer, Scheduler, TaskLaunch, TaskStatus } from '../../master/types.js';
import { session } from '../../session/session.js';
import { int, num, parseFlags, str, type Command } from '../command.js';
import { RuntimeError, UsageError } from '../errors.js';
import { usableBackend } from '../input.js';

const HELP = `Usage: isolab master [--port P] [--host H] [--credentials FILE] [--resources R] [--backend LIST]
                    [--agents N] [--demo-tasks N] [--heartbeat-interval SECONDS]
                    [--agent-ping-interval SECONDS] [--max-agent-ping-timeouts N]

Runs a standalone Mesos-style master with its HTTP API until Ctrl-C (or SIGTERM), with local
agents that offer this host's resources on their backends. Frameworks register over HTTP with
Mesos' v1 scheduler API (POST /api/v1/scheduler): "isolab wordcount --master URL", or any client
of that API (e.g. the npm package mesos-framework). Tasks are command tasks (TaskInfo.command,
run with /bin/sh -c on the backend chosen by container.type or the label isolab.backend) or
isolab executor tasks.

Agents in other processes ("isolab agent --master URL", on this host or others) register with
POST /api/v1/agent; an agent that misses --max-agent-ping-timeouts pings in a row is unreachable
(its tasks lost, or unreachable for partition-aware frameworks) until it registers again.

Endpoints: POST /api/v1/scheduler, /api/v1/agent; GET /state, /metrics/snapshot,
/tasks?state=&framework_id=&limit=&offset=, /agents, /frameworks, /offers (?limit=&offset=),
/health; each also under /master (/master/state, /master/api/v1/scheduler, ...).

Options:
  --port P          TCP port (default: 5050; 0 picks a free one)
  --host H          address to bind (default: 127.0.0.1); anything but loopback needs --credentials
  --credentials FILE
                    principals and secrets, Mesos' JSON format:
                    {"credentials":[{"principal":"NAME","secret":"SECRET"}]} (mode 0600 or 0640);
                    then every request but /health needs HTTP Basic with one of them (401 otherwise)
  --resources R     resources of each local agent, e.g. 'cpus:2;mem:4096' (default: host)
  --backend LIST    backends of the local agents, comma-separated, e.g. process,docker
                    (default: process); each must be usable here (isolab doctor)
  --agents N        local agents to register, 0 for none (default: 1)
  --demo-tasks N    a built-in "demo" framework keeps N idle executor tasks (cpus:0.1;mem:32
                    each) running on the agents, starting new ones as they end (default: 0)
  --heartbeat-interval SECONDS
                    HEARTBEAT events on each subscription (frameworks and agents) this often
                    (default: 5); an agent subscribes again after 3 silent intervals
  --agent-ping-interval SECONDS
                    agents are pinged this often (default: 15, Mesos' agent_ping_timeout)
  --max-agent-ping-timeouts N
                    missed pings in a row that make an agent unreachable (default: 5)
  -h, --help        show this help

Exit status: 0 stopped by a signal, 1 the port cannot be bound, 2 bad usage (a bad flag, an
unusable backend, a non-loopback --host without --credentials, an unusable credentials file).`;

/** Resources of one demo task. */
const DEMO_TASK: Resources = { cpus: 0.1, mem: 32 };

/** A framework that keeps `want` idle executor tasks running, for watching the API at work. */
class DemoFramework implements Scheduler {
  private running = 0;
  private seq = 0;

  constructor(
    private readonly want: number,
    private readonly backend: string,
  ) {}

  resourceOffers(driver: FrameworkDriver, offers: Offer[]): void {
    for (const offer of offers) {
      const launches: TaskLaunch[] = [];
      let left = offer.resources;
      while (this.running < this.want && offer.backends.includes(this.backend) && contains(left, DEMO_TASK)) {
        const taskId = `demo-${++this.seq}`;
        const payload: ExecutorTask = { taskId, mode: 'idle' };
        launches.push({ taskId, name: 'demo idle task', resources: DEMO_TASK, backend: this.backend, payload });
        left = subtract(left, DEMO_TASK);
        this.running++;
      }
      if (launches.length > 0) driver.accept(offer.id, launches, { refuseSeconds: 5 });
      else driver.decline(offer.id, { refuseSeconds: 30 });
    }
    if (this.running >= this.want) driver.suppress();
  }

  statusUpdate(driver: FrameworkDriver, status: TaskStatus): void {
    driver.acknowledge(status);
    if (!isTerminal(status.state)) return;
    this.running--;
    driver.revive();
  }
}

export const masterCommand: Command = {
  name: 'master',
  summary: 'run a standalone master: frameworks register over HTTP (Mesos v1 scheduler API)',
  help: HELP,
  async run(argv) {
    const p = parseFlags(argv, {
      port: { type: 'string' }, host: { type: 'string' }, resources: { type: 'string' }, backend: { type: 'string' },
      agents: { type: 'string' }, 'demo-tasks': { type: 'string' }, credentials: { type: 'string' },
      'heartbeat-interval': { type: 'string' }, 'agent-ping-interval': { type: 'string' }, 'max-agent-ping-timeouts': { type: 'string' },
    });
    const port = int(p, 'port', 5050, 0);
    if (port > 65535) throw new UsageError(`--port must be at most 65535, got ${port}`);
    const host = str(p, 'host', '127.0.0.1')!;
    const credentialsFile = str(p, 'credentials');
    if (!isLoopbackAddress(host) && credentialsFile === undefined) {
      throw new UsageError(`--host ${host}: listening beyond loopback needs --credentials FILE (every request then authenticates with HTTP Basic)`);
    }
    let credentials: Credential[] | undefined;
    if (credentialsFile !== undefined) {
      const { loadCredentials, CredentialsError } = await import('../../http/auth.js');
      try {
        credentials = loadCredentials(credentialsFile);
      } catch (err) {
        if (err instanceof CredentialsError) throw new UsageError(`--credentials ${err.message}`);
        throw err;
      }
    }
    const heartbeatSeconds = num(p, 'heartbeat-interval', 5, 0.001);
    const pingSeconds = num(p, 'agent-ping-interval', 15, 0.01);
    const maxPingTimeouts = int(p, 'max-agent-ping-timeouts', 5, 1);
    const agents = int(p, 'agents', 1, 0);
    if (agents > 64) throw new UsageError(`--agents must be at most 64, got ${agents}`);
    const demoTasks = int(p, 'demo-tasks', 0, 0);
    if (demoTasks > 1000) throw new UsageError(`--demo-tasks must be at most 1000, got ${demoTasks}`);
    if (demoTasks > 0 && agents === 0) throw new UsageError('--demo-tasks needs at least one agent (--agents N)');
    let resources: Resources | undefined;
    const r = str(p, 'resources');
    if (r !== undefined) {
      try {
        resources = parseResources(r);
      } catch (err) {
        throw new UsageError(`--resources: ${(err as Error).message}`);
      }
    }
    const names = [...new Set(str(p, 'backend', 'process')!.split(',').map((b) => b.trim()))];
    if (names.some((b) => b === '')) throw new UsageError('--backend: empty backend name (expected e.g. process,docker)');
    const backends = agents > 0 ? await Promise.all(names.map((b) => usableBackend(b))) : [];
    const backend = backends[0];
    const sess = session();
    const abort = new AbortController();
    const master = new Master({ agentPingTimeoutMs: Math.round(pingSeconds * 1000), maxAgentPingTimeouts: maxPingTimeouts });
    master.start();
    const local: LocalAgent[] = [];
    let demo: FrameworkDriver | undefined;
    try {
      if (backend) {
        resources ??= await detectHostResources();
        for (let i = 0; i < agents; i++) {
          // Inputs served over HTTP (wordcount --serve-input) are fetched into the session's temp folder.
          const agent = new LocalAgent(master, new Map(backends.map((b) => [b.name, b])), abort.signal, undefined, {
            prepare: urlInputPreparer(join(sess.tmpDir(), 'sandboxes')),
          });
          agent.register({ hostname: agents > 1 ? `${hostname()}-${i + 1}` : hostname(), resources });
          local.push(agent);
        }
      }
      const api = await startApiServer(master, { host, port, credentials, scheduler: { heartbeatSeconds }, agent: { heartbeatSeconds } }).catch((err: NodeJS.ErrnoException) => {
        throw new RuntimeError(`cannot listen on ${host}:${port}: ${err.code ?? err.message}`);
      });
      if (backend && demoTasks > 0) demo = master.registerFramework(new DemoFramework(demoTasks, backend.name), { name: 'demo' });
      const what = backend ? `${agents} local agent${agents > 1 ? 's' : ''} (${formatResources(resources!)}, ${backends.map((b) => b.name).join(', ')})` : 'no agents';
      const demoText = demo ? `, ${demoTasks} demo task${demoTasks > 1 ? 's' : ''}` : '';
      const authText = credentials ? `, ${credentials.length} principal${credentials.length > 1 ? 's' : ''} (HTTP Basic required)` : '';
      process.stdout.write(`isolab master on ${api.url} with ${what}${demoText}${authText}; frameworks: POST /api/v1/scheduler; agents: POST /api/v1/agent; endpoints: ${ENDPOINTS.join(', ')} (also under /master); Ctrl-C to stop\n`);
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
      demo?.teardown();
      // Frameworks over HTTP may have long failover timeouts, but these agents live in this process: stop their tasks.
      for (const a of local) a.shutdown('master stopped');
      await waitFor(() => local.every((a) => a.activeTasks === 0), 15_000);
      master.stop();
      const errors = await sess.close();
      for (const e of errors) process.stderr.write(`isolab: cleanup: ${e}\n`);
    }
  },
};

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!cond() && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
}
