import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';

/** One place a Docker engine may answer, tried in order (after testcontainers' runtime strategies). */
export interface DockerEndpoint {
  /** How it is named in messages: `DOCKER_HOST=...` or a socket path. */
  label: string;
  /** dockerode options for it. */
  options: Docker.DockerOptions;
}

/** An engine that answered. */
export interface DockerConnection {
  /** The client. */
  docker: Docker;
  /** Which endpoint answered. */
  endpoint: string;
  /** The engine's `/version` answer. */
  version: Docker.DockerVersion;
}

/** Environment variable: comma-separated unix sockets to try after DOCKER_HOST (empty: none). */
export const SOCKETS_ENV = 'ISOLAB_DOCKER_SOCKETS';

/** Default socket tried after DOCKER_HOST. */
export const DEFAULT_SOCKET = '/var/run/docker.sock';

/** No endpoint answered; the message names each one tried and why it failed. */
export class DockerUnreachableError extends Error {}

function fromDockerHost(value: string, env: NodeJS.ProcessEnv): DockerEndpoint {
  const label = `DOCKER_HOST=${value}`;
  if (value.startsWith('unix://')) return { label, options: { socketPath: value.slice('unix://'.length) } };
  const m = /^(?:tcp|http|https):\/\/([^:/]+)(?::(\d+))?/.exec(value);
  if (!m) return { label, options: { socketPath: value } };
  const tls = Boolean(env.DOCKER_TLS_VERIFY) || value.startsWith('https://');
  const options: Docker.DockerOptions = { host: m[1], port: Number(m[2] ?? (tls ? 2376 : 2375)), protocol: tls ? 'https' : 'http' };
  if (tls && env.DOCKER_CERT_PATH) {
    const read = (f: string): Buffer | undefined => {
      try {
        return readFileSync(join(env.DOCKER_CERT_PATH!, f));
      } catch {
        return undefined;
      }
    };
    Object.assign(options, { ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem') });
  }
  return { label, options };
}

/** The endpoints to try, in order: DOCKER_HOST, then the sockets (ISOLAB_DOCKER_SOCKETS or /var/run/docker.sock). */
export function dockerEndpoints(env: NodeJS.ProcessEnv = process.env): DockerEndpoint[] {
  const out: DockerEndpoint[] = [];
  if (env.DOCKER_HOST) out.push(fromDockerHost(env.DOCKER_HOST, env));
  const sockets = env[SOCKETS_ENV] !== undefined
    ? env[SOCKETS_ENV]!.split(',').map((s) => s.trim()).filter(Boolean)
    : [DEFAULT_SOCKET];
  for (const s of sockets) {
    if (out.some((e) => e.options.socketPath === s)) continue;
    out.push({ label: s, options: { socketPath: s } });
  }
  return out;
}

function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { statusCode?: number };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'no answer';
  if (e?.code === 'ENOENT') return 'no such socket';
  if (e?.code === 'ECONNREFUSED') return 'connection refused';
  if (e?.code === 'EACCES') return 'permission denied';
  if (e?.statusCode) return `HTTP ${e.statusCode}`;
  return (e?.message ?? String(err)).split('\n')[0]!;
}

/** Tries each endpoint in order; resolves with the first engine that answers, else throws DockerUnreachableError. */
export async function connectDocker(opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<DockerConnection> {
  const timeoutMs = opts.timeoutMs ?? 3000;
  const tried: string[] = [];
  const endpoints = dockerEndpoints(opts.env);
  for (const ep of endpoints) {
    const docker = new Docker(ep.options);
    try {
      const abortSignal = AbortSignal.timeout(timeoutMs);
      const withSignal = docker as unknown as { ping(o: object): Promise<unknown>; version(o: object): Promise<Docker.DockerVersion> };
      await withSignal.ping({ abortSignal });
      const version = await withSignal.version({ abortSignal });
      return { docker, endpoint: ep.label, version };
    } catch (err) {
      tried.push(`${ep.label}: ${reason(err)}`);
    }
  }
  if (endpoints.length === 0) tried.push(`no endpoint: DOCKER_HOST unset and ${SOCKETS_ENV} empty`);
  throw new DockerUnreachableError(`Docker engine not reachable (tried ${tried.join('; ')})`);
}

let shared: Promise<DockerConnection> | undefined;

/** The process-wide connection: made on first use, made again after a failure. */
export function dockerConnection(): Promise<DockerConnection> {
  if (!shared) {
    shared = connectDocker();
    shared.catch(() => {
      shared = undefined;
    });
  }
  return shared;
}

/** True when a dockerode error is an HTTP 404 (no such container or image). */
export function isNotFound(err: unknown): boolean {
  return (err as { statusCode?: number })?.statusCode === 404;
}
