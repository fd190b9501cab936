import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { sessionOfName } from '../../session/session-id.js';
import { vmRunRoot } from './paths.js';

/** How a directly started QEMU ended. */
export interface QemuExit {
  /** Exit code, null when a signal ended it. */
  code: number | null;
  /** The signal, if any. */
  signal: string | null;
  /** Clock time of the exit (ms since the epoch, performance-based). */
  at: number;
  /** Last lines QEMU wrote on stderr. */
  stderr: string;
}

/** A QEMU process isolab started itself (no libvirt): vm:micro and vm:snapshot. */
export class QemuProcess {
  /** The child. */
  readonly child: ChildProcess;
  /** Resolves when it exited. */
  readonly exited: Promise<QemuExit>;
  private stderr = '';
  private ended = false;

  constructor(argv: string[], opts: { fd3?: number } = {}) {
    const stdio: (number | 'ignore' | 'pipe')[] = ['ignore', 'ignore', 'pipe'];
    if (opts.fd3 !== undefined) stdio.push(opts.fd3);
    this.child = spawn(argv[0]!, argv.slice(1), { stdio, detached: true });
    this.child.stderr!.on('data', (b: Buffer) => {
      this.stderr = (this.stderr + b.toString()).slice(-4000);
    });
    this.exited = new Promise<QemuExit>((resolve) => {
      const done = (code: number | null, signal: string | null): void => {
        this.ended = true;
        resolve({ code, signal, at: performance.timeOrigin + performance.now(), stderr: this.stderr.trim() });
      };
      this.child.once('exit', done);
      this.child.once('error', (err) => {
        this.stderr += err.message;
        done(null, null);
      });
    });
  }

  /** Its pid (undefined when the spawn failed). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** True until it exited. */
  get running(): boolean {
    return !this.ended;
  }

  /** Kills it (SIGKILL; its disks are read-only) and waits for the exit. */
  async kill(): Promise<QemuExit> {
    if (!this.ended && this.child.pid !== undefined) {
      try {
        process.kill(this.child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    return this.exited;
  }
}

/** A QEMU process some isolab session started directly, found through its `-pidfile` in the run folder. */
export interface DirectQemu {
  /** Its pid. */
  pid: number;
  /** Its run folder (`vmRunRoot()/isolab-<session>-…`). */
  runDir: string;
  /** Owning session. */
  session: string;
}

/**
 * The directly started QEMU processes of any session: a `qemu-system-*` whose `-pidfile` lies in a
 * session-named folder of the run root (libvirt's QEMU keeps its pid file under /run/libvirt).
 */
export function directQemuProcesses(root = vmRunRoot()): DirectQemu[] {
  const out: DirectQemu[] = [];
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return out;
  }
  for (const p of pids) {
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${p}/cmdline`, 'latin1').split('\0');
    } catch {
      continue;
    }
    if (!basename(argv[0] ?? '').startsWith('qemu-system-')) continue;
    const i = argv.indexOf('-pidfile');
    const file = i >= 0 ? argv[i + 1] : undefined;
    if (!file || !file.startsWith(`${root}/`)) continue;
    const dir = file.slice(root.length + 1).split('/')[0]!;
    const session = sessionOfName(dir);
    if (session) out.push({ pid: Number(p), runDir: `${root}/${dir}`, session });
  }
  return out;
}
