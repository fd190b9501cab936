import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import { isIPv4 } from 'node:net';
import type { BackendDescriptor } from '../backends/descriptor.js';
import { registry } from '../backends/registry.js';
import type { Timer } from '../master/clock.js';
import type { Master } from '../master/master.js';
import type { FrameworkDriver, Offer, Scheduler, TaskLaunch, TaskStatus } from '../master/types.js';
import { parseCall, type FrameworkCall, type SubscribeCall } from './mesos-calls.js';
import {
  errorEvent, failureEvent, heartbeatEvent, offersEvent, rescindEvent, subscribedEvent, updateEvent, type MasterInfoJson,
} from './mesos-events.js';
import { WireError, type Json } from './mesos-json.js';
import { launchOf, offerJson, statusJson, type AgentUrl } from './mesos-tasks.js';
import { asciiJson, encodeRecord } from './recordio.js';

/** Path of the scheduler API (also served under /master). */
export const SCHEDULER_PATH = '/api/v1/scheduler';

/** Largest call body (bytes); more gets 413. */
export const MAX_CALL_BYTES = 1 << 20;

/** Default heartbeat interval (s): under the 10 s connection timeout of common clients (Mesos' own default is 15 s). */
export const DEFAULT_HEARTBEAT_SECONDS = 5;

/** isolab's version in MasterInfo. */
const VERSION = '0.1.0';

/** Settings of the scheduler API. */
export interface SchedulerApiOptions {
  /** Seconds between HEARTBEAT events on each stream. Default 5. */
  heartbeatSeconds?: number;
  /** Descriptor of a backend name (for `container.type` and the `isolab.backend` label); the registry's when omitted. */
  describe?: (name: string) => BackendDescriptor | undefined;
  /**
   * Where an offer's agent is reached (Offer.url). Default: the address the framework reached the
   * master on (agents of `isolab master` run inside it). Agents on other hosts give their own.
   */
  agentUrl?: (offer: Offer, master: { ip: string; port: number }) => AgentUrl;
  /** A stream whose unsent events exceed this many bytes is dropped (the framework is disconnected). Default 64 MiB. */
  maxQueuedBytes?: number;
  /** Where internal errors are logged. */
  log?: (line: string) => void;
}

/** An HTTP error of the scheduler API: status and one-line reason. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Uuids are kept for acknowledgements at most this many per stream (the oldest go first). */
const MAX_PENDING_UUIDS = 100_000;

/** The 16-byte wire uuid of an internal update id: the same for every resend of the update. */
function wireUuid(internal: string): string {
  return createHash('sha256').update(internal).digest().subarray(0, 16).toString('base64');
}

/**
 * One SUBSCRIBE connection: the master's scheduler for this framework. Each callback becomes an
 * event on the RecordIO stream; HEARTBEATs keep it alive. It remembers the offers it sent (whose
 * agents' backends an ACCEPT's tasks are checked against) and the uuids of updates awaiting
 * acknowledgement.
 */
class Subscription implements Scheduler {
  readonly streamId = randomUUID();
  frameworkId = '';
  driver?: FrameworkDriver;
  closed = false;
  /** Offers sent and not yet answered or rescinded. */
  readonly offers = new Map<string, Offer>();
  /** Wire uuid → the update's task and internal uuid. */
  readonly uuids = new Map<string, { taskId: string; uuid: string }>();
  private heartbeat?: Timer;
  private started = false;

  constructor(
    private readonly api: SchedulerApi,
    private readonly res: ServerResponse,
    readonly principal: string | undefined,
    private readonly address: { ip: string; port: number },
  ) {}

  registered(driver: FrameworkDriver): void {
    this.driver = driver;
    this.frameworkId = driver.frameworkId;
    this.send(subscribedEvent(driver.frameworkId, this.api.heartbeatSeconds, this.api.masterInfo(this.address)));
    this.scheduleHeartbeat();
  }

  resourceOffers(_driver: FrameworkDriver, offers: Offer[]): void {
    for (const o of offers) this.offers.set(o.id, o);
    this.send(offersEvent(offers.map((o) => offerJson(o, this.api.agentUrl(o, this.address)))));
  }

  offerRescinded(_driver: FrameworkDriver, offerId: string): void {
    this.offers.delete(offerId);
    this.send(rescindEvent(offerId));
  }

