/**
 * Calls of Mesos' v1 scheduler API (scheduler.proto `Call`), read from their JSON form into typed
 * values, and written from them. Reading checks the shape only; what a call means is the
 * scheduler API's business.
 */
import type { MinAllocatable } from '../master/resources.js';
import type { Filters, FrameworkInfo, TaskRef } from '../master/types.js';
import {
  boolField, field, id, idField, idValue, item, listField, numberField, objectField, show, stringField, WireError, type Json,
} from './mesos-json.js';

/** Call types isolab answers, in scheduler.proto's order. */
export const CALL_TYPES = [
  'SUBSCRIBE', 'TEARDOWN', 'ACCEPT', 'DECLINE', 'REVIVE', 'KILL', 'SHUTDOWN', 'ACKNOWLEDGE', 'RECONCILE', 'MESSAGE', 'REQUEST', 'SUPPRESS',
] as const;

/** Call types of newer Mesos versions that isolab knows but does not implement (answered 400 with a reason). */
export const UNSUPPORTED_CALL_TYPES = ['ACCEPT_INVERSE_OFFERS', 'DECLINE_INVERSE_OFFERS', 'ACKNOWLEDGE_OPERATION_STATUS', 'RECONCILE_OPERATIONS', 'UPDATE_FRAMEWORK'] as const;

/** A SUBSCRIBE call: register, or re-register with an id (failover). */
export interface SubscribeCall {
  /** Call type. */
  type: 'SUBSCRIBE';
  /** The call's framework_id, which must equal framework_info.id when both are set. */
  frameworkId?: string;
  /** The framework as isolab's master takes it. */
  info: FrameworkInfo;
  /** FrameworkInfo.principal, checked against the authenticated principal. */
  principal?: string;
}

/** An operation of an ACCEPT, with its task infos still in wire form. */
export interface AcceptOperation {
  /** LAUNCH or LAUNCH_GROUP. */
  type: 'LAUNCH' | 'LAUNCH_GROUP';
  /** TaskInfos (for LAUNCH_GROUP, the group's tasks). */
  taskInfos: Json[];
  /** LAUNCH_GROUP's ExecutorInfo. */
  executor?: Json;
}

/** Any call other than SUBSCRIBE, with its framework id. */
export type FrameworkCall =
  | { type: 'TEARDOWN'; frameworkId: string }
  | { type: 'ACCEPT'; frameworkId: string; offerIds: string[]; operations: AcceptOperation[]; filters?: Filters }
  | { type: 'DECLINE'; frameworkId: string; offerIds: string[]; filters?: Filters }
  | { type: 'REVIVE'; frameworkId: string }
  | { type: 'SUPPRESS'; frameworkId: string }
  | { type: 'KILL'; frameworkId: string; taskId: string; agentId?: string }
  | { type: 'SHUTDOWN'; frameworkId: string; executorId: string; agentId: string }
  | { type: 'ACKNOWLEDGE'; frameworkId: string; taskId: string; agentId: string; uuid: string }
  | { type: 'RECONCILE'; frameworkId: string; tasks: TaskRef[] }
  | { type: 'MESSAGE'; frameworkId: string; agentId: string; executorId: string; data: string }
  | { type: 'REQUEST'; frameworkId: string };

/** A parsed scheduler call. */
export type SchedulerCall = SubscribeCall | FrameworkCall;

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function filtersOf(o: Json | undefined, at: string): Filters | undefined {
  if (!o) return undefined;
  const refuse = numberField(o, 'refuse_seconds', at);
  return refuse === undefined ? {} : { refuseSeconds: refuse };
}

function offerIds(o: Json, at: string): string[] {
  const list = listField(o, 'offer_ids', at);
  return list.map((v, i) => idValue(v, `${at}.offer_ids[${i}]`));
}

/** FrameworkInfo read into isolab's FrameworkInfo. */
export function frameworkInfoOf(fi: Json, at: string): { info: FrameworkInfo; principal?: string } {
  const name = stringField(fi, 'name', at, true);
  stringField(fi, 'user', at);
  const info: FrameworkInfo = { name };
  const fid = idField(fi, 'id', at);
  if (fid !== undefined) {
    if (fid === '') throw new WireError(`${at}.id.value must not be empty`);
    info.id = fid;
  }
  const failover = numberField(fi, 'failover_timeout', at);
  if (failover !== undefined) {
    if (failover < 0) throw new WireError(`${at}.failover_timeout must be >= 0, got ${failover}`);
    info.failoverTimeoutSeconds = Math.min(failover, 365 * 86400);
  }
  boolField(fi, 'checkpoint', at);
  const caps = listField(fi, 'capabilities', at).map((c, i) => stringField(item(c, `${at}.capabilities[${i}]`), 'type', `${at}.capabilities[${i}]`) ?? '');
  if (caps.includes('PARTITION_AWARE')) info.partitionAware = true;
  const min = minAllocatableOf(objectField(fi, 'offer_filters', at), `${at}.offer_filters`);
  if (min) info.minAllocatableResources = min;
  const principal = stringField(fi, 'principal', at);
  return { info, principal };
}

