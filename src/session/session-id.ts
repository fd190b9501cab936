import { UsageError } from '../cli/errors.js';

/** Environment variable that sets the session id of a run (otherwise a random one is made). */
export const SESSION_ENV = 'ISOLAB_SESSION';

/** Name prefix of every named resource: containers, domains, cgroups, temp folders. */
export const NAME_PREFIX = 'isolab-';

/** The one pattern a session id must match, everywhere: 4 to 32 lowercase letters and digits (no `-`). */
export const SESSION_ID_PATTERN = /^[0-9a-z]{4,32}$/;

const NAME_PATTERN = new RegExp(`^${NAME_PREFIX}([0-9a-z]{4,32})-`);

/** Thrown when a session id (from `ISOLAB_SESSION` or a flag) does not match {@link SESSION_ID_PATTERN}. */
export class InvalidSessionError extends UsageError {}

/** True when `id` is a valid session id. */
export function isSessionId(id: unknown): id is string {
  return typeof id === 'string' && SESSION_ID_PATTERN.test(id);
}

/** Returns `id` when valid, else throws an {@link InvalidSessionError} naming `what` (e.g. `ISOLAB_SESSION`). */
export function checkSessionId(id: string, what = 'session id'): string {
  if (!SESSION_ID_PATTERN.test(id)) {
    const shown = JSON.stringify(id.length > 40 ? `${id.slice(0, 40)}…` : id);
    throw new InvalidSessionError(`${what} ${shown} is not a valid session id (4 to 32 of a-z and 0-9)`);
  }
  return id;
}

/** The session id from `ISOLAB_SESSION`, undefined when unset or empty; throws when set but invalid. */
export function sessionIdFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const v = env[SESSION_ENV];
  if (v === undefined || v === '') return undefined;
  return checkSessionId(v, SESSION_ENV);
}

/** The session id in a resource name `isolab-<session>-<suffix>`, or undefined when the name is not of that form. */
export function sessionOfName(name: string): string | undefined {
  return NAME_PATTERN.exec(name)?.[1];
}
