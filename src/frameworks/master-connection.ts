import type { Master } from '../master/master.js';
import type { FrameworkDriver, FrameworkInfo, Scheduler } from '../master/types.js';

/**
 * How a framework reaches a master: the one seam between a framework's scheduler and its transport.
 * The scheduler (e.g. WordcountScheduler) is the same object on every path; only the connection
 * differs: {@link inProcessMaster} calls an embedded Master directly, `HttpMasterConnection`
 * (http-connection.ts) speaks Mesos' v1 scheduler HTTP API to `isolab master` or a Mesos master.
 */
export interface MasterConnection {
  /** Where the master is, for messages: `in-process` or its URL. */
  readonly where: string;
  /**
   * Registers the scheduler; resolves with its driver once the master accepted it (after the
   * scheduler's `registered` callback). Rejects when the master cannot be reached or refuses.
   */
  register(scheduler: Scheduler, info: FrameworkInfo): Promise<FrameworkDriver>;
  /**
   * Waits (at most `timeoutMs`) for calls already made to reach the master, e.g. a teardown, then
   * lets go of the connection. The framework is not torn down by this: call `teardown()` first.
   */
  close(timeoutMs?: number): Promise<void>;
}

/** A connection to a master in this process: registration and calls are plain method calls. */
export function inProcessMaster(master: Pick<Master, 'registerFramework'>): MasterConnection {
  return {
    where: 'in-process',
    register: async (scheduler, info) => master.registerFramework(scheduler, info),
    close: async () => {},
  };
}
