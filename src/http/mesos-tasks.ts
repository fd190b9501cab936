/**
 * Tasks, offers and status updates between isolab's types and Mesos' v1 JSON: TaskInfo ↔ TaskLaunch
 * (with the backend chosen from the container or a label), Offer ↔ Offer, TaskStatus ↔ TaskStatus.
 *
 * A TaskInfo is one of:
 * - a command task: `command` (Mesos' CommandInfo) runs with isolab's executor in `command` mode on
 *   the chosen backend, so every backend runs it the same way;
 * - an isolab executor task: `executor.executor_id.value` is `isolab` and `data` is the base64 of
 *   the ExecutorTask JSON (how a Mesos custom executor gets its task).
 * The backend comes from the label `isolab.backend` when given (a backend name: process, docker,
 * gvisor, vm, docker:RUNTIME), else from `container.type` (MESOS: the agent's plain-process
 * backend, DOCKER: its container backend, found by the backends' descriptors), else MESOS.
 */
import type { BackendDescriptor, IsolationKind } from '../backends/descriptor.js';
import { commandProblem, EXECUTOR_MODES, type CommandSpec, type ExecutorTask } from '../executor/protocol.js';
import { DOCKER_REPO } from '../image/layout.js';
import type { Offer, TaskLaunch, TaskStatus } from '../master/types.js';
import {
  boolField, field, id, idField, item, listField, numberField, objectField, readResources, reasonOf, show, sourceOf, stateOf,
  stringField, wireReason, wireResources, wireState, WireError, type Json,
} from './mesos-json.js';

/** Label naming the backend a task runs on. */
export const BACKEND_LABEL = 'isolab.backend';

/** ExecutorInfo id that marks an isolab executor task (its ExecutorTask is in TaskInfo.data). */
export const ISOLAB_EXECUTOR_ID = 'isolab';

/** Offer attribute listing the agent's backends, comma-separated. */
export const BACKENDS_ATTRIBUTE = 'isolab.backends';

/** The isolation kind each Mesos container type stands for. */
export const CONTAINER_KINDS: Readonly<Record<string, IsolationKind>> = { MESOS: 'process', DOCKER: 'container' };

/** What choosing a task's backend needs. */
export interface LaunchContext {
  /** Backends of the offers' agent; undefined when the offers are not known (the master then refuses the launch). */
  backends?: readonly string[];
  /** The descriptor of a backend name, or undefined for a name this build does not know. */
  describe(name: string): BackendDescriptor | undefined;
}

/** A TaskInfo read as a launch, or why it cannot launch (answered TASK_ERROR). */
export type LaunchOrError = { ok: true; launch: TaskLaunch } | { ok: false; taskId: string; message: string };

/** Largest TaskInfo.data accepted (bytes, decoded). */
const MAX_DATA_BYTES = 1 << 20;

function labelsOf(ti: Json, at: string): Map<string, string> {
  const out = new Map<string, string>();
  const l = objectField(ti, 'labels', at);
  if (!l) return out;
  listField(l, 'labels', `${at}.labels`).forEach((v, i) => {
    const x = item(v, `${at}.labels.labels[${i}]`);
    out.set(stringField(x, 'key', `${at}.labels.labels[${i}]`, true), stringField(x, 'value', `${at}.labels.labels[${i}]`) ?? '');
  });
  return out;
}

/** The backend of a kind among an agent's backends (least isolated first), or undefined. */
function backendOfKind(kind: IsolationKind, ctx: LaunchContext): string | undefined {
  const fits = (ctx.backends ?? [])
    .map((name) => ({ name, d: ctx.describe(name) }))
    .filter((b) => b.d?.kind === kind)
    .sort((a, b) => a.d!.isolationOrder - b.d!.isolationOrder);
  return fits[0]?.name;
}

