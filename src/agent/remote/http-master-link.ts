import { Agent, request, type ClientRequest, type IncomingMessage } from 'node:http';
import { AGENT_PATH, AGENT_STREAM_HEADER, type AgentCall, type AgentEvent } from '../../http/agent-api.js';
import { basicAuthorization, type Credential } from '../../http/auth.js';
import { RecordIoDecoder } from '../../http/recordio.js';
import type { AgentDriver, AgentInfo, AgentTaskReport, MasterLink, TaskStatus } from '../../master/types.js';
import { reasonOf } from '../../frameworks/http-transport.js';
import type { AgentStatusUpdates } from './status-update-manager.js';

/** Why the link gave up for good: the master refused the agent (bad credentials, gone, bad info). */
export class AgentRefused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Settings of an agent's link to its master. */
export interface HttpMasterLinkOptions {
  /** The master's base URL, e.g. http://198.18.0.2:5050. */
  url: string;
  /** Principal and secret, when the master requires them. */
  credential?: Credential;
  /** The agent's status update manager: updates go through it. */
  updates: AgentStatusUpdates;
  /** Attributes and backend descriptors added to the registration. */
  extra?: Pick<AgentInfo, 'attributes' | 'descriptors'>;
  /** The tasks to report on each (re-)subscription. */
  tasks: () => AgentTaskReport[];
  /** The master refused the agent for good (401, 403 gone, 400): the daemon stops. */
  onRefused: (err: AgentRefused) => void;
  /** The master told the agent to shut down (it was removed). */
  onShutdown: (reason: string) => void;
  /** One line about a change of the link's state. */
  log: (line: string) => void;
  /** Called each time a subscription is confirmed. */
  onSubscribed?: () => void;
}

/**
 * MasterLink over HTTP, for an agent in its own process: registration is a SUBSCRIBE call whose
 * answer stays open as a RecordIO stream of the master's events (launch, kill, reconcile, ping,
 * heartbeat, shutdown), which become calls on the agent's AgentDriver. Status updates go through
 * the agent's status update manager, which POSTs them as UPDATE calls and waits for the 200 that
 * acknowledges each. When the stream ends, fails, or stays silent for three heartbeat intervals
 * (a cut link), the link subscribes again, with back-off, reporting the agent's tasks.
 */
export class HttpMasterLink implements MasterLink {
  private driver?: AgentDriver;
  private agentId = '';
  private info?: AgentInfo;
  private streamId?: string;
  private stream?: ClientRequest;
  private watchdog?: NodeJS.Timeout;
  private retry?: NodeJS.Timeout;
  private heartbeatMs = 5000;
  private backoff = 250;
  private closed = false;
  private lastProblem = '';
  private readonly base: URL;
  private readonly pool = new Agent({ keepAlive: true, maxSockets: 8 });

  constructor(private readonly opts: HttpMasterLinkOptions) {
    let u: URL;
    try {
      u = new URL(opts.url);
    } catch {
      throw new Error(`master URL "${opts.url.slice(0, 80)}" is not a URL (expected http://HOST:PORT)`);
    }
    if (u.protocol !== 'http:') throw new Error(`master URL ${opts.url.slice(0, 80)}: only http:// is supported`);
    if (u.username || u.password) throw new Error('master URL must not carry credentials: use a credentials file');
    this.base = u;
  }

  /** True while subscribed. */
  get subscribed(): boolean {
    return this.streamId !== undefined;
  }

  /** Starts subscribing with the agent's chosen id; returns it at once (the subscription completes in the background). */
  registerAgent(info: AgentInfo, driver: AgentDriver, id?: string): string {
    if (!id) throw new Error('an agent in its own process chooses its id (kept in its work dir)');
    this.driver = driver;
    this.agentId = id;
    this.info = { hostname: info.hostname, resources: info.resources, backends: info.backends, ...this.opts.extra };
    this.subscribe();
    return id;
  }

  statusUpdate(status: TaskStatus): void {
    this.opts.updates.update(status);
  }

  pong(agentId: string): void {
    if (!this.streamId) return;
    this.post({ type: 'PONG', agentId }).catch(() => {});
  }

  /** Sends one update; true once the master acknowledged it. A 409 means the subscription is gone: subscribe again. */
  async send(status: TaskStatus): Promise<boolean> {
    if (!this.streamId) return false;
    try {
      const r = await this.post({ type: 'UPDATE', agentId: this.agentId, status });
      if (r.status === 200) return true;
      if (r.status === 409) this.reconnect('the master no longer has this agent registered');
      return false;
    } catch {
      return false;
    }
  }

  /** Tells the master the agent stops (it removes the agent; its tasks there are lost). Best effort, within `ms`. */
  async unregister(reason: string, ms = 3000): Promise<void> {
    if (!this.streamId) return;
    await Promise.race([this.post({ type: 'UNREGISTER', agentId: this.agentId, reason }).catch(() => {}), new Promise((r) => setTimeout(r, ms).unref())]);
  }

  /** Ends the subscription and every timer. */
  close(): void {
    this.closed = true;
    this.drop();
    if (this.retry) clearTimeout(this.retry);
    this.pool.destroy();
  }

