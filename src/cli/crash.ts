/**
 * Last line of defence: an exception or rejection nobody caught prints one line (its stack only
 * with ISOLAB_DEBUG), runs every cleanup the session registered (containers, VMs, cgroups, temp
 * files) and exits 1. Without it, node would exit at once and leave all of them behind.
 */
export function installCrashHandler(log: (line: string) => void = (l) => process.stderr.write(l + '\n')): () => void {
  let crashing = false;
  const handler = (err: unknown): void => {
    if (crashing) return;
    crashing = true;
    const msg = err instanceof Error ? err.message : String(err);
    log(`isolab: internal error: ${(msg.split('\n')[0] ?? '').trim() || 'unknown error'}`);
    if (process.env.ISOLAB_DEBUG && err instanceof Error && err.stack) log(err.stack);
    const exit = (): never => process.exit(1);
    setTimeout(exit, 60_000).unref();
    void import('../session/session.js')
      .then(async ({ session }) => {
        for (const e of await session().close()) log(`isolab: cleanup: ${e}`);
      })
      .catch((e: unknown) => log(`isolab: cleanup failed: ${e instanceof Error ? e.message : String(e)}`))
      .finally(exit);
  };
  process.on('uncaughtException', handler);
  process.on('unhandledRejection', handler);
  return () => {
    process.off('uncaughtException', handler);
    process.off('unhandledRejection', handler);
  };
}
