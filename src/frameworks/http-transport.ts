import { Agent, request } from 'node:http';
import { basicAuthorization, type Credential } from '../http/auth.js';
import type { Json } from '../http/mesos-json.js';

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

/** Clock time as the master's RealClock reads it (ms). */
export const realNow = (): number => performance.timeOrigin + performance.now();

/** A master answered a call with something other than 202 (or a SUBSCRIBE with something other than 200). */
export class MasterRefused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The one-line reason in an error body (`{"error": ...}` from isolab, plain text from Mesos), after the status. */
export function reasonOf(status: number, body: string): string {
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
 * How a framework's calls reach a master's scheduler API: the base URL, the credential, a pool of
 * keep-alive connections for calls, and a fresh connection for each subscription.
 */
export class HttpTransport {
  /** The master's origin, for messages. */
  readonly where: string;
  private readonly base: URL;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 4 });

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

  /** Lets go of pooled connections. */
  destroy(): void {
    this.agent.destroy();
  }
}
