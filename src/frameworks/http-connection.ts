import type { FrameworkDriver, FrameworkInfo, Scheduler } from '../master/types.js';
import { HttpFramework } from './http-framework.js';
import { HttpTransport, type HttpMasterOptions } from './http-transport.js';
import type { MasterConnection } from './master-connection.js';

export { MasterRefused, type HttpMasterOptions } from './http-transport.js';

/**
 * A framework's connection to a master over Mesos' v1 scheduler HTTP API: SUBSCRIBE opens the event
 * stream (RecordIO), whose events it turns into the scheduler's callbacks; the driver it hands the
 * scheduler turns each call into a POST with the stream's id, sent in order, one at a time. When
 * the stream drops and the framework has a failover timeout, it subscribes again with its id until
 * that timeout passes (the master keeps its tasks meanwhile); launches made while disconnected come
 * back as TASK_DROPPED, as the master would answer offers it rescinded.
 */
export class HttpMasterConnection implements MasterConnection {
  readonly where: string;
  private readonly transport: HttpTransport;
  private readonly frameworks = new Set<HttpFramework>();

  /** Checks the URL (http:// only, no credentials, query or fragment in it); throws an Error saying what is wrong. */
  constructor(url: string, opts: HttpMasterOptions = {}) {
    this.transport = new HttpTransport(url, opts);
    this.where = this.transport.where;
  }

  register(scheduler: Scheduler, info: FrameworkInfo): Promise<FrameworkDriver> {
    const f = new HttpFramework(this.transport, scheduler, info);
    this.frameworks.add(f);
    return f.start().catch((err: unknown) => {
      this.frameworks.delete(f);
      f.stop();
      throw err;
    });
  }

  async close(timeoutMs = 10_000): Promise<void> {
    await Promise.all([...this.frameworks].map((f) => f.drain(timeoutMs)));
    for (const f of this.frameworks) f.stop();
    this.frameworks.clear();
    this.transport.destroy();
  }
}
