import { Agent, request, type ClientRequest, type IncomingMessage } from 'node:http';
import { userInfo } from 'node:os';
import { basicAuthorization, type Credential } from '../http/auth.js';
import { callJson, subscribeJson, wireFilters } from '../http/mesos-calls.js';
import { parseEvent } from '../http/mesos-events.js';
import { id, type Json } from '../http/mesos-json.js';
import { offerOf, statusOf, taskInfoJson } from '../http/mesos-tasks.js';
import { RecordIoDecoder } from '../http/recordio.js';
import type { Filters, FrameworkDriver, FrameworkInfo, Offer, Scheduler, TaskLaunch, TaskRef, TaskStatus } from '../master/types.js';
import type { MasterConnection } from './master-connection.js';

/** Settings of an HTTP connection to a master. */
export interface HttpMasterOptions {
  /** Principal and secret for HTTP Basic, when the master requires them. */
  credential?: Credential;
  /** FrameworkInfo.user. Default: the user running this process. */
  user?: string;
  /** Where problems worth a line go (a failed call, a reconnection). Default: stderr. */
  log?: (line: string) => void;
  /** How long to wait for the master to answer a SUBSCRIBE with SUBSCRIBED (ms). Default 10000. */
  subscribeTimeoutMs?: number;
  /** How long one call may take (ms). Default 30000. */
  callTimeoutMs?: number;
  /** Clock time for offers' createdAt (ms). Default: performance time origin + now, as the master's RealClock. */
  now?: () => number;
}

/** Path of the scheduler API. */
const PATH = '/api/v1/scheduler';

const realNow = (): number => performance.timeOrigin + performance.now();

/** A master answered a call with something other than 202 (or a SUBSCRIBE with something other than 200). */
export class MasterRefused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The one-line reason in an error body (`{"error": ...}` from isolab, plain text from Mesos). */
function reasonOf(status: number, body: string): string {
  let text = body.trim();
  try {
    const j = JSON.parse(text) as { error?: unknown };
    if (typeof j?.error === 'string') text = j.error;
  } catch {
    /* plain text */
  }
  const line = (text.split('\n')[0] ?? '').slice(0, 300);
  return `${status}${line ? ` ${line}` : ''}`;
}

/**
 * A framework's connection to a master over Mesos' v1 scheduler HTTP API: SUBSCRIBE opens the event
 * stream (RecordIO), whose events it turns into the scheduler's callbacks; the driver it hands the
 * scheduler turns each call into a POST with the stream's id, sent in order, one at a time. When
 * the stream drops and the framework has a failover timeout, it subscribes again with its id until
 * that timeout passes (the master keeps its tasks meanwhile); launches made while disconnected come
 * back as TASK_DROPPED, as the master would answer offers it rescinded.
 */
export class HttpMasterConnection implements MasterConnection {
  readonly where: string;
  private readonly base: URL;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 4 });
  private readonly frameworks = new Set<HttpFramework>();

  constructor(
    url: string,
    private readonly opts: HttpMasterOptions = {},
  ) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new Error(`master URL "${url.slice(0, 80)}" is not a URL (expected http://HOST:PORT)`);
    }
    if (u.protocol !== 'http:') throw new Error(`master URL ${url.slice(0, 80)}: only http:// is supported`);
    if (u.username || u.password) throw new Error('master URL must not carry credentials: use a credentials file');
    if (u.search || u.hash) throw new Error(`master URL ${url.slice(0, 80)}: no query or fragment expected`);
    this.base = u;
    this.where = u.origin;
  }

  register(scheduler: Scheduler, info: FrameworkInfo): Promise<FrameworkDriver> {
    const f = new HttpFramework(this, scheduler, info);
    this.frameworks.add(f);
    return f.start().catch((err: unknown) => {
      this.frameworks.delete(f);
      f.stop();
      throw err;
    });
  }

  async close(timeoutMs = 10_000): Promise<void> {
    await Promise.all([...this.frameworks].map((f) => f.drain(timeoutMs)));
    for (const f of this.frameworks) f.stop();
    this.frameworks.clear();
    this.agent.destroy();
  }

  /** Writes a line about something that went wrong. */
  log(line: string): void {
    (this.opts.log ?? ((l: string) => process.stderr.write(l + '\n')))(line);
  }

  /** Settings. */
  get options(): HttpMasterOptions {
    return this.opts;
  }

  /** Request options of a POST to the scheduler API. */
  requestOptions(streamId?: string): Parameters<typeof request>[1] {
    const headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'application/json' };
    if (this.opts.credential) headers.Authorization = basicAuthorization(this.opts.credential);
    if (streamId) headers['Mesos-Stream-Id'] = streamId;
    const prefix = this.base.pathname.replace(/\/+$/, '');
    return { method: 'POST', host: this.base.hostname.replace(/^\[|\]$/g, ''), port: this.base.port || 80, path: `${prefix}${PATH}`, headers, agent: this.agent };
  }

  /** The subscription request: its own socket (it stays open), not the pooled ones. */
  subscribeOptions(): Parameters<typeof request>[1] {
    return { ...this.requestOptions(), agent: false };
  }

  /** POSTs one call; resolves when the master answered 202, rejects with MasterRefused or a connection error. */
  post(body: Json, streamId: string | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      const req = request(this.requestOptions(streamId), (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          if (text.length < 4096) text += c;
        });
        res.on('end', () => (res.statusCode === 202 ? resolve() : reject(new MasterRefused(res.statusCode ?? 0, reasonOf(res.statusCode ?? 0, text)))));
        res.on('error', reject);
      });
      req.setTimeout(this.opts.callTimeoutMs ?? 30_000, () => req.destroy(new Error('the master did not answer in time')));
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
  }
}

