import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bootId, procStartTime } from '../../src/session/proc.js';
import { inspectSession, sessionDir, type SessionRecord } from '../../src/session/session-lock.js';

/**
 * A separate process that holds session `id`'s lock the way a running isolab does (flock on
 * `sessions/<id>/lock`, a record naming it). It is one process (sh execs sleep, keeping the
 * locked descriptor), so killing it releases the lock.
 */
export async function sessionHolder(id: string): Promise<ChildProcess> {
  const dir = sessionDir(id);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const lock = join(dir, 'lock');
  writeFileSync(lock, '');
  const child = spawn('/bin/sh', ['-c', 'exec 3<"$0"; flock -x 3; exec sleep 300', lock], { stdio: 'ignore' });
  await new Promise((r) => child.once('spawn', r));
  for (let i = 0; i < 300 && inspectSession(id).state !== 'live'; i++) await new Promise((r) => setTimeout(r, 10));
  if (inspectSession(id).state !== 'live') throw new Error(`holder of ${id} did not take the lock`);
  const rec: SessionRecord = { session: id, pid: child.pid!, startTime: procStartTime(child.pid!)!, bootId: bootId(), since: new Date().toISOString(), holder: 'session' };
  writeFileSync(lock, JSON.stringify(rec));
  return child;
}

/** Resolves once the child has exited. */
export function exited(c: ChildProcess): Promise<unknown> {
  return new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(0) : c.once('exit', r)));
}

/** Kills a child and waits for it. */
export async function killChild(c: ChildProcess): Promise<void> {
  try {
    c.kill('SIGKILL');
  } catch {
    /* gone */
  }
  await exited(c);
}

/** A fresh valid session id for a test (`<tag><time><random>`, lowercase base 36). */
export function testSession(tag: string): string {
  return `${tag}${Date.now().toString(36)}${Math.floor(Math.random() * 46656).toString(36)}`.slice(0, 32);
}

/** True while a pid exists and is not a zombie (a killed orphan waits for init to reap it). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