  statusUpdate(_driver: FrameworkDriver, status: TaskStatus): void {
    let uuid: string | undefined;
    if (status.uuid) {
      uuid = wireUuid(status.uuid);
      this.uuids.delete(uuid);
      this.uuids.set(uuid, { taskId: status.taskId, uuid: status.uuid });
      if (this.uuids.size > MAX_PENDING_UUIDS) this.uuids.delete(this.uuids.keys().next().value!);
    }
    this.send(updateEvent(statusJson(status, uuid)));
  }

  agentLost(_driver: FrameworkDriver, agentId: string): void {
    for (const [id, o] of this.offers) if (o.agentId === agentId) this.offers.delete(id);
    this.send(failureEvent(agentId));
  }

  /** The master ended this registration (removed, or failed over to another stream): ERROR, then the stream closes. */
  error(_driver: FrameworkDriver, message: string): void {
    this.send(errorEvent(message));
    this.end();
  }

  /** An update the adapter makes itself: a TaskInfo it could not read (TASK_ERROR, nothing to acknowledge). */
  invalidTask(taskId: string, message: string): void {
    this.send(updateEvent(statusJson({
      taskId, frameworkId: this.frameworkId, agentId: '', state: 'error', uuid: '', timestamp: this.api.master.clock.now(), message, reason: 'task_invalid',
    })));
  }

  /** Sends one event as one record, in one chunk. A stream too far behind is dropped. */
  send(event: Json): void {
    if (this.closed) return;
    this.open();
    this.res.write(encodeRecord(asciiJson(event)));
    if (this.res.writableLength > this.api.maxQueuedBytes) {
      this.api.log(`isolab: api: framework ${this.frameworkId}: stream ${this.res.writableLength} bytes behind; dropping it`);
      this.res.destroy();
    }
  }

