import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Master } from '../master/master.js';
import { isTaskState, TASK_STATES } from '../master/task-state.js';
import { clip } from '../master/validation.js';
import { agentPage, DEFAULT_LIMIT, frameworkPage, masterState, MAX_LIMIT, metricsSnapshot, offerPage, taskPage } from './state.js';

/** Where the API listens. */
export interface ApiServerOptions {
  /** Address to bind. Default 127.0.0.1: the API has no authentication, so it stays local unless asked. */
  host?: string;
  /** TCP port; 0 picks a free one. Default 5050, Mesos' master port. */
  port?: number;
  /** Where internal errors are logged (they are not put in API bodies). Default: stderr. */
  log?: (line: string) => void;
  /**
   * Allow a non-loopback bind. The API has no authentication yet, so the default refuses: an API that
   * listens beyond loopback must require credentials.
   */
  allowNonLoopback?: boolean;
}

/** A running HTTP API. */
export interface ApiServer {
  /** Base URL, e.g. http://127.0.0.1:5050. */
  readonly url: string;
  /** Bound address. */
  readonly host: string;
  /** Bound port. */
  readonly port: number;
  /** Stops listening and drops open connections. */
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
    const route = Object.hasOwn(ROUTES, path) ? ROUTES[path] : undefined;
    if (!route) throw new HttpError(404, `no such endpoint "${clip(path, 64)}" (endpoints: ${ENDPOINTS.join(', ')}, each also under /master)`);
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
 * /health, each also under /master. Resolves once listening. Bound to loopback, it accepts only
 * loopback Host headers (a guard against DNS rebinding); request heads over 8 KiB get 431, request
 * lines without an HTTP/1.x version (HTTP/0.9) and absolute-form targets get 400.
 */
export async function startApiServer(master: Master, opts: ApiServerOptions = {}): Promise<ApiServer> {
  const host = opts.host ?? '127.0.0.1';
  if (!isLoopbackAddress(host) && !opts.allowNonLoopback) throw new Error(`refusing to serve the unauthenticated API on ${host}: loopback only`);
  let policy: RequestPolicy = { loopbackHostOnly: true, log: opts.log };
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
  policy = { loopbackHostOnly: isLoopbackAddress(addr.address), log: opts.log };
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${shown}:${addr.port}`,
    host: addr.address,
    port: addr.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
