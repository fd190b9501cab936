import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Master } from '../master/master.js';
import { TASK_STATES, type TaskState } from '../master/task-state.js';
import { masterState, metricsSnapshot, taskViews } from './state.js';

/** Where the API listens. */
export interface ApiServerOptions {
  /** Address to bind. Default 127.0.0.1: the API has no authentication, so it stays local unless asked. */
  host?: string;
  /** TCP port; 0 picks a free one. Default 5050, Mesos' master port. */
  port?: number;
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

const ROUTES: Record<string, Route> = {
  '/state': { params: [], handle: (m) => masterState(m) },
  '/metrics/snapshot': {
    params: ['timeout'],
    handle: (m, q) => {
      const t = q.get('timeout');
      if (t !== null && !/^\d+(\.\d+)?(ns|us|ms|secs|mins|hrs)$/.test(t)) throw new HttpError(400, `timeout: expected a duration like 5secs, got "${t}"`);
      return metricsSnapshot(m);
    },
  },
  '/tasks': {
    params: ['state', 'framework_id', 'limit', 'offset'],
    handle: (m, q) => {
      const state = q.get('state');
      if (state !== null && !TASK_STATES.includes(state as TaskState)) throw new HttpError(400, `state: expected one of ${TASK_STATES.join(', ')}, got "${state}"`);
      const limit = intParam(q, 'limit', 100, 1, 100_000);
      const offset = intParam(q, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
      const all = taskViews(m, { state: (state ?? undefined) as TaskState | undefined, frameworkId: q.get('framework_id') ?? undefined });
      return { total: all.length, tasks: all.slice(offset, offset + limit) };
    },
  },
  '/health': { params: [], handle: () => ({ healthy: true }) },
};

/** The endpoints served, for help texts. */
export const ENDPOINTS = Object.keys(ROUTES);

function intParam(q: Query, name: string, dflt: number, lo: number, hi: number): number {
  const v = q.get(name);
  if (v === null) return dflt;
  const n = /^\d{1,16}$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < lo || n > hi) throw new HttpError(400, `${name}: expected an integer from ${lo} to ${hi}, got "${v}"`);
  return n;
}

/** Answers one request; every failure becomes a JSON error, never an exception out of the handler. */
export function handleRequest(master: Master, req: IncomingMessage, res: ServerResponse): void {
  let status = 200;
  let body: unknown;
  let headers: Record<string, string> = {};
  try {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      throw new HttpError(400, 'malformed request target');
    }
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    const route = Object.hasOwn(ROUTES, path) ? ROUTES[path] : undefined;
    if (!route) throw new HttpError(404, `no such endpoint ${JSON.stringify(path)} (endpoints: ${ENDPOINTS.join(', ')})`);
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, `method ${req.method} not allowed on ${path} (use GET)`, { Allow: 'GET, HEAD' });
    for (const k of new Set(url.searchParams.keys())) {
      if (!route.params.includes(k)) throw new HttpError(400, `unknown parameter "${k}" for ${path}${route.params.length ? ` (known: ${route.params.join(', ')})` : ''}`);
      if (url.searchParams.getAll(k).length > 1) throw new HttpError(400, `parameter "${k}" given twice`);
    }
    body = route.handle(master, url.searchParams);
  } catch (err) {
    if (err instanceof HttpError) {
      status = err.status;
      headers = err.headers;
      body = { error: err.message };
    } else {
      status = 500;
      body = { error: `internal error: ${err instanceof Error ? err.message : String(err)}` };
    }
  }
  const text = JSON.stringify(body) + '\n';
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', ...headers });
  res.end(req.method === 'HEAD' ? undefined : text);
}

/** Serves the master's HTTP API (GET /state, /metrics/snapshot, /tasks, /health). Resolves once listening. */
export async function startApiServer(master: Master, opts: ApiServerOptions = {}): Promise<ApiServer> {
  const host = opts.host ?? '127.0.0.1';
  const server: Server = createServer((req, res) => handleRequest(master, req, res));
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"error":"malformed request"}\n');
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 5050, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
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
