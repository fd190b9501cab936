import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Where a framework serves its input. */
export interface InputServerOptions {
  /** The file to serve (e.g. `/proc/<pid>/fd/<n>` of the input the CLI holds open). */
  path: string;
  /** Its size in bytes (what the job counts). */
  size: number;
  /** Address to bind. */
  host: string;
  /** Port; 0 picks a free one. */
  port?: number;
  /**
   * Test-only fault: the nth range request (from 1) gets its headers and half its bytes, then the
   * connection is cut. From `ISOLAB_TEST_INPUT_FAULT=drop:N` when omitted.
   */
  dropRequest?: number;
}

/** A running input server. */
export interface InputServer {
  /** The input's URL, with its secret path: what map tasks carry as their input. */
  readonly url: string;
  /** Range requests answered (or cut) so far. */
  readonly requests: number;
  /** Stops serving. */
  close(): Promise<void>;
}

/** The drop fault from the environment (`drop:N`), if any. */
function faultFromEnv(): number | undefined {
  const m = /^drop:(\d+)$/.exec(process.env.ISOLAB_TEST_INPUT_FAULT ?? '');
  return m ? Number(m[1]) : undefined;
}

/**
 * Serves one input file over HTTP with Range requests (Mesos' fetcher idea, from the framework's
 * side), so agents on other hosts fetch just their tasks' byte ranges. The URL's path is 128 random
 * bits: knowing the URL is the credential (a capability URL), as the agents that get it in their
 * tasks are the only ones meant to read it. Answers `GET`/`HEAD` of that path only: a single range
 * `bytes=A-B` (or `A-`) gets 206 with Content-Range, a range past the end 416, no range 200 with
 * the whole input; any other path 404.
 */
export async function serveInput(o: InputServerOptions): Promise<InputServer> {
  const token = randomBytes(16).toString('hex');
  const path = `/input/${token}`;
  const drop = o.dropRequest ?? faultFromEnv();
  let requests = 0;
  const server: Server = createServer((req, res) => {
    const send = (status: number, text: string, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
      res.end(req.method === 'HEAD' ? undefined : text);
    };
    if (req.url !== path) return send(404, 'no such input\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'use GET\n', { Allow: 'GET, HEAD' });
    const range = req.headers.range;
    let start = 0;
    let end = o.size - 1;
    let partial = false;
    if (range !== undefined) {
      const m = /^bytes=(\d{1,16})-(\d{0,16})$/.exec(range.trim());
      if (!m) return send(416, 'only one range bytes=A-B is served\n', { 'Content-Range': `bytes */${o.size}` });
      start = Number(m[1]);
      end = m[2] === '' ? o.size - 1 : Math.min(Number(m[2]), o.size - 1);
      if (start >= o.size || end < start) return send(416, 'range not satisfiable\n', { 'Content-Range': `bytes */${o.size}` });
      partial = true;
    }
    const n = ++requests;
    const length = end - start + 1;
    res.writeHead(partial ? 206 : 200, {
      'Content-Type': 'application/octet-stream', 'Content-Length': length, 'Accept-Ranges': 'bytes',
      ...(partial ? { 'Content-Range': `bytes ${start}-${end}/${o.size}` } : {}),
    });
    if (req.method === 'HEAD' || length === 0) return void res.end();
    if (drop === n) {
      const half = Math.max(0, Math.floor(length / 2) - 1);
      const s = createReadStream(o.path, { start, end: start + half });
      s.on('data', (b) => res.write(b));
      s.on('end', () => res.destroy());
      s.on('error', () => res.destroy());
      return;
    }
    const s = createReadStream(o.path, { start, end });
    s.on('error', () => res.destroy());
    s.pipe(res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${shown}:${addr.port}${path}`,
    get requests() {
      return requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
