import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { userInfo } from 'node:os';
import { callJson, subscribeJson, wireFilters } from '../http/mesos-calls.js';
import { parseEvent } from '../http/mesos-events.js';
import { id, type Json } from '../http/mesos-json.js';
import { offerOf, statusOf, taskInfoJson } from '../http/mesos-tasks.js';
import { RecordIoDecoder } from '../http/recordio.js';
import type { Filters, FrameworkDriver, FrameworkInfo, Offer, Scheduler, TaskLaunch, TaskRef, TaskStatus } from '../master/types.js';
import { MasterRefused, realNow, reasonOf, type HttpTransport } from './http-transport.js';

/**
 * One framework registered over HTTP: its subscription (read as events that become the scheduler's
 * callbacks), the driver the scheduler is given (calls queued and POSTed in order), and its
 * re-subscription within the failover timeout when the stream drops.
 */
export class HttpFramework {
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
    private readonly transport: HttpTransport,
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
    const body = subscribeJson(info, this.transport.options.user ?? safeUser(), this.transport.options.credential?.principal);
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        reject(err);
      };
      const timer = setTimeout(() => fail(new Error(`no SUBSCRIBED from ${this.transport.where} within ${this.transport.options.subscribeTimeoutMs ?? 10_000} ms`)), this.transport.options.subscribeTimeoutMs ?? 10_000);
      const req = request(this.transport.subscribeOptions(), (res) => {
        if (res.statusCode !== 200) {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => fail(new MasterRefused(res.statusCode ?? 0, `${this.transport.where} refused the framework: ${reasonOf(res.statusCode ?? 0, text)}`)));
          return;
        }
        const streamId = res.headers['mesos-stream-id'];
        if (typeof streamId !== 'string' || streamId === '') return fail(new Error(`${this.transport.where} answered SUBSCRIBE without a Mesos-Stream-Id`));
        this.read(res, req, streamId, () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve();
        }, fail);
      });
      req.on('error', (err) => fail(new Error(`cannot reach the master at ${this.transport.where}: ${(err as NodeJS.ErrnoException).code ?? err.message}`)));
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
        this.transport.log(`isolab: ${this.transport.where}: ${(err as Error).message}; reconnecting`);
        req.destroy();
        return;
      }
      for (const r of records) {
        let ev;
        try {
          ev = parseEvent(JSON.parse(r.toString('utf8')));
        } catch (err) {
          this.transport.log(`isolab: ${this.transport.where}: unreadable event (${(err as Error).message.slice(0, 120)}); ignored`);
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
          if (ev.type === 'ERROR') fail(new MasterRefused(200, `${this.transport.where} refused the framework: ${ev.message}`));
          continue;
        }
        this.dispatch(ev);
      }
    });
    const closed = (): void => {
      if (!mine) return fail(new Error(`${this.transport.where} closed the subscription before SUBSCRIBED`));
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
        const now = (this.transport.options.now ?? realNow)();
        const offers: Offer[] = [];
        for (const o of ev.offers) {
          try {
            const offer = offerOf(o, now);
            this.offers.set(offer.id, offer.agentId);
            offers.push(offer);
          } catch (err) {
            this.transport.log(`isolab: ${this.transport.where}: unreadable offer (${(err as Error).message.slice(0, 120)}); ignored`);
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
          this.transport.log(`isolab: ${this.transport.where}: unreadable status update (${(err as Error).message.slice(0, 120)}); ignored`);
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
        this.transport.log(`isolab: ${this.transport.where}: no event for ${Math.round(limit / 1000)} s; reconnecting`);
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
    if (failoverMs <= 0) return this.die(`lost the master at ${this.transport.where} (${why}); with no failover timeout the framework is gone`);
    this.reconnecting = true;
    const deadline = Date.now() + failoverMs;
    this.transport.log(`isolab: ${this.transport.where}: ${why}; subscribing again (failover timeout ${failoverMs / 1000} s)`);
    let delay = 250;
    const attempt = (): void => {
      if (this.ended) return;
      this.subscribe().then(
        () => {
          this.reconnecting = false;
          this.transport.log(`isolab: ${this.transport.where}: subscribed again as ${this.frameworkId}`);
        },
        (err: Error) => {
          if (err instanceof MasterRefused && err.status !== 503) {
            this.reconnecting = false;
            return this.die(err.message);
          }
          if (Date.now() + delay >= deadline) {
            this.reconnecting = false;
            return this.die(`lost the master at ${this.transport.where}: ${err.message}; its failover timeout has passed`);
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
        await this.transport.post(callJson(this.frameworkId, type, body), this.streamId);
      } catch (err) {
        if (onFail) onFail(err as Error);
        else this.transport.log(`isolab: ${this.transport.where}: ${type} failed: ${(err as Error).message}`);
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
          reason: 'invalid_offers', message: `launch not delivered to ${this.transport.where}: ${err.message}`,
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