/**
 * Mesos >= 1.9's `offer_filters` (per role; isolab has one role, so any role's entry counts, `*` first):
 * `{"*": {"min_allocatable_resources": {"quantities": [{"quantities": {"cpus": {"value": 1}}}]}}}`.
 */
function minAllocatableOf(filters: Json | undefined, at: string): MinAllocatable | undefined {
  if (!filters) return undefined;
  const role = '*' in filters ? '*' : Object.keys(filters)[0];
  if (role === undefined) return undefined;
  const f = objectField(filters, role, at);
  const m = f ? objectField(f, 'min_allocatable_resources', `${at}.${role}`) : undefined;
  if (!m) return undefined;
  return listField(m, 'quantities', `${at}.${role}.min_allocatable_resources`).map((v, i) => {
    const where = `${at}.${role}.min_allocatable_resources.quantities[${i}]`;
    const q = objectField(item(v, where), 'quantities', where) ?? {};
    const out = { cpus: 0, mem: 0 };
    for (const [name, scalar] of Object.entries(q)) {
      if (name !== 'cpus' && name !== 'mem') throw new WireError(`${where}: resource "${name.slice(0, 32)}" is not offered by isolab agents (cpus, mem)`);
      const value = numberField(item(scalar, `${where}.${name}`), 'value', `${where}.${name}`) ?? 0;
      if (value < 0) throw new WireError(`${where}.${name}.value must be >= 0`);
      out[name] = value;
    }
    return out;
  });
}

/**
 * Reads a scheduler call from its parsed JSON. Throws WireError (answered 400) for a call that is
 * not an object, has an unknown type, or lacks what its type needs; fields isolab does not use are
 * ignored, as protobuf's JSON parser ignores unknown ones.
 */
export function parseCall(body: unknown): SchedulerCall {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new WireError(`a call must be a JSON object, got ${show(body)}`);
  const o = body as Json;
  const type = field(o, 'type');
  if (typeof type !== 'string') throw new WireError(`call.type is required (one of ${CALL_TYPES.join(', ')})`);
  if ((UNSUPPORTED_CALL_TYPES as readonly string[]).includes(type)) throw new WireError(`call type ${type} is not supported by isolab`);
  if (!(CALL_TYPES as readonly string[]).includes(type)) throw new WireError(`unknown call type ${show(type)} (known: ${CALL_TYPES.join(', ')})`);
  if (type === 'SUBSCRIBE') {
    const sub = objectField(o, 'subscribe', 'call', true);
    const { info, principal } = frameworkInfoOf(objectField(sub, 'framework_info', 'call.subscribe', true), 'call.subscribe.framework_info');
    const frameworkId = idField(o, 'framework_id', 'call');
    if (frameworkId !== undefined && info.id !== undefined && frameworkId !== info.id) {
      throw new WireError('call.framework_id and call.subscribe.framework_info.id differ');
    }
    if (frameworkId !== undefined && info.id === undefined) info.id = frameworkId;
    return { type, frameworkId, info, principal };
  }
  const frameworkId = idField(o, 'framework_id', 'call', true);
  switch (type) {
    case 'TEARDOWN':
    case 'REVIVE':
    case 'SUPPRESS':
    case 'REQUEST':
      return { type, frameworkId };
    case 'ACCEPT': {
      const a = objectField(o, 'accept', 'call', true);
      const operations = listField(a, 'operations', 'call.accept').map((v, i) => operationOf(item(v, `call.accept.operations[${i}]`), `call.accept.operations[${i}]`));
      return { type, frameworkId, offerIds: offerIds(a, 'call.accept'), operations, filters: filtersOf(objectField(a, 'filters', 'call.accept'), 'call.accept.filters') };
    }
    case 'DECLINE': {
      const d = objectField(o, 'decline', 'call', true);
      return { type, frameworkId, offerIds: offerIds(d, 'call.decline'), filters: filtersOf(objectField(d, 'filters', 'call.decline'), 'call.decline.filters') };
    }
    case 'KILL': {
      const k = objectField(o, 'kill', 'call', true);
      return { type, frameworkId, taskId: idField(k, 'task_id', 'call.kill', true), agentId: idField(k, 'agent_id', 'call.kill') };
    }
    case 'SHUTDOWN': {
      const s = objectField(o, 'shutdown', 'call', true);
      return { type, frameworkId, executorId: idField(s, 'executor_id', 'call.shutdown', true), agentId: idField(s, 'agent_id', 'call.shutdown', true) };
    }
    case 'ACKNOWLEDGE': {
      const a = objectField(o, 'acknowledge', 'call', true);
      const uuid = stringField(a, 'uuid', 'call.acknowledge', true);
      if (!BASE64.test(uuid) || Buffer.from(uuid, 'base64').length !== 16) throw new WireError('call.acknowledge.uuid must be the base64 of 16 bytes, as the update carried it');
      return { type, frameworkId, taskId: idField(a, 'task_id', 'call.acknowledge', true), agentId: idField(a, 'agent_id', 'call.acknowledge', true), uuid };
    }
    case 'RECONCILE': {
      const r = objectField(o, 'reconcile', 'call') ?? {};
      const tasks = listField(r, 'tasks', 'call.reconcile').map((v, i) => {
        const t = item(v, `call.reconcile.tasks[${i}]`);
        const ref: TaskRef = { taskId: idField(t, 'task_id', `call.reconcile.tasks[${i}]`, true) };
        const agentId = idField(t, 'agent_id', `call.reconcile.tasks[${i}]`);
        if (agentId !== undefined) ref.agentId = agentId;
        return ref;
      });
      return { type, frameworkId, tasks };
    }
    case 'MESSAGE': {
      const m = objectField(o, 'message', 'call', true);
      const data = stringField(m, 'data', 'call.message', true);
      if (!BASE64.test(data)) throw new WireError('call.message.data must be base64');
      return { type, frameworkId, agentId: idField(m, 'agent_id', 'call.message', true), executorId: idField(m, 'executor_id', 'call.message', true), data };
    }
  }
  throw new WireError(`unknown call type ${show(type)}`);
}

