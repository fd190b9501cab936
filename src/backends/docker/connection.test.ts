import { describe, expect, it } from 'vitest';
import { connectDocker, dockerEndpoints, DockerUnreachableError } from './connection.js';
import { memoryInUse, signalOfStatus } from './docker-backend.js';

describe('docker endpoints', () => {
  it('tries DOCKER_HOST first, then the default socket', () => {
    expect(dockerEndpoints({ DOCKER_HOST: 'unix:///run/x.sock' }).map((e) => e.label)).toEqual(['DOCKER_HOST=unix:///run/x.sock', '/var/run/docker.sock']);
    expect(dockerEndpoints({}).map((e) => e.options.socketPath)).toEqual(['/var/run/docker.sock']);
  });

  it('reads tcp hosts and ISOLAB_DOCKER_SOCKETS (empty: no socket), without duplicates', () => {
    const eps = dockerEndpoints({ DOCKER_HOST: 'tcp://10.0.0.2:2375', ISOLAB_DOCKER_SOCKETS: '/a.sock, /b.sock' });
    expect(eps.map((e) => e.label)).toEqual(['DOCKER_HOST=tcp://10.0.0.2:2375', '/a.sock', '/b.sock']);
    expect(eps[0]!.options).toMatchObject({ host: '10.0.0.2', port: 2375, protocol: 'http' });
    expect(dockerEndpoints({ ISOLAB_DOCKER_SOCKETS: '' })).toEqual([]);
    expect(dockerEndpoints({ DOCKER_HOST: 'unix:///a.sock', ISOLAB_DOCKER_SOCKETS: '/a.sock' })).toHaveLength(1);
  });

  it('names every endpoint tried and why when none answers', async () => {
    const err = await connectDocker({ env: { DOCKER_HOST: 'unix:///nonexistent.sock', ISOLAB_DOCKER_SOCKETS: '/nonexistent2.sock' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DockerUnreachableError);
    expect((err as Error).message).toBe(
      'Docker engine not reachable (tried DOCKER_HOST=unix:///nonexistent.sock: no such socket; /nonexistent2.sock: no such socket)',
    );
  });
});

describe('docker result helpers', () => {
  it('maps 128+n exit statuses to signals', () => {
    expect(signalOfStatus(137)).toBe('SIGKILL');
    expect(signalOfStatus(143)).toBe('SIGTERM');
    expect(signalOfStatus(3)).toBeUndefined();
    expect(signalOfStatus(128)).toBeUndefined();
  });

  it('counts memory like docker stats: usage minus inactive file cache (v1 and v2 names)', () => {
    expect(memoryInUse({ usage: 10_000, stats: { total_inactive_file: 4_000 } } as never)).toBe(6_000);
    expect(memoryInUse({ usage: 10_000, stats: { inactive_file: 1_000 } } as never)).toBe(9_000);
    expect(memoryInUse({ usage: 10_000, stats: {} } as never)).toBe(10_000);
    expect(memoryInUse(undefined)).toBeUndefined();
  });
});
