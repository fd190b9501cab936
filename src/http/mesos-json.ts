/**
 * Reading and writing Mesos v1 protobuf messages in their JSON mapping (proto3 JSON): snake_case
 * field names, enums by name, ids as `{"value": "..."}`, bytes as base64, and `null` meaning
 * "not set". The helpers here read untrusted JSON and throw a WireError with a one-line reason.
 */
import type { Resources } from '../master/resources.js';
import type { StatusReason, TaskState } from '../master/task-state.js';

/** A malformed message: answered 400 with this one-line reason. */
export class WireError extends Error {}

/** A JSON object as parsed. */
export type Json = Record<string, unknown>;

const short = (s: string, max = 48): string => {
  const clean = s.replace(/[\u0000-\u001f\u007f]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
};

/** Shows an untrusted value in a message: short, one line. */
export function show(v: unknown): string {
  if (typeof v === 'string') return `"${short(v)}"`;
  if (v === null || typeof v === 'number' || typeof v === 'boolean') return String(v);
  return Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'an object' : typeof v;
}

/** Field `name` of `o` where `null` counts as absent. */
export function field(o: Json, name: string): unknown {
  const v = o[name];
  return v === null ? undefined : v;
}

/** An object field (absent allowed unless required). */
export function objectField(o: Json, name: string, at: string, required: true): Json;
export function objectField(o: Json, name: string, at: string, required?: false): Json | undefined;
export function objectField(o: Json, name: string, at: string, required = false): Json | undefined {
  const v = field(o, name);
  if (v === undefined) {
    if (required) throw new WireError(`${at}.${name} is required`);
    return undefined;
  }
  if (typeof v !== 'object' || Array.isArray(v)) throw new WireError(`${at}.${name} must be an object, got ${show(v)}`);
  return v as Json;
}

/** A list field (absent is an empty list). */
export function listField(o: Json, name: string, at: string): unknown[] {
  const v = field(o, name);
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new WireError(`${at}.${name} must be a list, got ${show(v)}`);
  return v;
}

/** A string field. */
export function stringField(o: Json, name: string, at: string, required: true): string;
export function stringField(o: Json, name: string, at: string, required?: false): string | undefined;
export function stringField(o: Json, name: string, at: string, required = false): string | undefined {
  const v = field(o, name);
  if (v === undefined) {
    if (required) throw new WireError(`${at}.${name} is required`);
    return undefined;
  }
  if (typeof v !== 'string') throw new WireError(`${at}.${name} must be a string, got ${show(v)}`);
  return v;
}

/** A number field (proto3 JSON also allows numbers as strings). */
export function numberField(o: Json, name: string, at: string): number | undefined {
  const v = field(o, name);
  if (v === undefined) return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(v) ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw new WireError(`${at}.${name} must be a finite number, got ${show(v)}`);
  return n;
}

/** A boolean field. */
export function boolField(o: Json, name: string, at: string): boolean | undefined {
  const v = field(o, name);
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new WireError(`${at}.${name} must be true or false, got ${show(v)}`);
  return v;
}

/** An id field `{"value": "..."}` (FrameworkID, OfferID, TaskID, AgentID...). */
export function idField(o: Json, name: string, at: string, required: true): string;
export function idField(o: Json, name: string, at: string, required?: false): string | undefined;
export function idField(o: Json, name: string, at: string, required = false): string | undefined {
  const v = field(o, name);
  if (v === undefined) {
    if (required) throw new WireError(`${at}.${name} is required`);
    return undefined;
  }
  return idValue(v, `${at}.${name}`);
}

/** The string of an id message `{"value": "..."}`. */
export function idValue(v: unknown, at: string): string {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new WireError(`${at} must be {"value": "..."}, got ${show(v)}`);
  const s = (v as Json).value;
  if (typeof s !== 'string') throw new WireError(`${at}.value must be a string, got ${show(s)}`);
  return s;
}

/** An object item of a list. */
export function item(v: unknown, at: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new WireError(`${at} must be an object, got ${show(v)}`);
  return v as Json;
}

/** An id message. */
export const id = (value: string): { value: string } => ({ value });

// ---- resources --------------------------------------------------------------------------------

/** A Mesos Resource of type SCALAR. */
export interface ScalarResource {
  /** Resource name. */
  name: string;
  /** Always SCALAR here. */
  type: 'SCALAR';
  /** The amount. */
  scalar: { value: number };
  /** Role the resource is reserved to; `*` for unreserved (pre-MULTI_ROLE field, kept for old clients). */
  role: string;
}

/** isolab resources as Mesos' list of scalar resources (cpus, mem). */
export function wireResources(r: Resources): ScalarResource[] {
  return [
    { name: 'cpus', type: 'SCALAR', scalar: { value: r.cpus }, role: '*' },
    { name: 'mem', type: 'SCALAR', scalar: { value: r.mem }, role: '*' },
  ];
}

/**
 * Mesos resources read as isolab's (cpus and mem, summed over the list). Resources isolab agents do
 * not have are an error unless they ask for nothing (a zero `disk`, an empty `ports` range list), so
 * a task asking for them fails its launch as one asking for more than the offer has.
 */
export function readResources(list: unknown[], at: string): Resources {
  const out: Resources = { cpus: 0, mem: 0 };
  list.forEach((v, i) => {
    const r = item(v, `${at}[${i}]`);
    const name = stringField(r, 'name', `${at}[${i}]`, true);
    const type = stringField(r, 'type', `${at}[${i}]`) ?? 'SCALAR';
    if (type === 'SCALAR') {
      const value = numberField(objectField(r, 'scalar', `${at}[${i}]`, true), 'value', `${at}[${i}].scalar`) ?? 0;
      if (name === 'cpus' || name === 'mem') out[name] += value;
      else if (value !== 0) throw new WireError(`resource "${short(name)}" is not offered by isolab agents (they offer cpus and mem)`);
      return;
    }
    if (type === 'RANGES') {
      const ranges = listField(objectField(r, 'ranges', `${at}[${i}]`) ?? {}, 'range', `${at}[${i}].ranges`);
      if (ranges.length > 0) throw new WireError(`resource "${short(name)}" is not offered by isolab agents (they offer cpus and mem)`);
      return;
    }
    if (type === 'SET') {
      const items = listField(objectField(r, 'set', `${at}[${i}]`) ?? {}, 'item', `${at}[${i}].set`);
      if (items.length > 0) throw new WireError(`resource "${short(name)}" is not offered by isolab agents (they offer cpus and mem)`);
      return;
    }
    throw new WireError(`${at}[${i}].type must be SCALAR, RANGES or SET, got ${show(type)}`);
  });
  return { cpus: Math.round(out.cpus * 1000) / 1000, mem: Math.round(out.mem * 1000) / 1000 };
}

// ---- states and reasons -------------------------------------------------------------------------

/** A task state as Mesos names it on the wire (`running` → `TASK_RUNNING`). */
export function wireState(s: TaskState): string {
  return `TASK_${s.toUpperCase()}`;
}

/** isolab's state for a Mesos state name, or undefined for one isolab does not have. */
export function stateOf(wire: string): TaskState | undefined {
  const m = /^TASK_([A-Z_]+)$/.exec(wire);
  const s = m?.[1]!.toLowerCase();
  return s !== undefined && (WIRE_STATES as readonly string[]).includes(s) ? (s as TaskState) : undefined;
}

const WIRE_STATES: readonly TaskState[] = [
  'staging', 'starting', 'running', 'killing', 'unreachable', 'finished', 'failed', 'killed', 'lost', 'error', 'dropped', 'gone',
];

/** Mesos' TaskStatus.Reason names isolab can send (without `REASON_`, lower case). */
const MESOS_REASONS: ReadonlySet<string> = new Set<StatusReason | string>([
  'reconciliation', 'task_invalid', 'invalid_offers', 'framework_removed', 'agent_removed', 'agent_unreachable', 'agent_reregistered',
  'agent_restarted', 'task_killed_during_launch', 'executor_terminated', 'task_unknown', 'command_executor_failed', 'container_launch_failed',
  'executor_unregistered', 'task_unauthorized', 'agent_disconnected', 'master_disconnected', 'gc_error', 'io_switchboard_exited',
]);

/** Reasons the master itself gives (the rest come from agents and executors). */
const MASTER_REASONS: ReadonlySet<string> = new Set<StatusReason | string>([
  'reconciliation', 'task_invalid', 'invalid_offers', 'framework_removed', 'agent_removed', 'agent_unreachable', 'agent_reregistered',
  'agent_restarted', 'task_unknown', 'task_killed_during_launch',
]);

/** The wire name of a reason (`reconciliation` → `REASON_RECONCILIATION`), or undefined when Mesos has no such reason. */
export function wireReason(r: string | undefined): string | undefined {
  return r !== undefined && MESOS_REASONS.has(r) ? `REASON_${r.toUpperCase()}` : undefined;
}

/** isolab's reason for a wire reason name. */
export function reasonOf(wire: string | undefined): string | undefined {
  return wire?.startsWith('REASON_') ? wire.slice('REASON_'.length).toLowerCase() : undefined;
}

/** Where an update came from, after Mesos' TaskStatus.Source. */
export function sourceOf(agentId: string, reason: string | undefined): 'SOURCE_MASTER' | 'SOURCE_EXECUTOR' {
  return agentId === '' || (reason !== undefined && MASTER_REASONS.has(reason)) ? 'SOURCE_MASTER' : 'SOURCE_EXECUTOR';
}
