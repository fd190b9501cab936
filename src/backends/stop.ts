/** True when `p` settles within `ms`, false when the time runs out first (the timer does not keep the process alive). */
export async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((r) => {
    timer = setTimeout(() => r(false), ms);
    timer.unref();
  });
  try {
    return await Promise.race([p.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** How to stop one instance: ask, wait, then force. */
export interface StopSteps {
  /** Resolves when the instance has ended. */
  exited: Promise<unknown>;
  /** Asks it to stop (SIGTERM or the given signal). */
  ask: () => void | Promise<void>;
  /** Forces it (SIGKILL). */
  force: () => void | Promise<void>;
}

/**
 * The stop-with-timeout race every backend's `stop` runs (Nomad's StopTask): ask the instance to
 * stop, give it `timeoutMs` to end, force it if it has not, then wait for the end.
 */
export async function stopWithTimeout(steps: StopSteps, timeoutMs: number): Promise<void> {
  await steps.ask();
  if (!(await settlesWithin(steps.exited, timeoutMs))) await steps.force();
  await steps.exited;
}