  private headers(): Record<string, string> {
    const h: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'application/json' };
    if (this.opts.credential) h.Authorization = basicAuthorization(this.opts.credential);
    if (this.streamId) h[AGENT_STREAM_HEADER] = this.streamId;
    return h;
  }

  private target(): { host: string; port: string | number; path: string } {
    return { host: this.base.hostname.replace(/^\[|\]$/g, ''), port: this.base.port || 80, path: `${this.base.pathname.replace(/\/+$/, '')}${AGENT_PATH}` };
  }

  private post(call: AgentCall): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request({ ...this.target(), method: 'POST', headers: this.headers(), agent: this.pool }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          if (text.length < 4096) text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', reject);
      });
      req.setTimeout(Math.max(5000, this.heartbeatMs * 3), () => req.destroy(new Error('the master did not answer in time')));
      req.on('error', reject);
      req.end(JSON.stringify(call));
    });
  }

  private note(line: string): void {
    if (line === this.lastProblem) return;
    this.lastProblem = line;
    this.opts.log(line);
  }

  private subscribe(): void {
    if (this.closed || !this.info) return;
    this.drop();
    const call: AgentCall = { type: 'SUBSCRIBE', agentId: this.agentId, info: this.info, tasks: this.opts.tasks() };
    const headers = this.headers();
    delete headers[AGENT_STREAM_HEADER];
    const req = request({ ...this.target(), method: 'POST', headers, agent: false }, (res) => this.onResponse(req, res));
    this.stream = req;
    // Short: after a cut link, a connection attempt stuck in SYN back-off is replaced by a fresh one.
    req.setTimeout(this.heartbeatMs * 3 + 1000, () => req.destroy(new Error('the master did not answer in time')));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (this.stream !== req) return;
      this.reconnect(`cannot reach the master at ${this.base.origin}: ${err.code ?? err.message}`);
    });
    req.end(JSON.stringify(call));
  }

  private onResponse(req: ClientRequest, res: IncomingMessage): void {
    if (this.stream !== req) {
      res.destroy();
      return;
    }
    const status = res.statusCode ?? 0;
    if (status !== 200) {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        if (text.length < 4096) text += c;
      });
      res.on('end', () => {
        const why = `master refused the subscription: ${reasonOf(status, text)}`;
        if (status === 401 || status === 403 || status === 400 || status === 404 || status === 415) {
          this.close();
          this.opts.onRefused(new AgentRefused(status, why));
        } else this.reconnect(why);
      });
      return;
    }
    req.setTimeout(0);
    const decoder = new RecordIoDecoder();
    res.on('data', (chunk: Buffer) => {
      let records: Buffer[];
      try {
        records = decoder.push(chunk);
      } catch (err) {
        this.reconnect((err as Error).message);
        return;
      }
      for (const r of records) {
        if (this.stream !== req) return;
        let e: AgentEvent;
        try {
          e = JSON.parse(r.toString('utf8')) as AgentEvent;
        } catch {
          continue;
        }
        this.onEvent(e, res);
      }
    });
    res.on('end', () => {
      if (this.stream === req) this.reconnect('the master ended the stream');
    });
    res.on('error', () => {
      if (this.stream === req) this.reconnect('the stream broke');
    });
  }

  private onEvent(e: AgentEvent, res: IncomingMessage): void {
    this.armWatchdog();
    const d = this.driver!;
    switch (e.type) {
      case 'SUBSCRIBED': {
        const id = res.headers[AGENT_STREAM_HEADER];
        this.streamId = Array.isArray(id) ? id[0] : id;
        this.heartbeatMs = Math.max(100, e.heartbeatIntervalSeconds * 1000);
        this.armWatchdog();
        this.backoff = 250;
        this.note(`isolab: agent ${this.agentId} subscribed to ${this.base.origin}`);
        this.opts.updates.resume();
        this.opts.onSubscribed?.();
        return;
      }
      case 'LAUNCH':
        this.opts.updates.launched(e.task.taskId, e.task.frameworkId);
        d.launch(e.task);
        return;
      case 'KILL':
        d.kill(e.taskId, e.frameworkId);
        return;
      case 'RECONCILE':
        d.reconcile?.(e.tasks);
        return;
      case 'PING':
        d.ping?.();
        return;
      case 'HEARTBEAT':
        return;
      case 'SHUTDOWN':
        this.opts.onShutdown(e.reason);
        return;
    }
  }

  private armWatchdog(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => this.reconnect(`no event from the master for ${(this.heartbeatMs * 3) / 1000} s`), this.heartbeatMs * 3);
  }

  private drop(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = undefined;
    this.streamId = undefined;
    this.opts.updates.pause();
    const s = this.stream;
    this.stream = undefined;
    s?.destroy();
  }

  private reconnect(why: string): void {
    if (this.closed) return;
    this.drop();
    this.note(`isolab: agent ${this.agentId}: ${why}; subscribing again`);
    if (this.retry) return;
    const delay = this.backoff;
    this.backoff = Math.min(this.backoff * 2, 5000);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.subscribe();
    }, delay);
  }
}
