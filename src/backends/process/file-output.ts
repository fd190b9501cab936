import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';

/** Files of an executor whose output goes to a folder instead of pipes (so an agent restart does not lose it). */
export interface OutputFiles {
  /** The executor's stdout (its message lines). */
  stdout: string;
  /** Its stderr. */
  stderr: string;
  /** Written by the wrapper shell when the executor exits: its exit status, one number. */
  exit: string;
}

/** The output files in `dir`. */
export function outputFiles(dir: string): OutputFiles {
  return { stdout: join(dir, 'stdout'), stderr: join(dir, 'stderr'), exit: join(dir, 'exit') };
}

/**
 * The wrapper shell script: joins the task's cgroups (when given), runs the executor ("$@") as its
 * child, then writes the exit status to the file named by $0 (through a rename, so it is whole) and
 * exits with it. The shell stays as the process group leader, so the group can be signalled whole.
 */
export function wrapperScript(cgroupDirs: readonly string[]): string {
  const join_ = cgroupDirs.map((d) => `echo $$ > '${d}/cgroup.procs'`).join(' && ');
  return `${join_ ? `{ ${join_}; } || exit 125; ` : ''}"$@"; c=$?; echo "$c" > "$0.tmp" && mv "$0.tmp" "$0"; exit "$c"`;
}

/** Reads a wrapper's exit status file: the status, or undefined when it was not written (the wrapper was killed). */
export function readExitStatus(path: string): number | undefined {
  try {
    const fd = openSync(path, 'r');
    try {
      const buf = Buffer.alloc(16);
      const n = readSync(fd, buf, 0, 16, 0);
      const v = Number(buf.subarray(0, n).toString('latin1').trim());
      return Number.isInteger(v) && v >= 0 && v < 256 ? v : undefined;
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/**
 * Follows a file that another process appends to (`tail -f`), from its start: each new chunk goes to
 * `onChunk`, polled every `everyMs`. finish() reads what is left and stops.
 */
export class FileTail {
  private offset = 0;
  private timer?: NodeJS.Timeout;
  private done = false;

  constructor(
    private readonly path: string,
    private readonly onChunk: (b: Buffer) => void,
    private readonly everyMs = 25,
  ) {}

  /** Starts polling. */
  start(): void {
    if (this.done || this.timer) return;
    const tick = (): void => {
      this.read();
      if (!this.done) this.timer = setTimeout(tick, this.everyMs);
    };
    tick();
  }

  /** Reads to the end of the file once more and stops. */
  finish(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.done) this.read();
    this.done = true;
  }

  private read(): void {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      return;
    }
    try {
      const buf = Buffer.alloc(256 * 1024);
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, this.offset);
        if (n <= 0) break;
        this.offset += n;
        this.onChunk(Buffer.from(buf.subarray(0, n)));
      }
    } finally {
      closeSync(fd);
    }
  }
}
