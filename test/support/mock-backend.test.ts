import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/master/clock.js';
import { MockBackend } from './mock-backend.js';

describe('mock backend (test support)', () => {
  it('delivers no output after stop(), and leaves no timer, when a task has a timeout shorter than its run (shared/repro/master/mock-timer)', async () => {
    const clock = new FakeClock();
    const b = new MockBackend({ clock, runMs: 10_000, output: () => ['LATE-LINE'] });
    const lines: string[] = [];
    const h = await b.start(
      { taskId: 'x', resources: { cpus: 1, mem: 1 }, executor: { taskId: 'x', mode: 'idle' }, timeoutMs: 5_000 },
      { line: (l) => lines.push(l), phase: () => {} },
    );
    await b.stop(h, 0);
    expect(clock.nextAt()).toBeUndefined();
    clock.advance(20_000);
    expect(lines).toEqual([]);
    expect(await b.wait(h)).toMatchObject({ exitCode: null, signal: 'SIGTERM', timedOut: false });
  });
});
