import { open } from 'node:fs/promises';
import { WasmWordTable } from '../workload/wasm-word-table.js';
import { decodeTask, encodeMessage, type ExecutorMessage, type ExecutorTask, type ExecutorUsage, type ResultMessage } from './protocol.js';

/** Gzip level 1 runs at roughly this many bytes per second here; compressing pays off on slower streams. */
const GZIP_BYTES_PER_SECOND = 40e6;

function emit(m: ExecutorMessage): void {
  process.stdout.write(encodeMessage(m) + '\n');
}

/** The executor's own usage (node's process.resourceUsage: getrusage of this process). */
function ownUsage(): ExecutorUsage {
  const u = process.resourceUsage();
  return { cpuUserMs: Math.round(u.userCPUTime / 100) / 10, cpuSystemMs: Math.round(u.systemCPUTime / 100) / 10, maxRssBytes: u.maxRSS * 1024 };
}

const ms = (t0: number): number => Math.round((performance.now() - t0) * 1000) / 1000;

async function countRange(task: ExecutorTask): Promise<ResultMessage> {
  const { input, start, end } = task;
  if (input === undefined || start === undefined || end === undefined) throw new Error('wordcount needs input, start and end');
  const t0 = performance.now();
  const fh = await open(input, 'r');
  let table: WasmWordTable;
  try {
    const st = await fh.stat();
    const size = task.size ?? (st.isFile() ? st.size : undefined);
    if (size === undefined) throw new Error(`${input} is not a regular file: its size must be given`);
    if (st.isFile() && st.size < size) throw new Error(`${input} has ${st.size} bytes, fewer than the ${size} to count`);
    table = await WasmWordTable.fromFile(fh, start, end, size);
  } finally {
    await fh.close();
  }
  const counted = performance.now();
  const t1 = performance.now();
  const canonical = table.canonical();
  const sort = ms(t1);
  const t2 = performance.now();
  const gzip = task.outputBytesPerSecond !== undefined && task.outputBytesPerSecond < GZIP_BYTES_PER_SECOND / 2;
  const counts = (gzip ? (await import('node:zlib')).gzipSync(canonical, { level: 1 }) : canonical).toString('base64');
  return {
    type: 'result', taskId: task.taskId, words: table.total, distinct: table.distinct, bytes: Math.max(0, end - start),
    countMs: ms(t0) - sort, counts, encoding: gzip ? 'canonical+gzip' : 'canonical', rawBytes: canonical.length,
    stagesMs: { read: table.readMs, count: Math.round((counted - t0 - table.readMs) * 1000) / 1000, sort, encode: ms(t2) },
  };
}

async function run(task: ExecutorTask): Promise<void> {
  emit({ type: 'ready', taskId: task.taskId, pid: process.pid, node: process.version, uptimeMs: Math.round(process.uptime() * 1000) });
  switch (task.mode) {
    case 'wordcount': {
      // Test-only: a map task that takes longer, so that tests can fault the cluster while it runs.
      const delay = Number(process.env.ISOLAB_TEST_EXECUTOR_DELAY_MS ?? 0);
      if (delay > 0) await new Promise((r) => setTimeout(r, Math.min(delay, 600_000)));
      const result = await countRange(task);
      if (process.env.ISOLAB_TEST_EXECUTOR_FAULT) {
        const { faultFor, misbehave } = await import('./test-faults.js');
        const fault = faultFor(task.taskId);
        if (fault) return misbehave(fault, result);
      }
      emit(result);
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
    case 'command': {
      const [{ runCommand, exitCodeOf }, { commandProblem }] = await Promise.all([import('./command.js'), import('./protocol.js')]);
      const problem = commandProblem(task.command);
      if (problem) throw new Error(problem);
      const m = await runCommand(task.taskId, task.command!);
      emit(m);
      process.exitCode = exitCodeOf(m);
      return;
    }
    case 'crash':
      process.stdout.write('', () => process.exit(3));
      await new Promise<void>(() => {});
      return;
    default:
      throw new Error(`unknown mode ${String((task as { mode: unknown }).mode)}`);
  }
}

/**
 * A snapshot template's executor: loads and compiles everything a task needs, says it is waiting,
 * then reads its task from standard input (the guest's console, after the restore).
 */
async function awaitTask(): Promise<ExecutorTask> {
  const [{ WAITING_MARKER, RESTORED_MARKER, decodeDelivery, readLine, refreshGuest, shrinkTemplate, warmUp }, { countKernelModule }] = await Promise.all([
    import('./await-task.js'), import('../workload/wasm/count-kernel.js'), import('node:zlib'), import('./command.js'),
  ]);
  countKernelModule();
  warmUp();
  shrinkTemplate();
  encodeMessage({ type: 'ready', taskId: 'warm-up', pid: 0, node: '', uptimeMs: 0 });
  const up = (): string => (process.uptime()).toFixed(3);
  process.stdout.write(`\n${WAITING_MARKER} uptime=${up()}\n`);
  const line = await readLine();
  const readAt = up();
  const d = decodeDelivery(line);
  const r = d.refresh ? refreshGuest(d) : { step: 0, ms: 'none' };
  process.stdout.write(`${RESTORED_MARKER} clockStepMs=${r.step} uptime=${up()} readAt=${readAt} refreshMs="${r.ms}"\n`);
  return d.task;
}

/**
 * Executor entry: the task comes as the first argument or ISOLAB_TASK (JSON or base64url JSON), or,
 * with `--await-task`, later on standard input (see await-task.ts).
 */
async function main(): Promise<void> {
  const raw = process.argv[2] ?? process.env.ISOLAB_TASK;
  let task: ExecutorTask;
  try {
    if (!raw) throw new Error('no task given (argument or ISOLAB_TASK)');
    task = raw === '--await-task' ? await awaitTask() : decodeTask(raw);
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
