import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Master } from '../master/master.js';
import { isTaskState, TASK_STATES } from '../master/task-state.js';
import { clip } from '../master/validation.js';
import { AGENT_PATH, AgentApi, MAX_AGENT_CALL_BYTES, type AgentApiOptions } from './agent-api.js';
import { Authenticator, type Credential } from './auth.js';
import { ApiError, MAX_CALL_BYTES, SCHEDULER_PATH, SchedulerApi, type SchedulerApiOptions } from './scheduler-api.js';
import { agentPage, DEFAULT_LIMIT, frameworkPage, masterState, MAX_LIMIT, metricsSnapshot, offerPage, taskPage } from './state.js';

/** Where the API listens. */
export interface ApiServerOptions {
  /** Address to bind. Default 127.0.0.1. Any other address needs `credentials`. */
  host?: string;
  /** TCP port; 0 picks a free one. Default 5050, Mesos' master port. */
  port?: number;
  /** Where internal errors are logged (they are not put in API bodies). Default: stderr. */
  log?: (line: string) => void;
  /**
   * Principals and secrets. When given, every endpoint but /health requires HTTP Basic with one of
   * them (401 otherwise), as Mesos' --authenticate_frameworks and --authenticate_http_readonly do.
   * Required to bind beyond loopback.
   */
  credentials?: readonly Credential[];
  /** Serve Mesos' v1 scheduler API (POST /api/v1/scheduler), with these settings. Off when omitted. */
  scheduler?: SchedulerApiOptions;
  /** Serve isolab's agent API (POST /api/v1/agent) for agents in other processes, with these settings. Off when omitted. */
  agent?: AgentApiOptions;
}

/** A running HTTP API. */
export interface ApiServer {
  /** Base URL, e.g. http://127.0.0.1:5050. */
  readonly url: string;
  /** Bound address. */
  readonly host: string;
  /** Bound port. */
  readonly port: number;
  /** The scheduler API, when served. */
  readonly scheduler?: SchedulerApi;
  /** The agent API, when served. */
  readonly agent?: AgentApi;
  /** Stops listening and drops open connections (subscriptions close: their frameworks are disconnected). */
  close(): Promise<void>;
}

/** Largest request head (request line and headers) in bytes; more gets 431. */
export const MAX_HEADER_BYTES = 8192;

/** An HTTP error answered as JSON `{"error": message}`. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

type Query = URLSearchParams;

interface Route {
  /** Parameters the endpoint understands; any other is a 400. */
  params: string[];
  /** Produces the JSON body. */
  handle(master: Master, q: Query): unknown;
}

const page = (q: Query) => ({ offset: intParam(q, 'offset', 0, 0, Number.MAX_SAFE_INTEGER), limit: intParam(q, 'limit', DEFAULT_LIMIT, 1, MAX_LIMIT) });

const BASE_ROUTES: Record<string, Route> = {
  '/state': { params: ['limit'], handle: (m, q) => masterState(m, { limit: intParam(q, 'limit', DEFAULT_LIMIT, 1, MAX_LIMIT) }) },
  '/metrics/snapshot': {
    params: ['timeout'],
    handle: (m, q) => {
      const t = q.get('timeout');
      if (t !== null && !/^\d+(\.\d+)?(ns|us|ms|secs|mins|hrs)$/.test(t)) throw new HttpError(400, `timeout: expected a duration like 5secs, got "${clip(t, 32)}"`);
      return metricsSnapshot(m);
    },
  },
  '/tasks': {
    params: ['state', 'framework_id', 'limit', 'offset'],
    handle: (m, q) => {
      const state = q.get('state');
      if (state !== null && !isTaskState(state)) throw new HttpError(400, `state: expected one of ${TASK_STATES.join(', ')}, got "${clip(state, 32)}"`);
      return taskPage(m, page(q), { state: state ?? undefined, frameworkId: q.get('framework_id') ?? undefined });
    },
  },
  '/agents': { params: ['limit', 'offset'], handle: (m, q) => agentPage(m, page(q)) },
  '/frameworks': { params: ['limit', 'offset'], handle: (m, q) => frameworkPage(m, page(q)) },
  '/offers': { params: ['limit', 'offset'], handle: (m, q) => offerPage(m, page(q)) },
  '/health': { params: [], handle: () => ({ healthy: true }) },
};

/** Every endpoint is also served under /master (Mesos' /master/state, /master/metrics/snapshot, ...). */
const ROUTES: Record<string, Route> = {
  ...BASE_ROUTES,
  ...Object.fromEntries(Object.entries(BASE_ROUTES).map(([path, r]) => [`/master${path}`, r])),
};

/** The endpoints served, for help texts (each also under /master). */
export const ENDPOINTS = Object.keys(BASE_ROUTES);

/** Endpoints answered without credentials (a load balancer's health check). */
const OPEN_PATHS = new Set(['/health', '/master/health']);

function intParam(q: Query, name: string, dflt: number, lo: number, hi: number): number {
  const v = q.get(name);
  if (v === null) return dflt;
  const n = /^\d{1,16}$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < lo || n > hi) throw new HttpError(400, `${name}: expected an integer from ${lo} to ${hi}, got "${clip(v, 32)}"`);
  return n;
}

