import { createHash, timingSafeEqual } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/**
 * Credentials, after Mesos' `--credentials` file: principals and their secrets. The master checks
 * every request's HTTP Basic `Authorization` against them (Mesos' `--authenticate_frameworks` and
 * `--authenticate_http_readonly`); frameworks and agents present one of them. The file is JSON:
 *
 *     {"credentials": [{"principal": "wordcount", "secret": "..."}]}
 *
 * A client may also be given a file with a single `{"principal": ..., "secret": ...}` object. The
 * file must be a regular file of at most 64 KiB that neither its group can write nor others can
 * read or write (mode 0600 or 0640).
 */

/** One principal and its secret. */
export interface Credential {
  /** Who: a framework's or an agent's name; no `:` (HTTP Basic splits on it), no control characters. */
  principal: string;
  /** The shared secret. */
  secret: string;
}

/** A credentials file that cannot be used; the message is one line, fit for the CLI. */
export class CredentialsError extends Error {}

/** Largest credentials file read (bytes). */
const MAX_FILE_BYTES = 64 * 1024;

/** Reads and checks a credentials file (list or single form); throws CredentialsError saying what is wrong. */
export function loadCredentials(path: string): Credential[] {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOCTTY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CredentialsError(`${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code ?? 'cannot open'}`);
  }
  let text: string;
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new CredentialsError(`${path}: not a regular file`);
    if ((st.mode & 0o007) !== 0 || (st.mode & 0o020) !== 0) {
      throw new CredentialsError(
        `${path}: mode ${(st.mode & 0o777).toString(8).padStart(4, '0')} lets ${st.mode & 0o007 ? 'other users' : 'its group'} ${st.mode & 0o002 || st.mode & 0o020 ? 'change' : 'read'} it; run chmod 600 ${path}`,
      );
    }
    if (st.size > MAX_FILE_BYTES) throw new CredentialsError(`${path}: larger than ${MAX_FILE_BYTES} bytes`);
    const buf = Buffer.alloc(Math.min(st.size + 1, MAX_FILE_BYTES + 1));
    const n = readSync(fd, buf, 0, buf.length, 0);
    text = buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
  return parseCredentials(text, path);
}

/** Parses credentials JSON (list or single form); `where` names the source in errors. */
export function parseCredentials(text: string, where = 'credentials'): Credential[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new CredentialsError(`${where}: not JSON (expected {"credentials":[{"principal":"...","secret":"..."}]})`);
  }
  const list = doc && typeof doc === 'object' && !Array.isArray(doc) && 'credentials' in doc ? (doc as { credentials: unknown }).credentials : [doc];
  if (!Array.isArray(list) || list.length === 0) throw new CredentialsError(`${where}: "credentials" must be a non-empty list`);
  const seen = new Set<string>();
  return list.map((c, i) => {
    const o = (c ?? {}) as Record<string, unknown>;
    const { principal, secret } = o;
    const at = `${where}: credential ${i + 1}`;
    if (typeof principal !== 'string' || principal === '') throw new CredentialsError(`${at}: "principal" must be a non-empty string`);
    if (/[:\u0000-\u001f\u007f]/.test(principal)) throw new CredentialsError(`${at}: "principal" must not contain ":" or control characters`);
    if (typeof secret !== 'string' || secret === '') throw new CredentialsError(`${at}: "secret" must be a non-empty string`);
    if (/[\u0000-\u001f\u007f]/.test(secret)) throw new CredentialsError(`${at}: "secret" must not contain control characters`);
    if (seen.has(principal)) throw new CredentialsError(`${at}: principal "${principal.slice(0, 32)}" given twice`);
    seen.add(principal);
    return { principal, secret };
  });
}

/** The `Authorization` header value a client sends (HTTP Basic). */
export function basicAuthorization(c: Credential): string {
  return `Basic ${Buffer.from(`${c.principal}:${c.secret}`, 'utf8').toString('base64')}`;
}

/** The outcome of checking one request's credentials. */
export type AuthResult = { ok: true; principal: string } | { ok: false; reason: string };

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * Checks HTTP Basic credentials against a set of principals. Secrets are compared in constant time
 * (of their SHA-256), and an unknown principal costs the same comparison as a wrong secret.
 */
export class Authenticator {
  private readonly secrets = new Map<string, Buffer>();
  private readonly dummy = digest('isolab: no such principal');

  constructor(credentials: readonly Credential[]) {
    for (const c of credentials) this.secrets.set(c.principal, digest(c.secret));
  }

  /** The principal an `Authorization` header proves, or why it proves none (one line, no secret in it). */
  check(header: string | undefined): AuthResult {
    if (header === undefined || header === '') return { ok: false, reason: 'authentication required (HTTP Basic)' };
    const m = /^Basic[ ]+([A-Za-z0-9+/]+={0,2})[ ]*$/i.exec(header);
    if (!m) return { ok: false, reason: 'only HTTP Basic authentication is supported' };
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) return { ok: false, reason: 'malformed HTTP Basic credentials' };
    const principal = decoded.slice(0, colon);
    const expected = this.secrets.get(principal);
    const same = timingSafeEqual(expected ?? this.dummy, digest(decoded.slice(colon + 1)));
    return expected && same ? { ok: true, principal } : { ok: false, reason: 'wrong principal or secret' };
  }
}