function chooseBackend(ti: Json, labels: Map<string, string>, ctx: LaunchContext, at: string): string {
  const named = labels.get(BACKEND_LABEL);
  const container = objectField(ti, 'container', at);
  if (container) {
    const docker = objectField(container, 'docker', `${at}.container`);
    const image = docker ? stringField(docker, 'image', `${at}.container.docker`) : undefined;
    if (image && image !== DOCKER_REPO && !image.startsWith(`${DOCKER_REPO}:`)) {
      throw new WireError(`container.docker.image ${show(image)} is not available: isolab runs tasks in its guest image "${DOCKER_REPO}" (busybox and node) and pulls nothing`);
    }
    const mesos = objectField(container, 'mesos', `${at}.container`);
    if (mesos && objectField(mesos, 'image', `${at}.container.mesos`)) throw new WireError('container.mesos.image is not supported: isolab runs tasks in its guest image and pulls nothing');
  }
  if (named !== undefined) {
    if (!ctx.describe(named)) throw new WireError(`label ${BACKEND_LABEL}=${show(named)} names no backend this master knows`);
    return named;
  }
  const type = container ? stringField(container, 'type', `${at}.container`) ?? 'MESOS' : 'MESOS';
  const kind = CONTAINER_KINDS[type];
  if (!kind) throw new WireError(`container.type ${show(type)} is not supported (MESOS or DOCKER, or the label ${BACKEND_LABEL})`);
  if (ctx.backends === undefined) return '';
  const b = backendOfKind(kind, ctx);
  if (!b) throw new WireError(`container.type ${type} needs a ${kind} backend; the agent has ${ctx.backends.join(', ') || 'none'}`);
  return b;
}

function commandOf(c: Json, at: string): CommandSpec {
  if (listField(c, 'uris', at).length > 0) throw new WireError(`${at}.uris: isolab agents do not fetch URIs`);
  const shell = boolField(c, 'shell', at) ?? true;
  const spec: CommandSpec = { value: stringField(c, 'value', at) ?? '' };
  if (!shell) spec.shell = false;
  const args = listField(c, 'arguments', at);
  if (args.length > 0) {
    if (!args.every((a) => typeof a === 'string')) throw new WireError(`${at}.arguments must be a list of strings`);
    spec.arguments = args as string[];
  }
  const env = objectField(c, 'environment', at);
  if (env) {
    const vars: Record<string, string> = {};
    listField(env, 'variables', `${at}.environment`).forEach((v, i) => {
      const x = item(v, `${at}.environment.variables[${i}]`);
      const type = stringField(x, 'type', `${at}.environment.variables[${i}]`) ?? 'VALUE';
      if (type !== 'VALUE') throw new WireError(`${at}.environment.variables[${i}].type ${show(type)} is not supported (VALUE only)`);
      vars[stringField(x, 'name', `${at}.environment.variables[${i}]`, true)] = stringField(x, 'value', `${at}.environment.variables[${i}]`) ?? '';
    });
    if (Object.keys(vars).length > 0) spec.environment = vars;
  }
  const problem = commandProblem(spec);
  if (problem) throw new WireError(problem);
  return spec;
}

function executorTaskOf(ti: Json, taskId: string, at: string): ExecutorTask {
  const data = stringField(ti, 'data', at);
  if (data === undefined) throw new WireError(`an isolab executor task carries its ExecutorTask in ${at}.data (base64 JSON)`);
  const raw = Buffer.from(data, 'base64');
  if (raw.length > MAX_DATA_BYTES) throw new WireError(`${at}.data is larger than ${MAX_DATA_BYTES} bytes`);
  let t: unknown;
  try {
    t = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new WireError(`${at}.data is not the base64 of an ExecutorTask JSON`);
  }
  const o = item(t, `${at}.data`);
  if (o.taskId !== taskId) throw new WireError(`${at}.data: the ExecutorTask's taskId ${show(o.taskId)} is not the task's id`);
  if (!(EXECUTOR_MODES as readonly unknown[]).includes(o.mode)) throw new WireError(`${at}.data: unknown executor mode ${show(o.mode)} (known: ${EXECUTOR_MODES.join(', ')})`);
  if (o.mode === 'command') {
    const problem = commandProblem(o.command);
    if (problem) throw new WireError(`${at}.data: ${problem}`);
  }
  return o as unknown as ExecutorTask;
}

/**
 * Reads one TaskInfo of an ACCEPT as a launch for the master. Problems the master would not see
 * (no command and no executor, both, an unknown label, a container or resource isolab does not have,
 * unsupported health checks) come back as errors; the master validates the rest (ids, resources
 * against the offers, the backend against the agent).
 */
