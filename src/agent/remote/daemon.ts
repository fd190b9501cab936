import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LocalAgent } from '../agent.js';
import type { Backend } from '../../backends/backend.js';
import type { Credential } from '../../http/auth.js';
import type { Resources } from '../../master/resources.js';
import { isTerminal } from '../../master/task-state.js';
import type { AgentTaskReport } from '../../master/types.js';
import { forgetProcess } from '../../backends/process/owned.js';
import { procStartTime } from '../../session/proc.js';
import { sessionDir } from '../../session/session-lock.js';
import { session } from '../../session/session.js';
import { inputFetcher } from './fetcher.js';
import { AgentRefused, HttpMasterLink } from './http-master-link.js';
import { AgentStatusUpdates, type RecoveredStream } from './status-update-manager.js';
import type { AgentIdentity, WorkDirLayout } from './work-dir.js';

/** What an agent daemon runs with. */
export interface AgentDaemonOptions {
  /** The master's base URL. */
  masterUrl: string;
  /** Principal and secret, when the master requires them. */
  credential?: Credential;
  /** Backends it runs tasks on (usable ones). */
  backends: Backend[];
  /** Resources it offers. */
  resources: Resources;
  /** Host name it registers with. */
  hostname: string;
  /** Its work dir. */
  workDir: WorkDirLayout;
  /** Its id and session, from the work dir. */
  identity: AgentIdentity;
  /** Facts about the host. */
  attributes: Record<string, string>;
  /** Stops the daemon (SIGTERM, SIGINT). */
  signal: AbortSignal;
  /** Where its lines go. */
  log: (line: string) => void;
  /** How long a stopping agent waits for its tasks' teardown and its last updates (ms). Default 15000. */
  drainMs?: number;
}

/** How a daemon ended. */
export type DaemonEnd = { kind: 'stopped' } | { kind: 'refused'; message: string } | { kind: 'removed'; reason: string };

/**
 * Kills what the agent's previous run left of the tasks it recorded as live (executors, containers
 * and domains carrying its session, found by each backend's ownership rules) and queues a `failed`
 * update for each, after its recorded ones. Returns how many tasks were given up.
 */
async function recover(o: AgentDaemonOptions, updates: AgentStatusUpdates, streams: RecoveredStream[]): Promise<number> {
  const live = streams.filter((s) => s.latest === undefined || !isTerminal(s.latest));
  let killed = 0;
  for (const b of o.backends) {
    let owned;
    try {
      owned = (await b.listOwned()).filter((r) => r.session === o.identity.session);
    } catch (err) {
      o.log(`isolab: agent: cannot list ${b.name} leftovers: ${(err as Error).message}`);
      continue;
    }
    for (const r of owned) {
      try {
        await b.removeOwned(r);
        if (r.kind === 'process') forgetProcess(o.identity.session, Number(r.id.split('@')[0]));
        killed++;
      } catch (err) {
        o.log(`isolab: agent: cannot remove ${r.kind} ${r.id}: ${(err as Error).message}`);
      }
    }
  }
  forgetDeadRecords(o.identity.session);
  rmSync(o.workDir.sandboxes, { recursive: true, force: true });
  for (const s of live) {
    updates.update({
      taskId: s.taskId, frameworkId: s.frameworkId, agentId: o.identity.agentId, state: 'failed', uuid: randomUUID(),
      timestamp: performance.timeOrigin + performance.now(), reason: 'agent_restarted',
      message: 'the agent restarted while the task ran; its executor was not recovered and was killed',
    });
  }
  if (live.length > 0 || killed > 0) o.log(`isolab: agent ${o.identity.agentId}: recovered ${streams.length} task record(s); ${live.length} task(s) were running: reported failed (${killed} leftover(s) removed)`);
  return live.length;
}

/** Drops the session's records of executor processes that no longer exist (a previous run's, killed or exited). */
function forgetDeadRecords(sessionId: string): void {
  const dir = join(sessionDir(sessionId), 'processes');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    try {
      const r = JSON.parse(readFileSync(join(dir, n), 'utf8')) as { pid: number; startTime: number };
      if (procStartTime(r.pid) !== r.startTime) rmSync(join(dir, n), { force: true });
    } catch {
      /* unreadable: the reaper decides */
    }
  }
}

/**
 * Runs an agent in its own process until `signal` aborts, the master refuses it, or the master
 * removes it: recovers its work dir (status updates not yet acknowledged are sent again; tasks that
 * were running are given up, their leftovers removed, and reported failed), subscribes to the
 * master, runs the tasks it is sent on its backends (fetching inputs served over HTTP into each
 * task's sandbox), and on SIGTERM stops every task, reports them failed, unregisters and removes
 * what it made.
 */
export async function runAgentDaemon(o: AgentDaemonOptions): Promise<DaemonEnd> {
  const sess = session();
  sess.hold();
  let link!: HttpMasterLink;
  const updates = new AgentStatusUpdates({ dir: o.workDir.updates, send: (s) => link.send(s) });
  const streams = updates.recover();
  await recover(o, updates, streams);
  let end: DaemonEnd | undefined;
  let wake!: () => void;
  const ended = new Promise<void>((r) => (wake = r));
  const finish = (e: DaemonEnd): void => {
    end ??= e;
    wake();
  };
  const abort = new AbortController();
  const agentRef: { agent?: LocalAgent } = {};
  const reports = (): AgentTaskReport[] => {
    const out = new Map<string, AgentTaskReport>();
    for (const t of updates.tasks()) {
      out.set(`${t.frameworkId}\u0000${t.taskId}`, { ...t, state: updates.acked(t.frameworkId, t.taskId) ?? 'staging' });
    }
    for (const r of agentRef.agent?.taskReports() ?? []) {
      const k = `${r.frameworkId}\u0000${r.taskId}`;
      if (!out.has(k)) out.set(k, r);
    }
    return [...out.values()];
  };
  link = new HttpMasterLink({
    url: o.masterUrl, credential: o.credential, updates, tasks: reports, log: o.log,
    extra: { attributes: o.attributes, descriptors: Object.fromEntries(o.backends.map((b) => [b.name, b.descriptor])) },
    onRefused: (err: AgentRefused) => finish({ kind: 'refused', message: err.message }),
    onShutdown: (reason) => finish({ kind: 'removed', reason }),
  });
  const agent = new LocalAgent(link, new Map(o.backends.map((b) => [b.name, b])), abort.signal, undefined, { prepare: inputFetcher(o.workDir.sandboxes) });
  agentRef.agent = agent;
  agent.register({ hostname: o.hostname, resources: o.resources }, o.identity.agentId);
  const onAbort = (): void => finish({ kind: 'stopped' });
  if (o.signal.aborted) onAbort();
  o.signal.addEventListener('abort', onAbort, { once: true });
  await ended;
  o.signal.removeEventListener('abort', onAbort);
  const drainMs = o.drainMs ?? 15_000;
  const result = end!;
  if (result.kind === 'stopped') {
    agent.drain('the agent was stopped (SIGTERM)');
    await waitFor(() => agent.activeTasks === 0, drainMs);
    await waitFor(() => updates.pending === 0 || !link.subscribed, 3000);
    await link.unregister('the agent was stopped');
  } else {
    agent.shutdown(result.kind === 'removed' ? result.reason : 'refused');
    await waitFor(() => agent.activeTasks === 0, drainMs);
  }
  abort.abort(new Error('agent stopped'));
  updates.stop();
  link.close();
  rmSync(o.workDir.sandboxes, { recursive: true, force: true });
  return result;
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (!cond() && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  return cond();
}
