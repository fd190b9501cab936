import { contains, invalidResources, type Resources } from './resources.js';
import type { AgentInfo, FrameworkInfo, Offer, TaskLaunch } from './types.js';

/** Longest task id the master accepts. */
export const MAX_TASK_ID_LENGTH = 256;

/** What validating an accept's offers needs from the master. */
export interface OfferContext {
  /** The framework accepting. */
  frameworkId: string;
  /** An outstanding offer by id (any framework's), or undefined. */
  offer(id: string): Offer | undefined;
  /** True when the agent is registered (not removed, not unreachable). */
  agentRegistered(agentId: string): boolean;
}

/**
 * Checks the offers of an accept, after Mesos' validation::offer: at least one; no id twice; each
 * outstanding and made to this framework; all on one registered agent. Returns the reason they are
 * invalid, or undefined.
 */
export function validateOffers(offerIds: readonly string[], ctx: OfferContext): string | undefined {
  if (offerIds.length === 0) return 'no offer given';
  if (offerIds.length === 1) {
    const id = offerIds[0]!;
    if (typeof id !== 'string') return 'offer ids must be strings';
    const o = ctx.offer(id);
    if (!o) return `offer ${clip(id)} is no longer valid`;
    if (o.frameworkId !== ctx.frameworkId) return `offer ${clip(id)} was not made to framework ${clip(ctx.frameworkId)}`;
    return ctx.agentRegistered(o.agentId) ? undefined : `agent ${clip(o.agentId)} is not registered`;
  }
  const seen = new Set<string>();
  let agentId: string | undefined;
  for (const id of offerIds) {
    if (typeof id !== 'string') return 'offer ids must be strings';
    if (seen.has(id)) return `offer ${clip(id)} is given twice`;
    seen.add(id);
    const o = ctx.offer(id);
    if (!o) return `offer ${clip(id)} is no longer valid`;
    if (o.frameworkId !== ctx.frameworkId) return `offer ${clip(id)} was not made to framework ${clip(ctx.frameworkId)}`;
    if (agentId !== undefined && o.agentId !== agentId) return `offers are on different agents (${clip(agentId)} and ${clip(o.agentId)})`;
    agentId = o.agentId;
  }
  if (agentId !== undefined && !ctx.agentRegistered(agentId)) return `agent ${clip(agentId)} is not registered`;
  return undefined;
}

/** What validating one task of an accept needs. */
export interface TaskContext {
  /** Agent of the offers. */
  agentId: string;
  /** Backends that agent has. */
  backends: readonly string[];
  /** Offered resources not yet used by earlier valid tasks of the same accept. */
  remaining: Resources;
  /** True when the framework has a live (non-terminal) task with this id. */
  isLive(taskId: string): boolean;
  /** Task ids of earlier tasks of the same accept (valid or not). */
  seen: Set<string>;
}

/**
 * Checks one task of an accept, after Mesos' validation::task: a non-empty id, unique among the
 * framework's live tasks and within the accept; the offers' agent if one is named; valid resources
 * (finite, >= 0, not empty) contained in what the offers have left; a backend the agent has.
 * Returns the reason the task is invalid, or undefined.
 */
export function validateTask(t: TaskLaunch, ctx: TaskContext): string | undefined {
  if (typeof t !== 'object' || t === null) return 'task is not an object';
  const id = t.taskId;
  if (typeof id !== 'string' || id.length === 0) return 'task id is empty';
  if (id.length > MAX_TASK_ID_LENGTH) return `task id is longer than ${MAX_TASK_ID_LENGTH} characters`;
  if (/[\u0000-\u001f\u007f]/.test(id)) return 'task id contains control characters';
  if (ctx.seen.has(id)) return `task ${clip(id)} is given twice in one accept`;
  if (ctx.isLive(id)) return `task ${clip(id)} is already live (duplicate task id)`;
  if (t.agentId !== undefined && t.agentId !== ctx.agentId) return `task names agent ${clip(String(t.agentId))} but the offers are on ${clip(ctx.agentId)}`;
  const bad = invalidResources(t.resources);
  if (bad) return `invalid resources: ${bad}`;
  const r = { cpus: t.resources.cpus ?? 0, mem: t.resources.mem ?? 0 };
  if (!contains(ctx.remaining, r)) {
    return `task ${clip(id)} needs cpus:${r.cpus};mem:${r.mem} but the offers have cpus:${ctx.remaining.cpus};mem:${ctx.remaining.mem} left`;
  }
  if (typeof t.backend !== 'string' || !ctx.backends.includes(t.backend)) return `agent ${clip(ctx.agentId)} has no backend ${clip(String(t.backend))}`;
  if (t.timeoutMs !== undefined && !(typeof t.timeoutMs === 'number' && t.timeoutMs > 0 && Number.isFinite(t.timeoutMs))) return 'timeoutMs must be a positive number';
  return undefined;
}

/** A short, printable form of untrusted text for messages. */
export function clip(s: string, max = 64): string {
  const clean = s.replace(/[\u0000-\u001f\u007f]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/** Why agent info is unusable, or undefined. */
export function invalidAgentInfo(info: AgentInfo): string | undefined {
  if (!info || typeof info !== 'object') return 'missing';
  if (typeof info.hostname !== 'string') return 'hostname must be a string';
  const r = info.resources as unknown;
  if (typeof r !== 'object' || r === null) return 'resources missing';
  for (const k of ['cpus', 'mem'] as const) {
    const v = (r as Record<string, unknown>)[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return `resources.${k} must be a finite number >= 0`;
  }
  if (!Array.isArray(info.backends) || info.backends.some((b) => typeof b !== 'string')) return 'backends must be a list of names';
  if (info.tasks !== undefined && !Array.isArray(info.tasks)) return 'tasks must be a list';
  return undefined;
}

/** Why framework info is unusable, or undefined. */
export function invalidFrameworkInfo(info: FrameworkInfo): string | undefined {
  if (!info || typeof info !== 'object') return 'missing';
  if (typeof info.name !== 'string') return 'name must be a string';
  if (info.id !== undefined && (typeof info.id !== 'string' || info.id === '')) return 'id must be a non-empty string';
  if (info.weight !== undefined && !(typeof info.weight === 'number' && info.weight > 0 && Number.isFinite(info.weight))) return 'weight must be a finite number > 0';
  const t = info.failoverTimeoutSeconds;
  if (t !== undefined && !(typeof t === 'number' && t >= 0 && Number.isFinite(t))) return 'failoverTimeoutSeconds must be a finite number >= 0';
  const min = info.minAllocatableResources;
  if (min !== undefined) {
    if (!Array.isArray(min)) return 'minAllocatableResources must be a list';
    for (const q of min) {
      const bad = invalidResources({ cpus: q?.cpus ?? 0, mem: q?.mem ?? 0, ...(q ?? {}) });
      if (bad && !/empty/.test(bad)) return `minAllocatableResources: ${bad}`;
    }
  }
  return undefined;
}