export function launchOf(ti: Json, ctx: LaunchContext, at: string, groupExecutor?: Json): LaunchOrError {
  const rawId = field(ti, 'task_id');
  const taskId = rawId && typeof rawId === 'object' && typeof (rawId as Json).value === 'string' ? ((rawId as Json).value as string) : '';
  try {
    idField(ti, 'task_id', at, true);
    const name = stringField(ti, 'name', at);
    const agentId = idField(ti, 'agent_id', at);
    const resources = readResources(listField(ti, 'resources', at), `${at}.resources`);
    if (objectField(ti, 'health_check', at)) throw new WireError('health checks are not supported by isolab');
    if (objectField(ti, 'check', at)) throw new WireError('checks are not supported by isolab');
    const labels = labelsOf(ti, at);
    const command = objectField(ti, 'command', at);
    const executor = objectField(ti, 'executor', at) ?? groupExecutor;
    let payload: ExecutorTask;
    if (command && objectField(ti, 'executor', at)) throw new WireError('a task has a command or an executor, not both');
    if (command) payload = { taskId, mode: 'command', command: commandOf(command, `${at}.command`) };
    else if (executor) {
      const eid = idField(executor, 'executor_id', `${at}.executor`, true);
      if (eid !== ISOLAB_EXECUTOR_ID) {
        throw new WireError(`executor ${show(eid)} is not available: isolab runs command tasks and its own executor (executor_id "${ISOLAB_EXECUTOR_ID}", task in data)`);
      }
      payload = executorTaskOf(ti, taskId, at);
    } else throw new WireError('a task needs a command or an executor');
    const backend = chooseBackend(ti, labels, ctx, at);
    const launch: TaskLaunch = { taskId, resources, backend, payload };
    if (name !== undefined) launch.name = name;
    if (agentId !== undefined) launch.agentId = agentId;
    const mct = objectField(ti, 'max_completion_time', at);
    if (mct) {
      const ns = numberField(mct, 'nanoseconds', `${at}.max_completion_time`) ?? 0;
      if (!(ns > 0)) throw new WireError('max_completion_time must be positive');
      launch.timeoutMs = Math.max(1, Math.round(ns / 1e6));
    }
    return { ok: true, launch };
  } catch (err) {
    if (err instanceof WireError) return { ok: false, taskId, message: err.message };
    throw err;
  }
}

/** A launch as a TaskInfo (the HTTP framework driver): command tasks as CommandInfo, others as isolab executor tasks. */
export function taskInfoJson(l: TaskLaunch, agentId: string): Json {
  const ti: Json = { name: l.name ?? l.taskId, task_id: id(l.taskId), agent_id: id(agentId), resources: wireResources(l.resources) };
  const p = l.payload as ExecutorTask | undefined;
  if (p?.mode === 'command' && p.command) {
    const c: Json = { value: p.command.value, shell: p.command.shell !== false };
    if (p.command.arguments) c.arguments = p.command.arguments;
    if (p.command.environment) c.environment = { variables: Object.entries(p.command.environment).map(([name, value]) => ({ name, value })) };
    ti.command = c;
  } else {
    ti.executor = { executor_id: id(ISOLAB_EXECUTOR_ID), type: 'CUSTOM', name: 'isolab executor', source: 'isolab' };
    ti.data = Buffer.from(JSON.stringify(l.payload ?? null)).toString('base64');
  }
  ti.labels = { labels: [{ key: BACKEND_LABEL, value: l.backend }] };
  if (l.timeoutMs !== undefined) ti.max_completion_time = { nanoseconds: Math.round(l.timeoutMs * 1e6) };
  return ti;
}

// ---- offers ---------------------------------------------------------------------------------------

/** Where an offer's agent is reached (Mesos' Offer.url). */
export interface AgentUrl {
  /** Agent's host name. */
  hostname: string;
  /** Its IP address. */
  ip: string;
  /** Its port. */
  port: number;
}

/** An offer in Mesos' JSON, with `url` set as Mesos sets it and the agent's backends as an attribute. */
export function offerJson(o: Offer, url: AgentUrl): Json {
  return {
    id: id(o.id), framework_id: id(o.frameworkId), agent_id: id(o.agentId), hostname: o.hostname,
    url: { scheme: 'http', address: { hostname: url.hostname, ip: url.ip, port: url.port }, path: '/agent' },
    resources: wireResources(o.resources),
    attributes: [{ name: BACKENDS_ATTRIBUTE, type: 'TEXT', text: { value: o.backends.join(',') } }],
  };
}