  /** Writes the 200 head (once): chunked, with the stream id. */
  open(): void {
    if (this.started) return;
    this.started = true;
    this.res.writeHead(200, { 'Content-Type': 'application/json', 'Mesos-Stream-Id': this.streamId, 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    this.res.flushHeaders();
  }

  /** Ends the stream from the master's side. */
  end(): void {
    if (this.closed) return;
    this.open();
    this.res.end();
    this.stop();
  }

  /** Stops heartbeats and marks the stream closed (no more events). */
  stop(): void {
    this.closed = true;
    this.heartbeat?.cancel();
    this.heartbeat = undefined;
    this.offers.clear();
  }

  private scheduleHeartbeat(): void {
    this.heartbeat?.cancel();
    const ms = this.api.heartbeatSeconds * 1000;
    const tick = (): void => {
      if (this.closed) return;
      this.send(heartbeatEvent());
      this.heartbeat = this.api.master.clock.setTimer(ms, tick);
    };
    this.heartbeat = this.api.master.clock.setTimer(ms, tick);
  }
}

/**
 * Mesos' v1 scheduler HTTP API over a master: an adapter that turns SUBSCRIBE into a registration
 * whose Scheduler callbacks become events on the subscription's stream, and each other call into
 * the FrameworkDriver call it names. A stream that closes disconnects its framework (the master
 * rescinds its offers and tears it down after its failover timeout). Authentication is the
 * server's business: it passes the request's principal, which a framework keeps for its calls.
 */
export class SchedulerApi {
  /** Seconds between heartbeats. */
  readonly heartbeatSeconds: number;
  /** Stream size limit (bytes). */
  readonly maxQueuedBytes: number;
  private readonly describe: (name: string) => BackendDescriptor | undefined;
  private readonly streams = new Map<string, Subscription>();
  /** Framework id → its current subscription. */
  private readonly current = new Map<string, Subscription>();
  /** Frameworks registered through this API, with the principal that registered them. */
  private readonly owners = new Map<string, string | undefined>();
  private readonly opts: SchedulerApiOptions;

  constructor(
    readonly master: Master,
    opts: SchedulerApiOptions = {},
  ) {
    this.opts = opts;
    this.heartbeatSeconds = opts.heartbeatSeconds ?? DEFAULT_HEARTBEAT_SECONDS;
    if (!(this.heartbeatSeconds > 0)) throw new Error('heartbeatSeconds must be > 0');
    this.maxQueuedBytes = opts.maxQueuedBytes ?? 64 * 2 ** 20;
    this.describe = opts.describe ?? defaultDescribe;
  }

  /** Number of open subscriptions. */
  get subscriptions(): number {
    return this.streams.size;
  }

  /** Where an offer's agent is reached. */
  agentUrl(offer: Offer, master: { ip: string; port: number }): AgentUrl {
    return this.opts.agentUrl?.(offer, master) ?? { hostname: offer.hostname, ip: master.ip, port: master.port };
  }

  /** MasterInfo for SUBSCRIBED, with the address the framework reached the master on. */
  masterInfo(address: { ip: string; port: number }): MasterInfoJson {
    const ip = isIPv4(address.ip) ? address.ip.split('.').reduce((n, o) => n * 256 + Number(o), 0) : 0;
    const host = hostname();
    return {
      id: `isolab-master-${Math.round(this.master.startedAt).toString(36)}`, ip, port: address.port, hostname: host, version: VERSION,
      address: { hostname: host, ip: address.ip, port: address.port },
    };
  }

  /** Logs an internal problem. */
  log(line: string): void {
    (this.opts.log ?? ((l: string) => process.stderr.write(l + '\n')))(line);
  }

  /**
   * Answers one POST to the scheduler endpoint whose body has been read: SUBSCRIBE opens a stream on
   * `res`, other calls answer 202. Throws ApiError for 4xx answers (nothing has been written then).
   */
  handle(req: IncomingMessage, res: ServerResponse, body: Buffer, principal: string | undefined): void {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') {
      throw new ApiError(415, `Content-Type must be application/json${type ? `, got "${type.slice(0, 40)}"` : ''} (protobuf is not supported)`);
    }
    const accept = req.headers.accept;
    if (accept !== undefined && !/(^|,)\s*(application\/json|application\/\*|\*\/\*)\s*(;|,|$)/i.test(accept)) {
      throw new ApiError(406, 'this endpoint answers application/json only (send Accept: application/json)');
    }
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw new ApiError(400, `malformed JSON: ${(err as Error).message.split('\n')[0]!.slice(0, 120)}`);
    }
    let call;
    try {
      call = parseCall(json);
    } catch (err) {
      if (err instanceof WireError) throw new ApiError(400, err.message);
      throw err;
    }
    const streamHeader = req.headers['mesos-stream-id'];
    const streamId = Array.isArray(streamHeader) ? streamHeader[0] : streamHeader;
    if (call.type === 'SUBSCRIBE') {
      if (streamId !== undefined) throw new ApiError(400, 'SUBSCRIBE must not carry a Mesos-Stream-Id header');
      this.subscribe(call, req, res, principal);
      return;
    }
    this.call(call, streamId, principal);
    res.writeHead(202, { 'Content-Length': 0, 'Cache-Control': 'no-store' });
    res.end();
  }

  /** Ends every stream (the server is closing); frameworks are disconnected as their streams close. */
  closeAll(): void {
    for (const s of [...this.streams.values()]) s.end();
  }

  private subscribe(call: SubscribeCall, req: IncomingMessage, res: ServerResponse, principal: string | undefined): void {
    const info = call.info;
    if (principal !== undefined && call.principal !== undefined && call.principal !== principal) {
      throw new ApiError(403, `authenticated principal "${principal.slice(0, 32)}" is not the framework_info.principal "${call.principal.slice(0, 32)}"`);
    }
    if (info.id !== undefined) {
      if (this.owners.has(info.id)) {
        if (this.owners.get(info.id) !== principal) throw new ApiError(403, `framework ${info.id.slice(0, 64)} was registered by another principal`);
      } else if (this.master.frameworkList().some((f) => f.id === info.id)) {
        throw new ApiError(403, `framework ${info.id.slice(0, 64)} was not registered through this API`);
      }
    }
    const address = { ip: (req.socket.localAddress ?? '127.0.0.1').replace(/^::ffff:(\d+\.)/, '$1'), port: req.socket.localPort ?? 0 };
    const sub = new Subscription(this, res, principal, address);
    this.streams.set(sub.streamId, sub);
    res.on('close', () => this.closed(sub));
    res.on('error', () => this.closed(sub)); // a write racing the client's disconnect
    try {
      this.master.registerFramework(sub, info);
    } catch (err) {
      this.streams.delete(sub.streamId);
      sub.stop();
      throw new ApiError(400, (err as Error).message.split('\n')[0]!);
    }
    if (sub.closed || !sub.driver) {
      // Refused (e.g. the framework was removed): the ERROR event has been sent and the stream ended.
      this.streams.delete(sub.streamId);
      return;
    }
    this.owners.delete(sub.frameworkId);
    this.owners.set(sub.frameworkId, principal);
    if (this.owners.size > 10_000) this.owners.delete(this.owners.keys().next().value!);
    const old = this.current.get(sub.frameworkId);
    if (old && old !== sub) old.end();
    this.current.set(sub.frameworkId, sub);
  }

