import { countFileRange } from '../workload/count.js';
import { encodeTable } from '../workload/counts.js';
import { decodeTask, encodeMessage, type ExecutorMessage, type ExecutorTask, type ExecutorUsage } from './protocol.js';

function emit(m: ExecutorMessage): void {
  process.stdout.write(encodeMessage(m) + '\n');
}

/** The executor's own usage (node's process.resourceUsage: getrusage of this process). */
function ownUsage(): ExecutorUsage {
  const u = process.resourceUsage();
  return { cpuUserMs: Math.round(u.userCPUTime / 100) / 10, cpuSystemMs: Math.round(u.systemCPUTime / 100) / 10, maxRssBytes: u.maxRSS * 1024 };
}

async function run(task: ExecutorTask): Promise<void> {
  emit({ type: 'ready', taskId: task.taskId, pid: process.pid, node: process.version, uptimeMs: Math.round(process.uptime() * 1000) });
  switch (task.mode) {
    case 'wordcount': {
      if (task.input === undefined || task.start === undefined || task.end === undefined) throw new Error('wordcount needs input, start and end');
      const t0 = performance.now();
      const table = await countFileRange(task.input, task.start, task.end, task.size);
      const countMs = performance.now() - t0;
      emit({
        type: 'result', taskId: task.taskId, words: table.total, distinct: table.distinct,
        bytes: Math.max(0, task.end - task.start), countMs: Math.round(countMs * 1000) / 1000, counts: encodeTable(table),
      });
      emit({ type: 'done', taskId: task.taskId, usage: ownUsage() });
      return;
    }
    case 'idle':
      await new Promise<void>((resolve) => {
        const keep = setInterval(() => {}, 1 << 30);
        const end = (): void => {
          clearInterval(keep);
          resolve();
        };
        process.once('SIGTERM', end);
        process.once('SIGINT', end);
      });
      emit({ type: 'done', taskId: task.taskId, usage: ownUsage() });
      return;
    case 'hang':
      await new Promise<void>(() => setInterval(() => {}, 1 << 30));
      return;
    case 'crash':
      process.stdout.write('', () => process.exit(3));
      await new Promise<void>(() => {});
      return;
    default:
      throw new Error(`unknown mode ${String((task as { mode: unknown }).mode)}`);
  }
}

/** Executor entry: the task comes as the first argument or ISOLAB_TASK (JSON or base64url JSON). */
async function main(): Promise<void> {
  const raw = process.argv[2] ?? process.env.ISOLAB_TASK;
  let task: ExecutorTask;
  try {
    if (!raw) throw new Error('no task given (argument or ISOLAB_TASK)');
    task = decodeTask(raw);
  } catch (err) {
    process.stderr.write(`isolab-executor: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
    return;
  }
  try {
    await run(task);
  } catch (err) {
    emit({ type: 'error', taskId: task.taskId, message: err instanceof Error ? err.message : String(err) });
    process.exitCode = 1;
  }
}

void main();