/** A wire offer as isolab's Offer; `now` stamps it (the wire carries no creation time). */
export function offerOf(j: unknown, now: number): Offer {
  const o = item(j, 'offer');
  const backends: string[] = [];
  listField(o, 'attributes', 'offer').forEach((v, i) => {
    const a = item(v, `offer.attributes[${i}]`);
    if (a.name !== BACKENDS_ATTRIBUTE) return;
    const text = objectField(a, 'text', `offer.attributes[${i}]`);
    const value = text ? stringField(text, 'value', `offer.attributes[${i}].text`) ?? '' : '';
    backends.push(...value.split(',').filter(Boolean));
  });
  return {
    id: idField(o, 'id', 'offer', true), frameworkId: idField(o, 'framework_id', 'offer', true), agentId: idField(o, 'agent_id', 'offer', true),
    hostname: stringField(o, 'hostname', 'offer') ?? '', resources: readScalarsLoosely(listField(o, 'resources', 'offer')), backends, createdAt: now,
  };
}

/** cpus and mem of an offer's resources, ignoring the kinds isolab does not use (disk, ports on a Mesos agent). */
function readScalarsLoosely(list: unknown[]): { cpus: number; mem: number } {
  const out = { cpus: 0, mem: 0 };
  for (const v of list) {
    const r = v as Json;
    if (r && (r.name === 'cpus' || r.name === 'mem') && (r.type ?? 'SCALAR') === 'SCALAR') {
      const x = Number((r.scalar as Json | undefined)?.value);
      if (Number.isFinite(x)) out[r.name] += x;
    }
  }
  return { cpus: Math.round(out.cpus * 1000) / 1000, mem: Math.round(out.mem * 1000) / 1000 };
}

// ---- status updates -------------------------------------------------------------------------------

/**
 * A status update in Mesos' JSON. `uuid` (base64 of 16 bytes) is set when the framework must
 * acknowledge it. Terminal updates carry the agent's result data (TaskResultData) as base64 JSON in `data`.
 */
export function statusJson(s: TaskStatus, uuid?: string): Json {
  const j: Json = { task_id: id(s.taskId), state: wireState(s.state), source: sourceOf(s.agentId, s.reason) };
  if (s.agentId !== '') {
    j.agent_id = id(s.agentId);
    j.executor_id = id(s.taskId);
  }
  if (s.message !== undefined) j.message = s.message;
  const reason = wireReason(s.reason);
  if (reason) j.reason = reason;
  if (s.data !== undefined) j.data = Buffer.from(JSON.stringify(s.data)).toString('base64');
  if (uuid) j.uuid = uuid;
  j.timestamp = s.timestamp / 1000;
  return j;
}

/**
 * A wire status as isolab's TaskStatus. `uuid` stays the wire's base64 (what ACKNOWLEDGE echoes),
 * empty when none; `data` is parsed back from JSON when it is JSON, else kept as bytes.
 */
export function statusOf(j: unknown, frameworkId: string): TaskStatus {
  const o = item(j, 'status');
  const wire = stringField(o, 'state', 'status', true);
  const state = stateOf(wire);
  if (!state) throw new WireError(`status.state ${show(wire)} is not a task state`);
  const s: TaskStatus = {
    taskId: idField(o, 'task_id', 'status', true), frameworkId, agentId: idField(o, 'agent_id', 'status') ?? '', state,
    uuid: stringField(o, 'uuid', 'status') ?? '', timestamp: (numberField(o, 'timestamp', 'status') ?? 0) * 1000,
  };
  const message = stringField(o, 'message', 'status');
  if (message !== undefined) s.message = message;
  const reason = reasonOf(stringField(o, 'reason', 'status'));
  if (reason !== undefined) s.reason = reason;
  const data = stringField(o, 'data', 'status');
  if (data !== undefined) {
    const raw = Buffer.from(data, 'base64');
    try {
      s.data = JSON.parse(raw.toString('utf8'));
    } catch {
      s.data = raw;
    }
  }
  return s;
}
