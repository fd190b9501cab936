import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Authenticator, basicAuthorization, loadCredentials, parseCredentials } from '../../src/http/auth.js';

const dir = mkdtempSync(join(tmpdir(), 'isolab-test-creds-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = (text: string, mode: number): string => {
  const p = join(dir, `credentials-${++n}.json`);
  writeFileSync(p, text);
  chmodSync(p, mode);
  return p;
};
const GOOD = JSON.stringify({ credentials: [{ principal: 'wordcount', secret: 's3cret' }, { principal: 'agent-1', secret: 'x' }] });

describe('credentials file (Mesos\' --credentials JSON)', () => {
  it('reads the list form and the single form', () => {
    expect(loadCredentials(file(GOOD, 0o600))).toEqual([{ principal: 'wordcount', secret: 's3cret' }, { principal: 'agent-1', secret: 'x' }]);
    expect(loadCredentials(file('{"principal":"p","secret":"s"}', 0o640))).toEqual([{ principal: 'p', secret: 's' }]);
  });

  it('refuses a file others can read or its group can write, with the fix', () => {
    expect(() => loadCredentials(file(GOOD, 0o644))).toThrow(/mode 0644 lets other users read it; run chmod 600/);
    expect(() => loadCredentials(file(GOOD, 0o604))).toThrow(/lets other users read it/);
    expect(() => loadCredentials(file(GOOD, 0o620))).toThrow(/lets its group change it/);
  });

  it('one line for each kind of bad file', () => {
    expect(() => loadCredentials('/nonexistent/creds.json')).toThrow('/nonexistent/creds.json: no such file');
    expect(() => loadCredentials(tmpdir())).toThrow(/not a regular file/);
    expect(() => parseCredentials('nope')).toThrow(/not JSON/);
    expect(() => parseCredentials('{"credentials":[]}')).toThrow(/non-empty list/);
    expect(() => parseCredentials('{"credentials":[{"principal":"a:b","secret":"s"}]}')).toThrow(/must not contain ":"/);
    expect(() => parseCredentials('{"credentials":[{"principal":"a","secret":""}]}')).toThrow(/"secret" must be a non-empty string/);
    expect(() => parseCredentials('{"credentials":[{"principal":"a","secret":"1"},{"principal":"a","secret":"2"}]}')).toThrow(/given twice/);
  });
});

describe('Authenticator (HTTP Basic)', () => {
  const auth = new Authenticator(parseCredentials(GOOD));
  it('accepts a known principal with its secret, and says who', () => {
    expect(auth.check(basicAuthorization({ principal: 'wordcount', secret: 's3cret' }))).toEqual({ ok: true, principal: 'wordcount' });
    expect(auth.check(basicAuthorization({ principal: 'agent-1', secret: 'x' }))).toEqual({ ok: true, principal: 'agent-1' });
  });

  it('refuses a missing header, another scheme, a wrong secret, an unknown principal, another principal\'s secret', () => {
    expect(auth.check(undefined)).toEqual({ ok: false, reason: 'authentication required (HTTP Basic)' });
    expect(auth.check('Bearer abc')).toEqual({ ok: false, reason: 'only HTTP Basic authentication is supported' });
    expect(auth.check(`Basic ${Buffer.from('nocolon').toString('base64')}`)).toEqual({ ok: false, reason: 'malformed HTTP Basic credentials' });
    for (const c of [{ principal: 'wordcount', secret: 'wrong' }, { principal: 'ghost', secret: 's3cret' }, { principal: 'wordcount', secret: 'x' }]) {
      expect(auth.check(basicAuthorization(c))).toEqual({ ok: false, reason: 'wrong principal or secret' });
    }
  });
});
