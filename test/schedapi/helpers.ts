import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { RecordIoDecoder } from '../../src/http/recordio.js';

/** A JSON object. */
export type Obj = Record<string, any>;

/** An open subscription seen from the client: its head and the events so far. */
export interface Stream {
  /** HTTP status. */
  status: number;
  /** Response headers. */
  headers: IncomingMessage['headers'];
  /** Mesos-Stream-Id. */
  streamId: string;
  /** Body of a non-200 answer. */
  body: string;
  /** Every event received, in order. */
  events: Obj[];
  /** Raw chunks as they arrived (for framing checks). */
  chunks: Buffer[];
  /** Resolves when the stream has ended. */
  ended: Promise<void>;
  /** Waits for the next event of a type not yet taken (by index), at most `ms`. */
  next(type: string, ms?: number): Promise<Obj>;
  /** Events of a type received so far. */
  all(type: string): Obj[];
  /** Drops the connection from the client side. */
  close(): void;
}

/** POSTs a SUBSCRIBE (sent chunked, in two writes, as npm mesos-framework does) and keeps reading the stream. */
export function subscribe(base: string, body: unknown, headers: Record<string, string> = {}): Promise<Stream> {
  const u = new URL('/api/v1/scheduler', base);
  return new Promise((resolve, reject) => {
    const req: ClientRequest = request({ method: 'POST', host: u.hostname, port: u.port, path: u.pathname, agent: false, headers: { 'Content-Type': 'application/json', ...headers } }, (res) => {
      const decoder = new RecordIoDecoder();
      const events: Obj[] = [];
      const chunks: Buffer[] = [];
      const taken = new Map<string, number>();
      let body = '';
      const ended = new Promise<void>((r) => {
        res.on('end', r);
        res.on('close', r);
        res.on('error', () => r());
      });
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        if (res.statusCode !== 200) {
          body += c.toString();
          return;
        }
        for (const rec of decoder.push(c)) events.push(JSON.parse(rec.toString()));
      });
      const s: Stream = {
        status: res.statusCode ?? 0, headers: res.headers, streamId: String(res.headers['mesos-stream-id'] ?? ''), events, chunks, ended,
        get body() {
          return body;
        },
        all: (type) => events.filter((e) => e.type === type),
        next: async (type, ms = 5000) => {
          const deadline = Date.now() + ms;
          for (;;) {
            const from = taken.get(type) ?? 0;
            const i = events.findIndex((e, k) => k >= from && e.type === type);
            if (i >= 0) {
              taken.set(type, i + 1);
              return events[i]!;
            }
            if (Date.now() > deadline) throw new Error(`no ${type} event within ${ms} ms; got ${events.map((e) => e.type).join(', ')}`);
            await new Promise((r) => setTimeout(r, 5));
          }
        },
        close: () => req.destroy(),
      };
      resolve(s);
    });
    req.on('error', reject);
    const text = JSON.stringify(body);
    const half = Math.floor(text.length / 2);
    req.write(text.slice(0, half));
    setTimeout(() => req.end(text.slice(half)), 5);
  });
}

/** POSTs one call; resolves with its status and body. */
export async function call(base: string, body: unknown, streamId?: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const r = await fetch(new URL('/api/v1/scheduler', base), {
    method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'Content-Type': 'application/json', ...(streamId ? { 'Mesos-Stream-Id': streamId } : {}), ...headers },
  });
  return { status: r.status, body: await r.text() };
}

/** A SUBSCRIBE body. */
export function subscribeBody(name = 'test', extra: Obj = {}, frameworkId?: string): Obj {
  return {
    type: 'SUBSCRIBE', ...(frameworkId ? { framework_id: { value: frameworkId } } : {}),
    subscribe: { framework_info: { user: 'root', name, ...(frameworkId ? { id: { value: frameworkId } } : {}), ...extra } },
  };
}

/** Polls until `cond` holds (at most `ms`). */
export async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Lets I/O settle for a while (real time). */
export const pause = (ms = 50): Promise<void> => new Promise((r) => setTimeout(r, ms));