function operationOf(op: Json, at: string): AcceptOperation {
  const type = stringField(op, 'type', at, true);
  if (type === 'LAUNCH') {
    const l = objectField(op, 'launch', at, true);
    return { type, taskInfos: listField(l, 'task_infos', `${at}.launch`).map((t, i) => item(t, `${at}.launch.task_infos[${i}]`)) };
  }
  if (type === 'LAUNCH_GROUP') {
    const g = objectField(op, 'launch_group', at, true);
    const group = objectField(g, 'task_group', `${at}.launch_group`, true);
    return {
      type, executor: objectField(g, 'executor', `${at}.launch_group`, true),
      taskInfos: listField(group, 'tasks', `${at}.launch_group.task_group`).map((t, i) => item(t, `${at}.launch_group.task_group.tasks[${i}]`)),
    };
  }
  throw new WireError(`${at}.type ${show(type)} is not supported (isolab accepts LAUNCH and LAUNCH_GROUP)`);
}

// ---- writing calls (the HTTP framework driver) ----------------------------------------------------

/** The JSON of a call from a framework. */
export function callJson(frameworkId: string | undefined, type: string, body: Json = {}): Json {
  return { ...(frameworkId === undefined ? {} : { framework_id: id(frameworkId) }), type, ...body };
}

/** Filters as the wire writes them. */
export function wireFilters(f: Filters | undefined): Json | undefined {
  return f?.refuseSeconds === undefined ? undefined : { refuse_seconds: f.refuseSeconds };
}

/** A SUBSCRIBE call for isolab's FrameworkInfo. */
export function subscribeJson(info: FrameworkInfo, user: string, principal?: string): Json {
  const fi: Json = { user, name: info.name };
  if (info.id !== undefined) fi.id = id(info.id);
  if (info.failoverTimeoutSeconds !== undefined) fi.failover_timeout = info.failoverTimeoutSeconds;
  if (info.partitionAware) fi.capabilities = [{ type: 'PARTITION_AWARE' }];
  if (info.minAllocatableResources) {
    const quantities = info.minAllocatableResources.map((q) => ({ quantities: { cpus: { value: q.cpus }, mem: { value: q.mem } } }));
    fi.offer_filters = { '*': { min_allocatable_resources: { quantities } } };
  }
  if (principal !== undefined) fi.principal = principal;
  return callJson(info.id, 'SUBSCRIBE', { subscribe: { framework_info: fi } });
}
