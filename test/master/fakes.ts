import type { AgentDriver, FrameworkDriver, LaunchedTask, Offer, Scheduler, TaskStatus } from '../../src/master/types.js';

/** A framework scheduler that records what the master sends and acknowledges every update. */
export class RecordingScheduler implements Scheduler {
  /** Every offer received, in order. */
  offers: Offer[] = [];
  /** Every status update received, in order. */
  updates: TaskStatus[] = [];
  /** Ids of rescinded offers. */
  rescinded: string[] = [];
  /** The driver the master gave at registration. */
  driver!: FrameworkDriver;
  /** Optional answer to each batch of offers. */
  onOffers?: (d: FrameworkDriver, o: Offer[]) => void;

  registered(d: FrameworkDriver): void {
    this.driver = d;
  }

  resourceOffers(d: FrameworkDriver, offers: Offer[]): void {
    this.offers.push(...offers);
    this.onOffers?.(d, offers);
  }

  offerRescinded(_d: FrameworkDriver, id: string): void {
    this.rescinded.push(id);
  }

  statusUpdate(d: FrameworkDriver, s: TaskStatus): void {
    d.acknowledge(s);
    this.updates.push(s);
  }
}

/** An agent that only records launches and kills. */
export class RecordingAgent implements AgentDriver {
  /** Tasks launched on it. */
  launched: LaunchedTask[] = [];
  /** Task ids it was asked to kill. */
  killed: string[] = [];

  launch(t: LaunchedTask): void {
    this.launched.push(t);
  }

  kill(taskId: string): void {
    this.killed.push(taskId);
  }

  /** Optional answer to the master's reconcile (none by default). */
  reconcile?: (tasks: readonly { taskId: string; frameworkId: string }[]) => void;
}