const LOOPBACK_HOST = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\]|\[::ffff:127(?:\.\d{1,3}){3}\])(?::\d{1,5})?$/i;

/** True for a loopback bind address. */
export function isLoopbackAddress(host: string): boolean {
  return host === 'localhost' || /^127\./.test(host) || host === '::1' || /^::ffff:127\./i.test(host);
}

/** How requests are checked beyond routing. */
export interface RequestPolicy {
  /** Only loopback Host headers are accepted (DNS rebinding): true when the server is bound to loopback. */
  loopbackHostOnly: boolean;
  /** Where internal errors are logged. */
  log?: (line: string) => void;
  /** Checks HTTP Basic credentials; when set, every endpoint but /health requires them. */
  auth?: Authenticator;
  /** The scheduler API, when served. */
  scheduler?: SchedulerApi;
  /** The agent API, when served. */
  agent?: AgentApi;
}

/** Writes a JSON error answer. */
function sendError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}, head = false): void {
  const text = JSON.stringify({ error: message }) + '\n';
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', ...headers });
  res.end(head ? undefined : text);
}

/** Answers one request; every failure becomes a JSON error, never an exception out of the handler. */
export function handleRequest(master: Master, req: IncomingMessage, res: ServerResponse, policy: RequestPolicy = { loopbackHostOnly: true }): void {
  let status = 200;
  let body: unknown;
  let headers: Record<string, string> = {};
  try {
    const target = req.url ?? '';
    if (!target.startsWith('/') || target.startsWith('//')) throw new HttpError(400, 'request target must be a path starting with a single "/" (origin-form)');
    if (policy.loopbackHostOnly) {
      const host = req.headers.host;
      if (host === undefined || !LOOPBACK_HOST.test(host)) {
        throw new HttpError(403, `Host header must name a loopback address (localhost, 127.0.0.1, [::1]); got ${host === undefined ? 'none' : `"${clip(host, 32)}"`}`);
      }
    }
    let url: URL;
    try {
      url = new URL(target, 'http://localhost');
    } catch {
      throw new HttpError(400, 'malformed request target');
    }
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    let principal: string | undefined;
    if (policy.auth && !OPEN_PATHS.has(path)) {
      const r = policy.auth.check(req.headers.authorization);
      if (!r.ok) throw new HttpError(401, r.reason, { 'WWW-Authenticate': 'Basic realm="isolab"', Connection: 'close' });
      principal = r.principal;
    }
    if (path === SCHEDULER_PATH || path === `/master${SCHEDULER_PATH}`) {
      if (!policy.scheduler) throw new HttpError(404, 'this master does not serve the scheduler API (isolab master does)');
      if (req.method !== 'POST') throw new HttpError(405, `method ${clip(req.method ?? '', 16)} not allowed on ${path} (use POST)`, { Allow: 'POST' });
      if (url.search !== '') throw new HttpError(400, `${path} takes no query parameters`);
      schedulerRequest(policy.scheduler, req, res, principal, policy.log ?? defaultLog);
      return;
    }
    if (path === AGENT_PATH || path === `/master${AGENT_PATH}`) {
      if (!policy.agent) throw new HttpError(404, 'this master does not serve the agent API (isolab master does)');
      if (req.method !== 'POST') throw new HttpError(405, `method ${clip(req.method ?? '', 16)} not allowed on ${path} (use POST)`, { Allow: 'POST' });
      if (url.search !== '') throw new HttpError(400, `${path} takes no query parameters`);
      const api = policy.agent;
      readBody(req, res, MAX_AGENT_CALL_BYTES, (body) => api.handle(req, res, body, principal), policy.log ?? defaultLog, AGENT_PATH);
      return;
    }
    const route = Object.hasOwn(ROUTES, path) ? ROUTES[path] : undefined;
    if (!route) throw new HttpError(404, `no such endpoint "${clip(path, 64)}" (endpoints: ${ENDPOINTS.join(', ')}, each also under /master${policy.scheduler ? `; POST ${SCHEDULER_PATH}` : ''})`);
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, `method ${clip(req.method ?? '', 16)} not allowed on ${path} (use GET)`, { Allow: 'GET, HEAD' });
    for (const k of new Set(url.searchParams.keys())) {
      if (!route.params.includes(k)) {
        throw new HttpError(400, `unsupported parameter "${clip(k, 32)}" for ${path}${route.params.length ? ` (supported: ${route.params.join(', ')})` : ' (it takes none)'}`);
      }
      if (url.searchParams.getAll(k).length > 1) throw new HttpError(400, `parameter "${clip(k, 32)}" given twice`);
    }
    body = route.handle(master, url.searchParams);
  } catch (err) {
    if (err instanceof HttpError) {
      status = err.status;
      headers = err.headers;
      body = { error: err.message };
    } else {
      status = 500;
      body = { error: 'internal error (see the master log)' };
      (policy.log ?? defaultLog)(`isolab: api: ${req.method} ${clip(req.url ?? '', 64)}: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    }
  }
  const text = JSON.stringify(body) + '\n';
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', ...headers });
  res.end(req.method === 'HEAD' ? undefined : text);
}

/**
 * Reads a scheduler call's body (chunked or with a length; at most MAX_CALL_BYTES, else 413 and the
 * connection closes) and hands it to the scheduler API; its 4xx answers become JSON errors.
 */
function schedulerRequest(api: SchedulerApi, req: IncomingMessage, res: ServerResponse, principal: string | undefined, log: (line: string) => void): void {
  readBody(req, res, MAX_CALL_BYTES, (body) => api.handle(req, res, body, principal), log, SCHEDULER_PATH);
}

/** Reads a POST body of at most `max` bytes (413 beyond, and the connection closes), then calls `handle`; its ApiErrors become JSON errors. */
function readBody(req: IncomingMessage, res: ServerResponse, max: number, handle: (body: Buffer) => void, log: (line: string) => void, path: string): void {
  const tooLarge = (): void => sendError(res, 413, `request body larger than ${max} bytes`, { Connection: 'close' });
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > max) {
    tooLarge();
    req.resume();
    return;
  }
  const parts: Buffer[] = [];
  let size = 0;
  let over = false;
  req.on('data', (b: Buffer) => {
    if (over) return;
    size += b.length;
    if (size > max) {
      over = true;
      parts.length = 0;
      tooLarge();
      return;
    }
    parts.push(b);
  });
  req.on('error', () => {});
  req.on('end', () => {
    if (over || res.headersSent) return;
    try {
      handle(Buffer.concat(parts));
    } catch (err) {
      if (res.headersSent) return;
      if (err instanceof ApiError) sendError(res, err.status, err.message, err.headers);
      else {
        log(`isolab: api: POST ${path}: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
        sendError(res, 500, 'internal error (see the master log)');
      }
    }
  });
}

