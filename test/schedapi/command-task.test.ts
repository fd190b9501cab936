import { afterAll, describe, expect, it } from 'vitest';
import { LocalAgent } from '../../src/agent/agent.js';
import type { TaskResultData } from '../../src/agent/agent.js';
import type { Backend } from '../../src/backends/backend.js';
import { ProcessBackend } from '../../src/backends/process/process-backend.js';
import { registry } from '../../src/backends/registry.js';
import { skipReason as gvisorSkip } from '../gvisor/helpers.js';
import { release } from 'node:os';
import { ownedPids } from '../../src/backends/process/process-backend.js';
import type { CommandSpec } from '../../src/executor/protocol.js';
import { Master } from '../../src/master/master.js';
import { isTerminal } from '../../src/master/task-state.js';
import type { FrameworkDriver, TaskStatus } from '../../src/master/types.js';
import { session } from '../../src/session/session.js';

/** Runs one command task through a real master, agent and the process backend; resolves with its updates. */
async function run(command: CommandSpec, opts: { killAfterMs?: number; timeoutMs?: number; backend?: Backend } = {}): Promise<TaskStatus[]> {
  const master = new Master({ agentPingTimeoutMs: null });
  const backend = opts.backend ?? new ProcessBackend();
  const agent = new LocalAgent(master, new Map([[backend.name, backend]]));
  agent.register({ hostname: 'h', resources: { cpus: 1, mem: 512 } });
  master.start();
  const updates: TaskStatus[] = [];
  let driver: FrameworkDriver | undefined;
  const done = new Promise<void>((resolve) => {
    let launched = false;
    driver = master.registerFramework({
      resourceOffers: (d, offers) => {
        for (const o of offers) {
          if (launched) d.decline(o.id);
          else d.accept(o.id, [{ taskId: 'c1', resources: { cpus: 0.1, mem: 64 }, backend: backend.name, payload: { taskId: 'c1', mode: 'command', command }, timeoutMs: opts.timeoutMs }]);
          launched = true;
        }
      },
      statusUpdate: (d, s) => {
        d.acknowledge(s);
        updates.push(s);
        if (s.state === 'running' && opts.killAfterMs !== undefined) setTimeout(() => d.kill('c1'), opts.killAfterMs);
        if (isTerminal(s.state)) resolve();
      },
    }, { name: 'cmd' });
  });
  await done;
  driver!.teardown();
  master.stop();
  return updates;
}

const last = (u: TaskStatus[]): TaskStatus => u[u.length - 1]!;
const data = (u: TaskStatus[]): TaskResultData => last(u).data as TaskResultData;

afterAll(() => {
  expect(ownedPids().filter((p) => p.session === session().id)).toEqual([]);
});

describe('command tasks: isolab\'s executor in command mode (process backend)', () => {
  it('exit 0: starting, running, finished "Command exited with status 0", with the output\'s tail in the data', async () => {
    const u = await run({ value: 'echo hello; echo to-stderr >&2' });
    expect(u.map((s) => s.state)).toEqual(['starting', 'running', 'finished']);
    expect(last(u).message).toBe('Command exited with status 0');
    expect(data(u).command).toMatchObject({ type: 'command', exitCode: 0, output: 'hello\nto-stderr\n' });
  });

  it('a non-zero exit: failed, the code and the output\'s last line in the message', async () => {
    const u = await run({ value: 'echo first; echo "it broke" >&2; exit 3' });
    expect(last(u)).toMatchObject({ state: 'failed', message: 'Command exited with status 3: it broke' });
    expect(data(u).command?.exitCode).toBe(3); // reported at workDone (the command line): the executor exits with the same code next
  });

  it('a command not found: 127, as a shell says it', async () => {
    const u = await run({ value: 'no-such-command-h5' });
    expect(last(u).state).toBe('failed');
    expect(last(u).message).toMatch(/^Command exited with status 127: .*no-such-command-h5.*not found/);
  });

  it('shell false: the executable with its argument vector, no shell in between; environment variables reach it', async () => {
    const u = await run({ value: '/bin/sh', shell: false, arguments: ['sh', '-c', 'echo "$0|$1|$X"', 'zero', 'one two'], environment: { X: 'from-env' } });
    expect(last(u).state).toBe('finished');
    expect(data(u).command?.output).toBe('zero|one two|from-env\n');
  });

  it('only the tail of a long output is kept (2 KiB), and lines that look like executor messages are just output', async () => {
    const u = await run({ value: 'i=0; while [ $i -lt 500 ]; do echo "line $i"; i=$((i+1)); done; echo \'@isolab {"type":"done","taskId":"c1"}\'' });
    expect(last(u).state).toBe('finished');
    const out = data(u).command!.output;
    expect(out.length).toBeLessThanOrEqual(2048);
    expect(out.endsWith('line 499\n@isolab {"type":"done","taskId":"c1"}\n')).toBe(true);
  });

  it('KILL: the whole command (and what it started) stops; killed', async () => {
    const u = await run({ value: 'sleep 300 & sleep 300; echo never' }, { killAfterMs: 300 });
    expect(u.map((s) => s.state)).toEqual(['starting', 'running', 'killing', 'killed']);
  });

  it('what the command leaves running in the background is killed when it exits', async () => {
    const u = await run({ value: 'sleep 300 & echo started' });
    expect(last(u).state).toBe('finished');
    // the result is reported at workDone (the command line); the instance's teardown follows it
    for (let i = 0; i < 200 && ownedPids().some((p) => p.session === session().id); i++) await new Promise((r) => setTimeout(r, 25));
    expect(ownedPids().filter((p) => p.session === session().id)).toEqual([]);
  });

  it('max completion time: failed "timed out"', async () => {
    const u = await run({ value: 'sleep 300' }, { timeoutMs: 500 });
    expect(last(u)).toMatchObject({ state: 'failed', message: 'timed out after 500 ms' });
  });
});

describe('command tasks run the same way on every backend (the guest image\'s busybox sh)', () => {
  it('docker: the host\'s kernel; the exit code and the last output line in the message', async () => {
    const u = await run({ value: 'uname -r; exit 4' }, { backend: await registry.get('docker') });
    expect(last(u)).toMatchObject({ state: 'failed', message: `Command exited with status 4: ${release()}` });
    expect(data(u).backend).toBe('docker');
  }, 60_000);

  it.skipIf(gvisorSkip !== undefined)('gvisor: gVisor\'s own kernel version, not the host\'s', async () => {
    const u = await run({ value: 'uname -r' }, { backend: await registry.get('gvisor') });
    expect(last(u)).toMatchObject({ state: 'finished', message: 'Command exited with status 0' });
    const kernel = data(u).command!.output.trim();
    expect(kernel).toMatch(/^\d+\.\d+/);
    expect(kernel).not.toBe(release());
  }, 60_000);
});
