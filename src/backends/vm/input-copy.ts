import { chmodSync, copyFileSync, mkdirSync, rmSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';

/** Disks are read in 512-byte sectors: copies are padded with zeros up to a multiple of this. */
export const SECTOR = 512;

/** A read-only copy of a task's input, ready to hand to libvirt as a raw disk. */
export interface InputCopy {
  /** Path of the padded copy. */
  path: string;
  /** Size of the original (the logical input size the executor is told). */
  size: number;
  /** Drops this task's claim; the file is removed when no task uses it any more. */
  release(): void;
}

interface Entry {
  path: string;
  size: number;
  users: number;
}

/**
 * Copies of input files in the lab's state folder, shared by the tasks of one session that read
 * the same file (libvirt chowns the files it is given, so it never gets the user's original).
 * A copy is keyed by path, size and mtime, padded to whole sectors, and removed with its last user.
 */
export class InputCopies {
  private readonly entries = new Map<string, Entry>();
  private seq = 0;

  constructor(
    /** Folder the copies go to. */
    readonly dir: string,
    /** Prefix of the copies' names, e.g. `isolab-<session>-input`. */
    readonly prefix: string,
  ) {}

  /**
   * A copy of `source` for one task; with `capacity`, made that long (sparse) so the guest sees a
   * disk of that size (a restored snapshot keeps its template's); an input longer than it is refused.
   */
  acquire(source: string, capacity?: number): InputCopy {
    const st = statSync(source);
    if (capacity !== undefined && st.size > capacity) {
      throw new Error(`input of ${st.size} bytes is larger than the snapshot's input disk (${capacity} bytes)`);
    }
    const key = `${source}\0${st.size}\0${st.mtimeMs}\0${capacity ?? ''}`;
    let e = this.entries.get(key);
    if (!e) {
      mkdirSync(this.dir, { recursive: true });
      const path = join(this.dir, `${this.prefix}-${++this.seq}.raw`);
      copyFileSync(source, path);
      chmodSync(path, 0o600);
      const padded = capacity ?? Math.max(SECTOR, Math.ceil(st.size / SECTOR) * SECTOR);
      truncateSync(path, padded);
      e = { path, size: st.size, users: 0 };
      this.entries.set(key, e);
    }
    e.users++;
    const entry = e;
    let released = false;
    return {
      path: entry.path,
      size: entry.size,
      release: () => {
        if (released) return;
        released = true;
        if (--entry.users > 0) return;
        this.entries.delete(key);
        rmSync(entry.path, { force: true });
      },
    };
  }

  /** Removes every copy still held. */
  clear(): void {
    for (const e of this.entries.values()) rmSync(e.path, { force: true });
    this.entries.clear();
  }
}