  private closed(sub: Subscription): void {
    sub.stop();
    this.streams.delete(sub.streamId);
    if (this.current.get(sub.frameworkId) === sub) {
      this.current.delete(sub.frameworkId);
      this.master.disconnectFramework(sub.frameworkId);
    }
  }

  private call(call: FrameworkCall, streamId: string | undefined, principal: string | undefined): void {
    const fid = call.frameworkId;
    const sub = this.current.get(fid);
    if (!sub || sub.closed) throw new ApiError(403, `framework ${fid.slice(0, 64)} is not subscribed (SUBSCRIBE first)`);
    if (sub.principal !== principal) throw new ApiError(403, `framework ${fid.slice(0, 64)} was subscribed by another principal`);
    if (streamId === undefined) throw new ApiError(400, `${call.type} needs the Mesos-Stream-Id header of the framework's subscription`);
    if (streamId !== sub.streamId) throw new ApiError(400, `Mesos-Stream-Id "${streamId.slice(0, 40)}" is not the stream of framework ${fid.slice(0, 64)}`);
    const d = sub.driver!;
    switch (call.type) {
      case 'TEARDOWN':
        this.current.delete(fid);
        d.teardown();
        sub.end();
        return;
      case 'ACCEPT': {
        const ctx = { backends: sub.offers.get(call.offerIds[0] ?? '')?.backends, describe: this.describe };
        const launches: TaskLaunch[] = [];
        const invalid: { taskId: string; message: string }[] = [];
        call.operations.forEach((op, i) => {
          const read = op.taskInfos.map((ti, j) => launchOf(ti, ctx, `operations[${i}].task_infos[${j}]`, op.executor));
          // A task group launches all of its tasks or none.
          if (op.type === 'LAUNCH_GROUP' && read.some((r) => !r.ok)) {
            const why = read.find((r) => !r.ok) as { message: string };
            for (const r of read) invalid.push({ taskId: r.ok ? r.launch.taskId : r.taskId, message: r.ok ? `task group has an invalid task: ${why.message}` : r.message });
            return;
          }
          for (const r of read) {
            if (r.ok) launches.push(r.launch);
            else invalid.push(r);
          }
        });
        for (const id of call.offerIds) sub.offers.delete(id);
        d.accept(call.offerIds, launches, call.filters);
        for (const x of invalid) sub.invalidTask(x.taskId, x.message);
        return;
      }
      case 'DECLINE':
        for (const id of call.offerIds) sub.offers.delete(id);
        d.decline(call.offerIds, call.filters);
        return;
      case 'REVIVE':
        d.revive();
        return;
      case 'SUPPRESS':
        d.suppress();
        return;
      case 'KILL':
        d.kill(call.taskId);
        return;
      case 'ACKNOWLEDGE': {
        const pending = sub.uuids.get(call.uuid);
        if (pending && pending.taskId === call.taskId) {
          sub.uuids.delete(call.uuid);
          d.acknowledge({ taskId: call.taskId, frameworkId: fid, agentId: call.agentId, state: 'running', uuid: pending.uuid, timestamp: 0 });
        } else {
          // Not an update this stream is waiting on: the master counts it as an invalid acknowledgement.
          d.acknowledge({ taskId: call.taskId, frameworkId: fid, agentId: call.agentId, state: 'running', uuid: `unknown:${call.uuid}`, timestamp: 0 });
        }
        return;
      }
      case 'RECONCILE':
        d.reconcile(call.tasks);
        return;
      case 'SHUTDOWN':
        throw new ApiError(400, 'SHUTDOWN is not supported: each isolab executor runs one task; KILL the task instead');
      case 'MESSAGE':
      case 'REQUEST':
        // MESSAGE: isolab executors take no messages; REQUEST: ignored, as Mesos' allocator ignores it.
        return;
    }
  }
}

function defaultDescribe(name: string): BackendDescriptor | undefined {
  return registry.describe(name);
}
