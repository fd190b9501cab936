import { contains } from '../master/resources.js';
import { isTerminal } from '../master/task-state.js';
import type { FrameworkDriver, Offer, Scheduler, TaskLaunch, TaskStatus } from '../master/types.js';

/** A tiny framework for the start-up experiment: it launches one task on the first offer that fits, then waits for its end. */
export class OneTaskScheduler implements Scheduler {
  /** Resolves with the task's terminal status. */
  readonly done: Promise<TaskStatus>;
  private resolve!: (s: TaskStatus) => void;
  private launched = false;

  constructor(private readonly launch: TaskLaunch) {
    this.done = new Promise((r) => (this.resolve = r));
  }

  resourceOffers(driver: FrameworkDriver, offers: Offer[]): void {
    for (const offer of offers) {
      if (!this.launched && offer.backends.includes(this.launch.backend) && contains(offer.resources, this.launch.resources)) {
        this.launched = true;
        driver.accept(offer.id, [this.launch], { refuseSeconds: 60 });
        driver.suppress();
      } else {
        driver.decline(offer.id, { refuseSeconds: 60 });
      }
    }
  }

  statusUpdate(driver: FrameworkDriver, status: TaskStatus): void {
    driver.acknowledge(status);
    if (status.taskId === this.launch.taskId && isTerminal(status.state)) this.resolve(status);
  }
}
