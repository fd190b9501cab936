import type { Session } from './session.js';

/**
 * Makes SIGINT, SIGTERM and SIGHUP abort the given controller, run the session's cleanups and
 * exit with 128+signal. A second signal during cleanup exits at once.
 */
export function installSignalCleanup(sess: Session, abort: AbortController, log: (line: string) => void): () => void {
  let stopping = false;
  const handler = (sig: NodeJS.Signals): void => {
    const code = 128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1);
    if (stopping) process.exit(code);
    stopping = true;
    log(`isolab: ${sig} received, cleaning up`);
    abort.abort(new Error(`interrupted by ${sig}`));
    void sess.close().finally(() => process.exit(code));
  };
  const sigs: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of sigs) process.on(s, handler);
  return () => {
    for (const s of sigs) process.off(s, handler);
  };
}
