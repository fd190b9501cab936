import { chmodSync, copyFileSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { CONTAINER_USER } from './container-spec.js';

/** How a container reads its input as an unprivileged user: as whom, and from which host file. */
export interface InputAccess {
  /** `uid:gid` the executor runs as. */
  user: string;
  /** Host file to bind-mount (the input itself, or a readable copy). */
  path: string;
  /** Why not the default user and the input itself, when so. */
  note?: string;
}

/**
 * Picks the user a container runs as so that it can read its input, never root: nobody:nogroup
 * when the file is readable by others; nobody with the file's group when that group may read it;
 * the file's owner when it is not root; otherwise a world-readable copy (made by `copy`).
 */
export function inputAccess(path: string, st: Pick<Stats, 'mode' | 'uid' | 'gid'>, copy: () => string): InputAccess {
  const nobody = CONTAINER_USER.split(':')[0]!;
  if (st.mode & 0o004) return { user: CONTAINER_USER, path };
  if (st.mode & 0o040) return { user: `${nobody}:${st.gid}`, path, note: `input readable by its group ${st.gid} only` };
  if (st.mode & 0o400 && st.uid !== 0) return { user: `${st.uid}:${st.gid}`, path, note: `input readable by its owner ${st.uid} only` };
  return { user: CONTAINER_USER, path: copy(), note: 'input readable by root only: a world-readable copy is mounted' };
}

/** Readable copies of inputs, one per source file (path, size, mtime) for the life of a backend. */
export class ReadableCopies {
  private readonly copies = new Map<string, string>();
  private seq = 0;

  constructor(
    /** Folder the copies go to (the session's temp folder, removed with it). */
    private readonly dir: () => string,
  ) {}

  /** Access to `path` for a container's unprivileged user. */
  access(path: string): InputAccess {
    const st = statSync(path);
    return inputAccess(path, st, () => {
      const key = `${path}\0${st.size}\0${st.mtimeMs}`;
      let copy = this.copies.get(key);
      if (!copy) {
        copy = join(this.dir(), `container-input-${++this.seq}`);
        copyFileSync(path, copy);
        chmodSync(copy, 0o644);
        this.copies.set(key, copy);
      }
      return copy;
    });
  }
}
