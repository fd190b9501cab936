import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Timer } from '../master/clock.js';
import type { Master } from '../master/master.js';
import { isTaskState } from '../master/task-state.js';
import type { AgentDriver, AgentInfo, AgentTaskReport, LaunchedTask, TaskStatus } from '../master/types.js';
import { invalidAgentInfo } from '../master/validation.js';
import { asciiJson, encodeRecord } from './recordio.js';
import { ApiError } from './scheduler-api.js';

/** Path of the agent API (also served under /master). */
export const AGENT_PATH = '/api/v1/agent';

/** Largest agent call body (bytes): a terminal status update carries a map's partial counts. More gets 413. */
export const MAX_AGENT_CALL_BYTES = 64 * 2 ** 20;

/** Header naming the agent's subscription on its UPDATE and PONG calls. */
export const AGENT_STREAM_HEADER = 'isolab-agent-stream-id';

/** Agent ids an agent may choose: what a file name and a URL carry without escaping. */
export const AGENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Default seconds between HEARTBEAT events on an agent's stream. */
export const DEFAULT_AGENT_HEARTBEAT_SECONDS = 5;

/**
 * A call an agent POSTs to /api/v1/agent (JSON; field shapes are those of src/master/types.ts).
 * SUBSCRIBE opens the agent's event stream; UPDATE, PONG and UNREGISTER (the agent stops: the master
 * removes it, its tasks are lost) name it with the stream header.
 */
export type AgentCall =
  | { type: 'SUBSCRIBE'; agentId: string; info: AgentInfo; tasks?: AgentTaskReport[] }
  | { type: 'UPDATE'; agentId: string; status: TaskStatus }
  | { type: 'PONG'; agentId: string }
  | { type: 'UNREGISTER'; agentId: string; reason?: string };

/** An event on an agent's stream (RecordIO, one JSON object per record). */
export type AgentEvent =
  | { type: 'SUBSCRIBED'; agentId: string; heartbeatIntervalSeconds: number }
  | { type: 'LAUNCH'; task: LaunchedTask }
  | { type: 'KILL'; taskId: string; frameworkId?: string }
  | { type: 'RECONCILE'; tasks: { taskId: string; frameworkId: string }[] }
  | { type: 'PING' }
  | { type: 'HEARTBEAT' }
  | { type: 'SHUTDOWN'; reason: string };

/** Settings of the agent API. */
export interface AgentApiOptions {
  /** Seconds between HEARTBEAT events on each agent's stream (the agent re-subscribes after 3 silent intervals). Default 5. */
  heartbeatSeconds?: number;
  /** Where internal problems are logged. */
  log?: (line: string) => void;
}

/**
 * The master's view of an agent in another process: an AgentDriver whose calls become events on the
 * agent's current stream. One per agent id, kept across re-subscriptions, so the master core sees
 * the same driver when the agent comes back. Calls made while the agent has no stream are dropped:
 * the master resends kills, and a launch that never arrived is reconciled when the agent re-registers.
 */
export class RemoteAgent implements AgentDriver {
  /** The principal that first subscribed this agent id. */
  principal: string | undefined;
  /** The current stream's id. */
  streamId?: string;
  private res?: ServerResponse;
  private heartbeat?: Timer;

  constructor(
    readonly id: string,
    private readonly api: AgentApi,
  ) {}

  launch(task: LaunchedTask): void {
    this.send({ type: 'LAUNCH', task });
  }

  kill(taskId: string, frameworkId?: string): void {
    this.send({ type: 'KILL', taskId, frameworkId });
  }

  ping(): void {
    this.send({ type: 'PING' });
  }

  shutdown(reason: string): void {
    this.send({ type: 'SHUTDOWN', reason });
    this.detach();
  }

  reconcile(tasks: readonly { taskId: string; frameworkId: string }[]): void {
    this.send({ type: 'RECONCILE', tasks: tasks.map((t) => ({ taskId: t.taskId, frameworkId: t.frameworkId })) });
  }

  /** True while a stream is open. */
  get attached(): boolean {
    return this.res !== undefined;
  }

