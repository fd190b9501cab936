import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LaunchedTask } from '../../master/types.js';

/** What the agent keeps of a running task so that, after a restart, its backend can find the instance again. */
export interface TaskCheckpoint {
  /** The task as its backend was given it (its input already local). */
  task: LaunchedTask;
  /** The backend's checkpoint (Backend.checkpoint). */
  checkpoint: unknown;
  /** The task's sandbox. */
  sandbox?: string;
}

/** Per-task checkpoint files in the agent's work dir (Mesos' agent meta dir, in small). */
export class Checkpoints {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  private file(task: Pick<LaunchedTask, 'taskId' | 'frameworkId'>): string {
    return join(this.dir, `${createHash('sha256').update(`${task.frameworkId}\u0000${task.taskId}`).digest('hex').slice(0, 32)}.json`);
  }

  /** Keeps a task's checkpoint (written whole, through a rename). */
  save(c: TaskCheckpoint): void {
    const f = this.file(c.task);
    writeFileSync(`${f}.tmp`, JSON.stringify(c) + '\n', { mode: 0o600 });
    renameSync(`${f}.tmp`, f);
  }

  /** Drops a task's checkpoint. */
  remove(task: Pick<LaunchedTask, 'taskId' | 'frameworkId'>): void {
    rmSync(this.file(task), { force: true });
  }

  /** Every checkpoint a previous run left. */
  load(): TaskCheckpoint[] {
    const out: TaskCheckpoint[] = [];
    for (const n of readdirSync(this.dir)) {
      if (!n.endsWith('.json')) continue;
      try {
        const c = JSON.parse(readFileSync(join(this.dir, n), 'utf8')) as TaskCheckpoint;
        if (c?.task?.taskId && c.task.frameworkId) out.push(c);
        else rmSync(join(this.dir, n), { force: true });
      } catch {
        rmSync(join(this.dir, n), { force: true });
      }
    }
    return out;
  }
}