function defaultLog(line: string): void {
  process.stderr.write(line + '\n');
}

/** Answers a request Node could not parse, on the raw socket. */
function rawError(socket: Socket, status: number, reason: string, message: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({ error: message }) + '\n';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/**
 * Serves the master's HTTP API: GET /state, /metrics/snapshot, /tasks, /agents, /frameworks, /offers,
 * /health, each also under /master, and with `scheduler` Mesos' v1 scheduler API (POST
 * /api/v1/scheduler). Resolves once listening. Bound to loopback, it accepts only loopback Host
 * headers (a guard against DNS rebinding); request heads over 8 KiB get 431, request lines without
 * an HTTP/1.x version (HTTP/0.9) and absolute-form targets get 400. Any other bind address needs
 * credentials: it is refused before binding without them.
 */
export async function startApiServer(master: Master, opts: ApiServerOptions = {}): Promise<ApiServer> {
  const host = opts.host ?? '127.0.0.1';
  const hasCredentials = opts.credentials !== undefined && opts.credentials.length > 0;
  if (!isLoopbackAddress(host) && !hasCredentials) {
    throw new Error(`refusing to serve the API on ${host} without credentials: beyond loopback every request must authenticate (--credentials FILE)`);
  }
  const auth = hasCredentials ? new Authenticator(opts.credentials!) : undefined;
  const scheduler = opts.scheduler ? new SchedulerApi(master, { log: opts.log, ...opts.scheduler }) : undefined;
  const agent = opts.agent ? new AgentApi(master, { log: opts.log, ...opts.agent }) : undefined;
  let policy: RequestPolicy = { loopbackHostOnly: true, log: opts.log, auth, scheduler, agent };
  const server: Server = createServer({ maxHeaderSize: MAX_HEADER_BYTES, requireHostHeader: false }, (req, res) => {
    const refuse = (status: number, message: string): void => {
      res.writeHead(status, { 'Content-Type': 'application/json', Connection: 'close' });
      res.end(JSON.stringify({ error: message }) + '\n');
    };
    if (req.httpVersionMajor === 0) return refuse(400, 'HTTP/0.9 request lines are refused: send "METHOD /path HTTP/1.1" and a Host header');
    if (req.httpVersionMajor !== 1) return refuse(505, 'only HTTP/1.0 and HTTP/1.1 are served');
    if (req.httpVersionMinor >= 1 && req.headers.host === undefined) return refuse(400, 'HTTP/1.1 requests need a Host header');
    handleRequest(master, req, res, policy);
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'HPE_HEADER_OVERFLOW') rawError(socket, 431, 'Request Header Fields Too Large', `request head larger than ${MAX_HEADER_BYTES} bytes`);
    else rawError(socket, 400, 'Bad Request', 'malformed request (expected "METHOD /path HTTP/1.1" and headers)');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 5050, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  policy = { loopbackHostOnly: isLoopbackAddress(addr.address), log: opts.log, auth, scheduler, agent };
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${shown}:${addr.port}`,
    host: addr.address,
    port: addr.port,
    scheduler,
    agent,
    close: () =>
      new Promise<void>((resolve) => {
        scheduler?.closeAll();
        agent?.closeAll();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
