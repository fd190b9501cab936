import { describe, expect, it } from 'vitest';
import { guestExitResult, type GuestEnd } from './guest-exit.js';

const base: GuestEnd = { timedOut: false, stopped: false, oom: false, lastLine: '' };

describe('guestExitResult', () => {
  it('names how the host ended the guest, for both VM paths', () => {
    expect(guestExitResult({ ...base, timedOut: true }, 'domain destroyed')).toMatchObject({ exitCode: null, signal: 'SIGKILL', timedOut: true, message: 'domain destroyed at its timeout' });
    expect(guestExitResult({ ...base, stopped: true }, 'QEMU killed')).toMatchObject({ exitCode: null, signal: 'SIGKILL', message: 'QEMU killed on request' });
    expect(guestExitResult({ ...base, overflowBytes: 1 }, 'QEMU killed').message).toBe('QEMU killed: more than 64 MiB of serial output');
  });

  it('keeps the executor exit code, and explains an end without one', () => {
    expect(guestExitResult({ ...base, rc: 3, oom: true }, 'domain destroyed')).toEqual({ exitCode: 3, timedOut: false, oomKilled: true });
    expect(guestExitResult({ ...base, stopped: true, rc: 0 }, 'domain destroyed')).toMatchObject({ exitCode: 0, signal: undefined });
    expect(guestExitResult({ ...base, lastLine: 'Kernel panic' }, 'QEMU killed', '; QEMU: gone').message).toBe('guest stopped without an exit code (last console line: Kernel panic); QEMU: gone');
  });
});
