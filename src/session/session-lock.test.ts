import { existsSync, mkdtempSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootId, parseProcStat, procStartTime, procStat } from './proc.js';
import { checkSessionId, InvalidSessionError, isSessionId, sessionIdFromEnv, sessionOfName } from './session-id.js';
import { acquireSessionLock, holderAlive, inspectSession, SessionInUseError, sessionDir, type SessionRecord } from './session-lock.js';
import { Session } from './session.js';
import { exited, sessionHolder } from '../../test/reaper/helpers.js';

const state = mkdtempSync(join(tmpdir(), 'isolab-lock-test-'));
let saved: string | undefined;
beforeAll(() => {
  saved = process.env.ISOLAB_STATE_DIR;
  process.env.ISOLAB_STATE_DIR = state;
});
afterAll(() => {
  if (saved === undefined) delete process.env.ISOLAB_STATE_DIR;
  else process.env.ISOLAB_STATE_DIR = saved;
});

const holder = sessionHolder;

describe('session ids: one pattern everywhere', () => {
  it('accepts 4-32 lowercase letters and digits, nothing else', () => {
    for (const ok of ['abcd', '0123', 'a'.repeat(32), 'vmp1mab3x9']) expect(isSessionId(ok), ok).toBe(true);
    for (const bad of ['abc', 'a'.repeat(33), 'ABCD', 'ab-cd', 'ab_cd', 'ab.cd', '../x', 'abcd\n', '', 'ab cd']) expect(isSessionId(bad), bad).toBe(false);
  });

  it('reads the session out of resource names, only of the isolab-<id>- form', () => {
    expect(sessionOfName('isolab-ab12cd34-t1')).toBe('ab12cd34');
    expect(sessionOfName('isolab-ab12cd34-probe-x-kvm')).toBe('ab12cd34');
    for (const n of ['isolab-foo', 'isolab-FOO1-x', 'isolab-ab_cd-x', 'isolab--x', 'xisolab-abcd-x', 'isolab-abc-x']) expect(sessionOfName(n), n).toBeUndefined();
  });

  it('ISOLAB_SESSION is validated: unset or empty gives none, an invalid one is a usage error naming the variable', () => {
    expect(sessionIdFromEnv({})).toBeUndefined();
    expect(sessionIdFromEnv({ ISOLAB_SESSION: '' })).toBeUndefined();
    expect(sessionIdFromEnv({ ISOLAB_SESSION: 'good1234' })).toBe('good1234');
    expect(() => sessionIdFromEnv({ ISOLAB_SESSION: 'Bad-Id' })).toThrow(InvalidSessionError);
    expect(() => sessionIdFromEnv({ ISOLAB_SESSION: 'Bad-Id' })).toThrow(/^ISOLAB_SESSION "Bad-Id" is not a valid session id/);
    expect(() => checkSessionId('x/../../etc')).toThrow(InvalidSessionError);
    expect(() => new Session('no-dashes')).toThrow(InvalidSessionError);
  });
});

describe('proc stat', () => {
  it('parses a command name with spaces and parentheses', () => {
    const line = '123 (a b) c)) S 1 123 123 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 1 0 4242 1000 50 18446744073709551615';
    expect(parseProcStat(line)).toMatchObject({ ppid: 1, pgid: 123, startTime: 4242, cpuMs: 100, rssBytes: 50 * 4096 });
    expect(procStat(process.pid)?.startTime).toBeGreaterThan(0);
    expect(procStat(2 ** 30)).toBeUndefined();
  });
});

describe('session lock', () => {
  it('is taken on first use, names this process, and shows the session live to others until close', async () => {
    const s = new Session('lockself1');
    expect(inspectSession(s.id).state).toBe('none');
    s.name('t1');
    expect(s.locked).toBe(true);
    const st = inspectSession(s.id);
    expect(st.state).toBe('live');
    expect(st.record).toMatchObject({ session: s.id, pid: process.pid, startTime: procStartTime(process.pid), bootId: bootId(), holder: 'session' });
    expect((await s.close())).toEqual([]);
    expect(s.locked).toBe(false);
    expect(inspectSession(s.id).state).toBe('none');
    expect(existsSync(sessionDir(s.id))).toBe(false);
  });

  it('a second process cannot take a session id that is in use, and is told by whom', async () => {
    const child = await holder('lockbusy1');
    try {
      expect(inspectSession('lockbusy1')).toMatchObject({ state: 'live', record: { pid: child.pid } });
      expect(() => acquireSessionLock('lockbusy1', 'session', 0)).toThrow(SessionInUseError);
      expect(() => acquireSessionLock('lockbusy1', 'session', 0)).toThrow(new RegExp(`in use by pid ${child.pid}`));
      expect(() => new Session('lockbusy1').hold()).toThrow(SessionInUseError);
    } finally {
      child.kill('SIGKILL');
      await exited(child);
    }
  });

  it('a session whose process died (SIGKILL, no cleanup) is dead, and its id can be taken again', async () => {
    const child = await holder('lockdead1');
    child.kill('SIGKILL');
    await exited(child);
    const st = inspectSession('lockdead1');
    expect(st.state).toBe('dead');
    expect(st.record?.pid).toBe(child.pid);
    const l = acquireSessionLock('lockdead1');
    expect(JSON.parse(readFileSync(l.path, 'utf8'))).toMatchObject({ pid: process.pid });
    l.release(true);
    expect(existsSync(sessionDir('lockdead1'))).toBe(false);
  });

  it('without flock, a record counts as live only if its pid still has the recorded start time in this boot', () => {
    const me: SessionRecord = { session: 'x1x1', pid: process.pid, startTime: procStartTime(process.pid)!, bootId: bootId(), since: '', holder: 'session' };
    expect(holderAlive(me)).toBe(true);
    expect(holderAlive({ ...me, startTime: me.startTime - 1 })).toBe(false);
    expect(holderAlive({ ...me, bootId: 'another-boot' })).toBe(false);
    expect(holderAlive({ ...me, pid: 2 ** 30 })).toBe(false);
  });

  it('does not follow a symlink planted at the lock path', () => {
    const dir = sessionDir('locklink1');
    mkdirSync(dir, { recursive: true });
    const target = join(state, 'victim');
    writeFileSync(target, 'keep');
    symlinkSync(target, join(dir, 'lock'));
    expect(() => acquireSessionLock('locklink1')).toThrow(/ELOOP|symbolic/i);
    expect(readFileSync(target, 'utf8')).toBe('keep');
  });
});

