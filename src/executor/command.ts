import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { COMMAND_OUTPUT_TAIL_BYTES, type CommandMessage, type CommandSpec } from './protocol.js';

/** The last `max` bytes written to it. */
class Tail {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly max: number) {}

  push(b: Buffer): void {
    this.chunks.push(b);
    this.size += b.length;
    while (this.chunks.length > 1 && this.size - this.chunks[0]!.length >= this.max) this.size -= this.chunks.shift()!.length;
  }

  text(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.max)).toString('utf8');
  }
}

/** Signals the command's whole process group; a group already gone is fine. */
function signalGroup(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, sig);
  } catch {
    /* gone */
  }
}

/**
 * Runs a command task's command (Mesos' command executor): `/bin/sh -c value`, or `value` with
 * `arguments` when `shell` is false, in its own process group, with the executor's environment plus
 * the command's. SIGTERM or SIGINT to the executor goes to the whole group. When the command ends,
 * whatever it left running in its group is killed, as Mesos destroys a command task's container.
 * Resolves with its exit message; the executor then exits with the command's code (128+N for signal N).
 */
export async function runCommand(taskId: string, c: CommandSpec): Promise<CommandMessage> {
  const shell = c.shell !== false;
  const file = shell ? '/bin/sh' : c.value;
  const argv = shell ? ['sh', '-c', c.value] : c.arguments && c.arguments.length > 0 ? c.arguments : [c.value];
  const tail = new Tail(COMMAND_OUTPUT_TAIL_BYTES);
  const child = spawn(file, argv.slice(1), {
    argv0: argv[0], detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...(c.environment ?? {}) },
  });
  const forward = (sig: NodeJS.Signals): void => signalGroup(child.pid, sig);
  const leave = (): void => signalGroup(child.pid, 'SIGKILL');
  process.on('SIGTERM', forward);
  process.on('SIGINT', forward);
  process.on('exit', leave);
  child.stdout!.on('data', (b: Buffer) => tail.push(b));
  child.stderr!.on('data', (b: Buffer) => tail.push(b));
  const drained = Promise.all([new Promise((r) => child.stdout!.once('close', r)), new Promise((r) => child.stderr!.once('close', r))]);
  try {
    const ended = await new Promise<{ code: number | null; signal: NodeJS.Signals | null } | Error>((resolve) => {
      child.once('error', (err) => resolve(err));
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    if (ended instanceof Error) {
      const code = (ended as NodeJS.ErrnoException).code;
      return { type: 'command', taskId, exitCode: code === 'ENOENT' ? 127 : 126, output: `cannot run ${file}: ${code ?? ended.message}` };
    }
    signalGroup(child.pid, 'SIGKILL');
    // Its output pipes close once the group is gone (a stray child of it may have held them open).
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([drained, new Promise((r) => (timer = setTimeout(r, 1000)))]);
    clearTimeout(timer);
    const m: CommandMessage = { type: 'command', taskId, exitCode: ended.code, output: tail.text() };
    if (ended.signal) m.signal = ended.signal;
    return m;
  } finally {
    process.off('SIGTERM', forward);
    process.off('SIGINT', forward);
    process.off('exit', leave);
  }
}

/** The executor's exit code for a command's end: its own, or 128+N when signal N ended it. */
export function exitCodeOf(m: CommandMessage): number {
  if (m.exitCode !== null) return m.exitCode & 0xff;
  const n = m.signal ? (constants.signals as Record<string, number>)[m.signal] : undefined;
  return 128 + (n ?? 9);
}
