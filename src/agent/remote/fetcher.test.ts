import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { serveInput, type InputServer } from '../../frameworks/input-server.js';
import { fetchRange, fetchTaskInput } from './fetcher.js';

describe('input served over HTTP with Range requests, fetched per task', () => {
  const servers: InputServer[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });
  const setup = async (text: string, dropRequest?: number): Promise<{ dir: string; path: string; server: InputServer }> => {
    const dir = mkdtempSync(join(tmpdir(), 'isolab-fetch-'));
    const path = join(dir, 'input');
    writeFileSync(path, text);
    const server = await serveInput({ path, size: Buffer.byteLength(text), host: '127.0.0.1', dropRequest });
    servers.push(server);
    return { dir, path, server };
  };

  it('writes the byte before the range, the range and the rest of its last word at their own offsets in a sparse file of the input\'s size', async () => {
    const words = 'alpha beta gamma delta epsilon ' + 'x'.repeat(10_000) + ' tail';
    const { dir, server } = await setup(words);
    const out = mkdtempSync(join(dir, 'sandbox-'));
    // range [8, 14): "ta gam"; its last word "gamma" runs past the end; the byte before (7) says it starts mid-word
    const p = await fetchTaskInput(server.url, 8, 14, words.length, out);
    const got = readFileSync(p);
    expect(statSync(p).size).toBe(words.length);
    expect(got.subarray(7, 16).toString()).toBe('eta gamma');
    expect(got.subarray(0, 7).every((b) => b === 0)).toBe(true);
    // a last word longer than the first tail chunk is followed in growing chunks to its end
    const q = await fetchTaskInput(server.url, 25, 32, words.length, mkdtempSync(join(dir, 'sandbox-')));
    const long = readFileSync(q);
    expect(long.subarray(24, 31 + 10_000 + 1).toString()).toBe(words.slice(24, 31 + 10_000 + 1));
  });

  it('fails a fetch cut halfway with a clear reason (injected: the server drops request 1)', async () => {
    const { server } = await setup('one two three four five six seven', 1);
    await expect(fetchRange(server.url, 0, 19, 33)).rejects.toThrow(/^input fetch failed: bytes 0-19 from the input server at 127\.0\.0\.1:\d+: (connection lost after 10 of 20 bytes|got 10 bytes, expected 20)/);
  });

  it('refuses an input of another size and a wrong path; a range past the end is 416', async () => {
    const { server } = await setup('one two three');
    await expect(fetchRange(server.url, 0, 3, 99)).rejects.toThrow(/the input has 13 bytes now, not the 99 the job counts/);
    await expect(fetchRange(server.url.replace(/[0-9a-f]{32}$/, '0'.repeat(32)), 0, 3, 13)).rejects.toThrow(/answered 404/);
    await expect(fetchRange(server.url, 20, 30, 13)).rejects.toThrow(/answered 416/);
    expect(server.requests).toBe(1);
  });
});