  /** Makes `res` the agent's stream (ending an older one) and writes the 200 head. */
  attach(res: ServerResponse): string {
    this.detach();
    const streamId = randomUUID();
    this.res = res;
    this.streamId = streamId;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Isolab-Agent-Stream-Id': streamId, 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    res.flushHeaders();
    res.on('close', () => {
      if (this.res === res) this.drop();
    });
    res.on('error', () => {});
    const ms = this.api.heartbeatSeconds * 1000;
    const tick = (): void => {
      if (this.res !== res) return;
      this.send({ type: 'HEARTBEAT' });
      this.heartbeat = this.api.master.clock.setTimer(ms, tick);
    };
    this.heartbeat = this.api.master.clock.setTimer(ms, tick);
    return streamId;
  }

  /** Writes one event on the current stream, if any. */
  send(event: AgentEvent): void {
    const res = this.res;
    if (!res || res.destroyed) return;
    res.write(encodeRecord(asciiJson(event)));
  }

  /** Ends the current stream from the master's side. */
  detach(): void {
    const res = this.res;
    this.drop();
    if (res && !res.destroyed) res.end();
  }

  private drop(): void {
    this.heartbeat?.cancel();
    this.heartbeat = undefined;
    this.res = undefined;
    this.streamId = undefined;
  }
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Reads an agent call; throws ApiError(400) saying what is wrong. */
export function parseAgentCall(json: unknown): AgentCall {
  if (!isObj(json)) throw new ApiError(400, 'an agent call is a JSON object with "type"');
  const { type, agentId } = json;
  if (type !== 'SUBSCRIBE' && type !== 'UPDATE' && type !== 'PONG' && type !== 'UNREGISTER') {
    throw new ApiError(400, `unknown agent call type ${JSON.stringify(type)?.slice(0, 32)} (SUBSCRIBE, UPDATE, PONG, UNREGISTER)`);
  }
  if (typeof agentId !== 'string' || !AGENT_ID_PATTERN.test(agentId)) throw new ApiError(400, 'agentId must be 1-64 of A-Z a-z 0-9 . _ - (starting with a letter or digit)');
  if (type === 'PONG') return { type, agentId };
  if (type === 'UNREGISTER') return { type, agentId, reason: typeof json.reason === 'string' ? json.reason.slice(0, 200) : undefined };
  if (type === 'UPDATE') {
    const s = json.status;
    if (!isObj(s) || typeof s.taskId !== 'string' || typeof s.frameworkId !== 'string' || typeof s.uuid !== 'string' || !isTaskState(s.state)) {
      throw new ApiError(400, 'status must have taskId, frameworkId, uuid (strings) and a task state');
    }
    if (s.agentId !== agentId) throw new ApiError(400, 'status.agentId must be the calling agent');
    return { type, agentId, status: s as unknown as TaskStatus };
  }
  const info = json.info as AgentInfo;
  const bad = invalidAgentInfo(info);
  if (bad) throw new ApiError(400, `invalid agent info: ${bad}`);
  const tasks = json.tasks;
  if (tasks !== undefined && !(Array.isArray(tasks) && tasks.every((t) => isObj(t) && typeof t.taskId === 'string' && typeof t.frameworkId === 'string' && isTaskState(t.state)))) {
    throw new ApiError(400, 'tasks must be a list of {taskId, frameworkId, state}');
  }
  return { type, agentId, info, tasks: tasks as AgentTaskReport[] | undefined };
}

/**
 * isolab's agent API over a master: agents in other processes (`isolab agent`) SUBSCRIBE with their
 * info and the tasks they have, and keep the answer open as a RecordIO stream of events (launch, kill,
 * reconcile, ping, heartbeat, shutdown); each agent is one RemoteAgent driver to the master core.
 * UPDATE hands a status update to the master and answers 200 once it is applied: that answer is the
 * acknowledgement the agent's status update manager waits for. An agent that is not registered now
 * (unreachable, or never subscribed) gets 409 and subscribes again.
 */
export class AgentApi {
  /** Seconds between heartbeats. */
  readonly heartbeatSeconds: number;
  private readonly agents = new Map<string, RemoteAgent>();

