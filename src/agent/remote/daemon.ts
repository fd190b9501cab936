import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LocalAgent, type RecoveredTask } from '../agent.js';
import type { Backend } from '../../backends/backend.js';
import type { Credential } from '../../http/auth.js';
import type { Resources } from '../../master/resources.js';
import { isTerminal } from '../../master/task-state.js';
import type { AgentTaskReport } from '../../master/types.js';
import { forgetProcess } from '../../backends/process/owned.js';
import { procStartTime } from '../../session/proc.js';
import { sessionDir } from '../../session/session-lock.js';
import { session } from '../../session/session.js';
import { procStat } from '../../session/proc.js';
import { Checkpoints, type TaskCheckpoint } from './checkpoints.js';
import { sandboxPreparer } from './fetcher.js';
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

/** The pids and cgroup folders a recovered instance owns (left alone when the leftovers are removed). */
function ownedBy(c: TaskCheckpoint): { pgid?: number; dirs: string[] } {
  const d = c.checkpoint as { pid?: number; cgroup?: { dirs?: string[] } } | undefined;
  return { pgid: typeof d?.pid === 'number' ? d.pid : undefined, dirs: d?.cgroup?.dirs ?? [] };
}

/**
 * Recovery after a restart (Mesos' agent recovery): tasks with a checkpoint whose backend can
 * recover are handed back to be adopted; everything else the previous run left that carries the
 * agent's session (executors, cgroups, containers, domains, found by each backend's ownership
 * rules) is removed, and each task recorded as live that is not recovered gets a `failed` update
 * after its recorded ones. Returns the tasks to adopt.
 */
async function recover(o: AgentDaemonOptions, updates: AgentStatusUpdates, streams: RecoveredStream[], checkpoints: Checkpoints): Promise<RecoveredTask[]> {
  const byName = new Map(o.backends.map((b) => [b.name, b]));
  const saved = checkpoints.load();
  const adopt: TaskCheckpoint[] = [];
  for (const c of saved) {
    if (byName.get(c.task.backend)?.recover) adopt.push(c);
    else checkpoints.remove(c.task);
  }
  const keep = adopt.map(ownedBy);
  const kept = (r: { kind: string; id: string }): boolean => {
    if (r.kind === 'process') {
      const pid = Number(r.id.split('@')[0]);
      const pgid = procStat(pid)?.pgid;
      return keep.some((k) => k.pgid !== undefined && (k.pgid === pid || k.pgid === pgid));
    }
    return r.kind === 'cgroup' && keep.some((k) => k.dirs.includes(r.id));
  };
  let killed = 0;
  for (const b of o.backends) {
    let owned;
    try {
      owned = (await b.listOwned()).filter((r) => r.session === o.identity.session && !kept(r));
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
  const sandboxes = new Set(adopt.map((c) => c.sandbox).filter((x): x is string => x !== undefined));
  let names: string[] = [];
  try {
    names = readdirSync(o.workDir.sandboxes);
  } catch {
    /* none yet */
  }
  for (const n of names) if (!sandboxes.has(join(o.workDir.sandboxes, n))) rmSync(join(o.workDir.sandboxes, n), { recursive: true, force: true });
  const adopted = new Set(adopt.map((c) => `${c.task.frameworkId}\u0000${c.task.taskId}`));
  const lost = streams.filter((s) => (s.latest === undefined || !isTerminal(s.latest)) && !adopted.has(`${s.frameworkId}\u0000${s.taskId}`));
  for (const s of lost) {
    updates.update({
      taskId: s.taskId, frameworkId: s.frameworkId, agentId: o.identity.agentId, state: 'failed', uuid: randomUUID(),
      timestamp: performance.timeOrigin + performance.now(), reason: 'agent_restarted',
      message: 'the agent restarted while the task ran and had no checkpoint of it; its leftovers were removed',
    });
  }
  if (streams.length > 0 || saved.length > 0 || killed > 0) {
    o.log(`isolab: agent ${o.identity.agentId}: recovered ${streams.length} task record(s); ${adopt.length} running task(s) to re-attach; ${lost.length} reported failed; ${killed} leftover(s) removed`);
  }
  return adopt.map((c) => ({
    task: c.task, checkpoint: c.checkpoint, outputDir: c.sandbox,
    cleanup: () => {
      if (c.sandbox) rmSync(c.sandbox, { recursive: true, force: true });
    },
  }));
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
 * removes it: recovers its work dir (status updates not yet acknowledged are sent again;
 * checkpointed tasks are re-attached; other tasks that were running are reported failed and their
 * leftovers removed), subscribes to the
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
  const checkpoints = new Checkpoints(o.workDir.tasks);
  const adopt = await recover(o, updates, streams, checkpoints);
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
  const sandboxOf = new Map<string, string>();
  const prepare = sandboxPreparer(o.workDir.sandboxes);
  const agent = new LocalAgent(link, new Map(o.backends.map((b) => [b.name, b])), abort.signal, undefined, {
    prepare: async (task, signal) => {
      const p = await prepare(task, signal);
      if (p?.outputDir) sandboxOf.set(`${task.frameworkId}\u0000${task.taskId}`, p.outputDir);
      return p;
    },
    onStarted: (task, handle, backend) => {
      const checkpoint = backend.checkpoint?.(handle);
      if (checkpoint !== undefined) checkpoints.save({ task, checkpoint, sandbox: sandboxOf.get(`${task.frameworkId}\u0000${task.taskId}`) });
    },
    onEnded: (task) => {
      sandboxOf.delete(`${task.frameworkId}\u0000${task.taskId}`);
      checkpoints.remove(task);
    },
  });
  agentRef.agent = agent;
  for (const t of adopt) {
    if (t.outputDir) sandboxOf.set(`${t.task.frameworkId}\u0000${t.task.taskId}`, t.outputDir);
    agent.adopt(t);
  }
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
