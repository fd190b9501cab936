import type { ExitResult } from '../backend.js';
import { SERIAL_LOG_MAX_BYTES } from './serial-log.js';

/** What a guest's end looked like from the host, as both VM paths (libvirt and direct QEMU) record it. */
export interface GuestEnd {
  /** The executor's exit code from the guest's end marker, when it printed one. */
  rc?: number;
  /** Killed at its timeout. */
  timedOut: boolean;
  /** Killed on request. */
  stopped: boolean;
  /** The guest kernel reported an out-of-memory kill. */
  oom: boolean;
  /** The last console line, for the message of an unexplained end. */
  lastLine: string;
  /** Set when the serial output passed its cap and the guest was killed for it. */
  overflowBytes?: number;
}

/**
 * The exit result of a guest. `killed` names how the host ends one ("domain destroyed", "QEMU
 * killed"); `detail` is appended to the message of an end without an exit code.
 */
export function guestExitResult(st: GuestEnd, killed: string, detail = ''): ExitResult {
  const last = st.lastLine ? ` (last console line: ${st.lastLine.slice(0, 120)})` : '';
  if (st.overflowBytes !== undefined) {
    return { exitCode: null, signal: 'SIGKILL', timedOut: false, oomKilled: st.oom, message: `${killed}: more than ${SERIAL_LOG_MAX_BYTES / 2 ** 20} MiB of serial output` };
  }
  if (st.timedOut) return { exitCode: null, signal: 'SIGKILL', timedOut: true, oomKilled: st.oom, message: `${killed} at its timeout` };
  if (st.stopped) return { exitCode: st.rc ?? null, signal: st.rc === undefined ? 'SIGKILL' : undefined, timedOut: false, message: `${killed} on request` };
  if (st.rc !== undefined) return { exitCode: st.rc, timedOut: false, oomKilled: st.oom };
  return { exitCode: null, timedOut: false, oomKilled: st.oom, message: `guest stopped without an exit code${last}${detail}` };
}