  constructor(
    readonly master: Master,
    private readonly opts: AgentApiOptions = {},
  ) {
    this.heartbeatSeconds = opts.heartbeatSeconds ?? DEFAULT_AGENT_HEARTBEAT_SECONDS;
    if (!(this.heartbeatSeconds > 0)) throw new Error('heartbeatSeconds must be > 0');
  }

  /** Agents with an open stream now. */
  get streams(): number {
    let n = 0;
    for (const a of this.agents.values()) if (a.attached) n++;
    return n;
  }

  /** Answers one POST whose body has been read. Throws ApiError for 4xx answers (nothing written then). */
  handle(req: IncomingMessage, res: ServerResponse, body: Buffer, principal: string | undefined): void {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') throw new ApiError(415, 'Content-Type must be application/json');
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw new ApiError(400, `malformed JSON: ${(err as Error).message.split('\n')[0]!.slice(0, 120)}`);
    }
    const call = parseAgentCall(json);
    const known = this.agents.get(call.agentId);
    if (known && known.principal !== principal) throw new ApiError(403, `agent ${call.agentId} was subscribed by another principal`);
    if (call.type === 'SUBSCRIBE') return this.subscribe(call, res, principal);
    const header = req.headers[AGENT_STREAM_HEADER];
    const streamId = Array.isArray(header) ? header[0] : header;
    if (!known || !known.attached || streamId !== known.streamId || this.master.agentStatus(call.agentId) !== 'registered') {
      throw new ApiError(409, `agent ${call.agentId} is not subscribed on this stream: SUBSCRIBE again`);
    }
    if (call.type === 'PONG') {
      this.master.pong(call.agentId);
      res.writeHead(202, { 'Content-Length': 0, 'Cache-Control': 'no-store' });
      res.end();
      return;
    }
    if (call.type === 'UNREGISTER') {
      this.agents.delete(call.agentId);
      known.detach();
      this.master.removeAgent(call.agentId, call.reason ?? 'the agent stopped');
      res.writeHead(202, { 'Content-Length': 0, 'Cache-Control': 'no-store' });
      res.end();
      return;
    }
    this.master.statusUpdate(call.status);
    const text = JSON.stringify({ acknowledged: call.status.uuid }) + '\n';
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
    res.end(text);
  }

  /** Ends every agent stream (the server is closing). */
  closeAll(): void {
    for (const a of this.agents.values()) a.detach();
  }

  private subscribe(call: Extract<AgentCall, { type: 'SUBSCRIBE' }>, res: ServerResponse, principal: string | undefined): void {
    const id = call.agentId;
    if (this.master.agentStatus(id) === 'gone') {
      throw new ApiError(403, `agent ${id} was marked gone: it must not run tasks; shut down its tasks and register under a new id`);
    }
    if (!this.agents.has(id) && this.master.agentStatus(id) !== 'unknown') throw new ApiError(409, `agent id ${id} is in use by another agent`);
    let agent = this.agents.get(id);
    if (!agent) {
      agent = new RemoteAgent(id, this);
      agent.principal = principal;
    }
    const info: AgentInfo = { ...call.info, tasks: call.tasks ?? [] };
    // The stream is attached first, so kills the master sends while reconciling the report reach the agent.
    const fresh = !this.agents.has(id);
    agent.attach(res);
    agent.send({ type: 'SUBSCRIBED', agentId: id, heartbeatIntervalSeconds: this.heartbeatSeconds });
    try {
      this.master.registerAgent(info, agent, id);
    } catch (err) {
      agent.detach();
      if (fresh) this.agents.delete(id);
      const message = (err as Error).message.split('\n')[0]!;
      this.opts.log?.(`isolab: agent api: ${message}`);
      // Too late for a 4xx: the head is out. The agent sees its stream end and subscribes again.
      return;
    }
    this.agents.set(id, agent);
  }
}
