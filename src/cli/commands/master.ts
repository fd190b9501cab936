import { hostname } from 'node:os';
import { LocalAgent } from '../../agent/agent.js';
import { detectHostResources } from '../../agent/host-resources.js';
import type { ExecutorTask } from '../../executor/protocol.js';
import { ENDPOINTS, isLoopbackAddress, startApiServer } from '../../http/server.js';
import { Master } from '../../master/master.js';
import { contains, formatResources, parseResources, subtract, type Resources } from '../../master/resources.js';
import { isTerminal } from '../../master/task-state.js';
import type { FrameworkDriver, Offer, Scheduler, TaskLaunch, TaskStatus } from '../../master/types.js';
import { session } from '../../session/session.js';
import { int, parseFlags, str, type Command } from '../command.js';
import { RuntimeError, UsageError } from '../errors.js';
import { usableBackend } from '../input.js';

const HELP = `Usage: isolab master [--port P] [--host H] [--resources R] [--backend NAME] [--agents N] [--demo-tasks N]

Runs a standalone Mesos-style master with its HTTP API until Ctrl-C (or SIGTERM), with local
agents that offer this host's resources on one backend. No framework registers from outside yet
(there is no scheduler API): use it to look at the API, with --demo-tasks to see tasks run.
"isolab wordcount --http PORT" serves the same API from a master that runs a job.

Endpoints (GET): /state, /metrics/snapshot, /tasks?state=&framework_id=&limit=&offset=,
/agents, /frameworks, /offers (?limit=&offset=), /health; each also under /master
(/master/state, /master/metrics/snapshot, ...).

Options:
  --port P          TCP port (default: 5050; 0 picks a free one)
  --host H          loopback address to bind (default: 127.0.0.1; the API has no authentication,
                    so it does not listen beyond loopback)
  --resources R     resources of each local agent, e.g. 'cpus:2;mem:4096' (default: host)
  --backend NAME    backend of the local agents (default: process)
  --agents N        local agents to register, 0 for none (default: 1)
  --demo-tasks N    a built-in "demo" framework keeps N idle executor tasks (cpus:0.1;mem:32
                    each) running on the agents, starting new ones as they end (default: 0)
  -h, --help        show this help

Exit status: 0 stopped by a signal, 1 the port cannot be bound, 2 bad usage.`;

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
  summary: 'run a standalone master with its HTTP API (/state, /metrics/snapshot)',
  help: HELP,
  async run(argv) {
    const p = parseFlags(argv, {
      port: { type: 'string' }, host: { type: 'string' }, resources: { type: 'string' }, backend: { type: 'string' },
      agents: { type: 'string' }, 'demo-tasks': { type: 'string' },
    });
    const port = int(p, 'port', 5050, 0);
    if (port > 65535) throw new UsageError(`--port must be at most 65535, got ${port}`);
    const host = str(p, 'host', '127.0.0.1')!;
    if (!isLoopbackAddress(host)) {
      throw new UsageError(`--host ${host}: the API has no authentication, so it listens on loopback only (127.0.0.1, ::1, localhost)`);
    }
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
    const backend = agents > 0 ? await usableBackend(str(p, 'backend', 'process')!) : undefined;
    const sess = session();
    const abort = new AbortController();
    const master = new Master();
    master.start();
    const local: LocalAgent[] = [];
    let demo: FrameworkDriver | undefined;
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
      if (backend && demoTasks > 0) demo = master.registerFramework(new DemoFramework(demoTasks, backend.name), { name: 'demo' });
      const what = backend ? `${agents} local agent${agents > 1 ? 's' : ''} (${formatResources(resources!)}, ${backend.name})` : 'no agents';
      const demoText = demo ? `, ${demoTasks} demo task${demoTasks > 1 ? 's' : ''}` : '';
      process.stdout.write(`isolab master on ${api.url} with ${what}${demoText}; endpoints: ${ENDPOINTS.join(', ')} (also under /master); Ctrl-C to stop\n`);
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
      await waitFor(() => local.every((a) => a.activeTasks === 0), 15_000);
      for (const a of local) a.shutdown('master stopped');
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