/** One registered framework: its stream, its driver, its call queue. */
class HttpFramework {
  frameworkId?: string;
  private streamId?: string;
  private stream?: ClientRequest;
  private readonly driver: FrameworkDriver;
  /** Offers received and not yet answered: offer id → agent id (a TaskInfo names its agent). */
  private readonly offers = new Map<string, string>();
  private chain: Promise<void> = Promise.resolve();
  private connected = false;
  private ended = false;
  private reconnecting = false;
  private watchdog?: NodeJS.Timeout;
  private lastEventAt = 0;
  private heartbeatMs = 15_000;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly conn: HttpMasterConnection,
    private readonly scheduler: Scheduler,
    private readonly info: FrameworkInfo,
  ) {
    const self = this;
    this.driver = {
      get frameworkId(): string {
        return self.frameworkId ?? '';
      },
      accept: (offerIds, tasks, filters) => this.accept(typeof offerIds === 'string' ? [offerIds] : [...offerIds], tasks, filters),
      decline: (offerIds, filters) => this.decline(typeof offerIds === 'string' ? [offerIds] : [...offerIds], filters),
      suppress: () => this.enqueue('SUPPRESS', {}),
      revive: () => this.enqueue('REVIVE', {}),
      kill: (taskId) => this.enqueue('KILL', { kill: { task_id: id(taskId) } }),
      acknowledge: (status) => this.acknowledge(status),
      reconcile: (tasks) => this.reconcile(tasks),
      teardown: () => {
        if (this.ended) return;
        this.enqueue('TEARDOWN', {}, true);
        this.ended = true;
      },
    };
  }

  /** Subscribes; resolves once SUBSCRIBED arrived and the scheduler was told. */
  start(): Promise<FrameworkDriver> {
    return this.subscribe().then(() => this.driver);
  }

  /** Waits for queued calls, at most `ms`. */
  async drain(ms: number): Promise<void> {
    let t: NodeJS.Timeout | undefined;
    await Promise.race([this.chain, new Promise<void>((r) => (t = setTimeout(r, ms)))]);
    clearTimeout(t);
  }

  /** Closes the stream and stops every timer; no more callbacks. */
  stop(): void {
    this.ended = true;
    this.connected = false;
    clearTimeout(this.watchdog);
    this.stream?.destroy();
    this.stream = undefined;
    for (const w of this.waiters.splice(0)) w();
  }

  private subscribe(): Promise<void> {
    const info: FrameworkInfo = this.frameworkId ? { ...this.info, id: this.frameworkId } : this.info;
    const body = subscribeJson(info, this.conn.options.user ?? safeUser(), this.conn.options.credential?.principal);
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        reject(err);
      };
      const timer = setTimeout(() => fail(new Error(`no SUBSCRIBED from ${this.conn.where} within ${this.conn.options.subscribeTimeoutMs ?? 10_000} ms`)), this.conn.options.subscribeTimeoutMs ?? 10_000);
      const req = request(this.conn.subscribeOptions(), (res) => {
        if (res.statusCode !== 200) {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => fail(new MasterRefused(res.statusCode ?? 0, `${this.conn.where} refused the framework: ${reasonOf(res.statusCode ?? 0, text)}`)));
          return;
        }
        const streamId = res.headers['mesos-stream-id'];
        if (typeof streamId !== 'string' || streamId === '') return fail(new Error(`${this.conn.where} answered SUBSCRIBE without a Mesos-Stream-Id`));
        this.read(res, req, streamId, () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve();
        }, fail);
      });
      req.on('error', (err) => fail(new Error(`cannot reach the master at ${this.conn.where}: ${(err as NodeJS.ErrnoException).code ?? err.message}`)));
      req.end(JSON.stringify(body));
    });
  }

  /** Reads a subscription's events until it ends. */
  private read(res: IncomingMessage, req: ClientRequest, streamId: string, subscribed: () => void, fail: (e: Error) => void): void {
    const decoder = new RecordIoDecoder();
    let mine = false;
    res.on('data', (chunk: Buffer) => {
      let records: Buffer[];
      try {
        records = decoder.push(chunk);
      } catch (err) {
        this.conn.log(`isolab: ${this.conn.where}: ${(err as Error).message}; reconnecting`);
        req.destroy();
        return;
      }
      for (const r of records) {
        let ev;
        try {
          ev = parseEvent(JSON.parse(r.toString('utf8')));
        } catch (err) {
          this.conn.log(`isolab: ${this.conn.where}: unreadable event (${(err as Error).message.slice(0, 120)}); ignored`);
          continue;
        }
        this.lastEventAt = Date.now();
        if (ev.type === 'SUBSCRIBED') {
          mine = true;
          this.stream = req;
          this.streamId = streamId;
          this.frameworkId = ev.frameworkId;
          this.connected = true;
          if (ev.heartbeatSeconds && ev.heartbeatSeconds > 0) this.heartbeatMs = ev.heartbeatSeconds * 1000;
          this.armWatchdog();
          this.scheduler.registered?.(this.driver);
          subscribed();
          for (const w of this.waiters.splice(0)) w();
          continue;
        }
        if (!mine) {
          if (ev.type === 'ERROR') fail(new MasterRefused(200, `${this.conn.where} refused the framework: ${ev.message}`));
          continue;
        }
        this.dispatch(ev);
      }
    });
    const closed = (): void => {
      if (!mine) return fail(new Error(`${this.conn.where} closed the subscription before SUBSCRIBED`));
      if (this.stream !== req) return;
      this.stream = undefined;
      this.lost('the event stream closed');
    };
    res.on('end', closed);
    res.on('error', closed);
    res.on('close', closed);
  }

  private dispatch(ev: ReturnType<typeof parseEvent>): void {
    if (this.ended) return;
    switch (ev.type) {
      case 'OFFERS': {
        const now = (this.conn.options.now ?? realNow)();
        const offers: Offer[] = [];
        for (const o of ev.offers) {
          try {
            const offer = offerOf(o, now);
            this.offers.set(offer.id, offer.agentId);
            offers.push(offer);
          } catch (err) {
            this.conn.log(`isolab: ${this.conn.where}: unreadable offer (${(err as Error).message.slice(0, 120)}); ignored`);
          }
        }
        if (offers.length > 0) this.scheduler.resourceOffers(this.driver, offers);
        return;
      }
      case 'RESCIND':
        this.offers.delete(ev.offerId);
        this.scheduler.offerRescinded?.(this.driver, ev.offerId);
        return;
      case 'UPDATE': {
        let s: TaskStatus;
        try {
          s = statusOf(ev.status, this.frameworkId ?? '');
        } catch (err) {
          this.conn.log(`isolab: ${this.conn.where}: unreadable status update (${(err as Error).message.slice(0, 120)}); ignored`);
          return;
        }
        this.scheduler.statusUpdate(this.driver, s);
        return;
      }
      case 'FAILURE':
        if (ev.agentId) {
          for (const [o, a] of this.offers) if (a === ev.agentId) this.offers.delete(o);
          this.scheduler.agentLost?.(this.driver, ev.agentId);
        }
        return;
      case 'ERROR':
        this.die(ev.message);
        return;
      default:
        return;
    }
  }

  /** The master ended the framework, or it could not be reached again: the scheduler is told once. */
  private die(message: string): void {
    if (this.ended) return;
    this.stop();
    this.scheduler.error?.(this.driver, message);
  }

  private armWatchdog(): void {
    clearTimeout(this.watchdog);
    // Three heartbeats missed (at least 15 s): the connection is dead even if TCP has not noticed.
    const limit = Math.max(15_000, 3 * this.heartbeatMs);
    const check = (): void => {
      if (!this.connected || this.ended) return;
      if (Date.now() - this.lastEventAt > limit) {
        this.conn.log(`isolab: ${this.conn.where}: no event for ${Math.round(limit / 1000)} s; reconnecting`);
        this.stream?.destroy();
        return;
      }
      this.watchdog = setTimeout(check, Math.min(limit, 5000));
      this.watchdog.unref();
    };
    this.watchdog = setTimeout(check, Math.min(limit, 5000));
    this.watchdog.unref();
  }

  /** The stream dropped: subscribe again within the failover timeout, or give up. */
  private lost(why: string): void {
    this.connected = false;
    this.offers.clear();
    clearTimeout(this.watchdog);
    if (this.ended || this.reconnecting) return;
    const failoverMs = (this.info.failoverTimeoutSeconds ?? 0) * 1000;
    if (failoverMs <= 0) return this.die(`lost the master at ${this.conn.where} (${why}); with no failover timeout the framework is gone`);
    this.reconnecting = true;
    const deadline = Date.now() + failoverMs;
    this.conn.log(`isolab: ${this.conn.where}: ${why}; subscribing again (failover timeout ${failoverMs / 1000} s)`);
    let delay = 250;
    const attempt = (): void => {
      if (this.ended) return;
      this.subscribe().then(
        () => {
          this.reconnecting = false;
          this.conn.log(`isolab: ${this.conn.where}: subscribed again as ${this.frameworkId}`);
        },
        (err: Error) => {
          if (err instanceof MasterRefused && err.status !== 503) {
            this.reconnecting = false;
            return this.die(err.message);
          }
          if (Date.now() + delay >= deadline) {
            this.reconnecting = false;
            return this.die(`lost the master at ${this.conn.where}: ${err.message}; its failover timeout has passed`);
          }
          setTimeout(attempt, delay).unref();
          delay = Math.min(delay * 2, 5000);
        },
      );
    };
    setTimeout(attempt, delay).unref();
  }

  /** Resolves once the stream is up (or the framework ended). */
  private whenConnected(): Promise<void> {
    if (this.connected || this.ended) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  /** Queues a call; calls go out in order, one at a time, each once the stream is up. */
  private enqueue(type: string, body: Json, evenIfEnded = false, onFail?: (err: Error) => void): void {
    if (this.ended && !evenIfEnded) return;
    this.chain = this.chain.then(async () => {
      await this.whenConnected();
      if (!this.connected || !this.frameworkId) {
        onFail?.(new Error('not connected to the master'));
        return;
      }
      try {
        await this.conn.post(callJson(this.frameworkId, type, body), this.streamId);
      } catch (err) {
        if (onFail) onFail(err as Error);
        else this.conn.log(`isolab: ${this.conn.where}: ${type} failed: ${(err as Error).message}`);
      }
    });
  }

  private accept(offerIds: string[], tasks: TaskLaunch[], filters?: Filters): void {
    const agentId = this.offers.get(offerIds[0] ?? '') ?? '';
    for (const o of offerIds) this.offers.delete(o);
    const list = Array.isArray(tasks) ? tasks : [];
    const drop = (err: Error): void => {
      // The launch never reached the master: TASK_DROPPED, as the master answers a launch on offers it no longer has.
      for (const t of list) {
        this.scheduler.statusUpdate(this.driver, {
          taskId: t.taskId, frameworkId: this.frameworkId ?? '', agentId, state: 'dropped', uuid: '', timestamp: realNow(),
          reason: 'invalid_offers', message: `launch not delivered to ${this.conn.where}: ${err.message}`,
        });
      }
    };
    if (!this.connected) return queueMicrotask(() => drop(new Error('disconnected; its offers were rescinded')));
    const operations = list.length > 0 ? [{ type: 'LAUNCH', launch: { task_infos: list.map((t) => taskInfoJson(t, agentId)) } }] : [];
    const accept: Json = { offer_ids: offerIds.map(id), operations };
    const f = wireFilters(filters);
    if (f) accept.filters = f;
    this.enqueue('ACCEPT', { accept }, false, drop);
  }

  private decline(offerIds: string[], filters?: Filters): void {
    for (const o of offerIds) this.offers.delete(o);
    if (!this.connected) return;
    const decline: Json = { offer_ids: offerIds.map(id) };
    const f = wireFilters(filters);
    if (f) decline.filters = f;
    this.enqueue('DECLINE', { decline });
  }

  private acknowledge(s: TaskStatus): void {
    if (!s || !s.uuid || !this.connected) return; // no uuid: nothing to acknowledge; disconnected: the master sends it again
    this.enqueue('ACKNOWLEDGE', { acknowledge: { agent_id: id(s.agentId), task_id: id(s.taskId), uuid: s.uuid } });
  }

  private reconcile(tasks?: readonly TaskRef[]): void {
    const list = (tasks ?? []).map((t) => (t.agentId ? { task_id: id(t.taskId), agent_id: id(t.agentId) } : { task_id: id(t.taskId) }));
    this.enqueue('RECONCILE', { reconcile: { tasks: list } });
  }
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'root';
  }
}
