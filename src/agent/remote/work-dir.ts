import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isSessionId } from '../../session/session-id.js';

/** What an agent keeps in its work dir across restarts: who it is. */
export interface AgentIdentity {
  /** The id it registers under (chosen on its first start). */
  agentId: string;
  /** The isolab session its executors, containers and cgroups carry (so a restart finds them again). */
  session: string;
}

/** The files of an agent's work dir. */
export interface WorkDirLayout {
  /** The work dir. */
  root: string;
  /** `agent.json`: the identity. */
  identity: string;
  /** Per-task status update files. */
  updates: string;
  /** Per-task sandboxes (fetched inputs, output files). */
  sandboxes: string;
  /** Per-task checkpoints of running instances, for recovery. */
  tasks: string;
}

/** The layout of the work dir `root` (created, mode 0700). */
export function workDirLayout(root: string): WorkDirLayout {
  mkdirSync(root, { recursive: true, mode: 0o700 });
  return { root, identity: join(root, 'agent.json'), updates: join(root, 'updates'), sandboxes: join(root, 'sandboxes'), tasks: join(root, 'tasks') };
}

/**
 * Reads the agent's identity from its work dir, or makes one on the first start: an id from the
 * host name and 8 random hex digits, and the session `fallbackSession` (or a random one).
 */
export function loadIdentity(w: WorkDirLayout, hostname: string, fallbackSession?: string): { identity: AgentIdentity; fresh: boolean } {
  try {
    const j = JSON.parse(readFileSync(w.identity, 'utf8')) as Partial<AgentIdentity>;
    if (typeof j.agentId === 'string' && isSessionId(j.session)) return { identity: { agentId: j.agentId, session: j.session! }, fresh: false };
  } catch {
    /* first start */
  }
  const host = hostname.toLowerCase().replace(/[^a-z0-9.-]/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 40) || 'agent';
  const identity: AgentIdentity = {
    agentId: `${host}-${randomBytes(4).toString('hex')}`,
    session: isSessionId(fallbackSession) ? fallbackSession! : randomBytes(4).toString('hex'),
  };
  const tmp = `${w.identity}.tmp`;
  writeFileSync(tmp, JSON.stringify(identity) + '\n', { mode: 0o600 });
  renameSync(tmp, w.identity);
  return { identity, fresh: true };
}
