import type { TaskSink } from '../backends/backend.js';
import { maxMessageBytes, MESSAGE_PREFIX, messageProblem, SMALL_MESSAGE_BYTES, type ExecutorMessage, type ExecutorTask } from '../executor/protocol.js';
import { decodeResultCounts } from '../executor/result-counts.js';
import type { TaskResultData } from './agent.js';

/**
 * The agent's reading of one task's executor output (the {@link TaskSink} a backend feeds).
 * Lines that do not start with the message prefix are noise (a VM console has plenty). A line that
 * does must be a well-formed message for this task: no longer than the task's range allows, valid
 * JSON of a known shape, this task's id, at most one result, and a result's counts must decode and
 * check. The first line that breaks a rule is a protocol violation: it is recorded, `onViolation`
 * is called (the agent stops the instance) and the task fails, which the framework may retry.
 */
export class ExecutorOutput implements TaskSink {
  /** The first protocol violation, if any. */
  violation?: string;
  /** Longest message line accepted (bytes). */
  readonly maxLineBytes: number;

  constructor(
    private readonly taskId: string,
    private readonly task: ExecutorTask | undefined,
    private readonly data: TaskResultData,
    private readonly now: () => number,
    private readonly onViolation: (reason: string) => void,
  ) {
    this.maxLineBytes = task ? maxMessageBytes(task) : SMALL_MESSAGE_BYTES;
  }

  line(text: string): void {
    if (this.violation !== undefined || !text.startsWith(MESSAGE_PREFIX)) return;
    if (text.length > this.maxLineBytes || (text.length * 3 > this.maxLineBytes && Buffer.byteLength(text) > this.maxLineBytes)) {
      return this.violate(`executor output line longer than ${this.maxLineBytes} bytes`);
    }
    let m: unknown;
    try {
      m = JSON.parse(text.slice(MESSAGE_PREFIX.length));
    } catch {
      return this.violate('executor message is not valid JSON');
    }
    const problem = messageProblem(m);
    if (problem) return this.violate(`executor message: ${problem}`);
    const msg = m as ExecutorMessage;
    if (msg.taskId !== this.taskId) return this.violate(`executor message for task ${JSON.stringify(msg.taskId.slice(0, 64))}, not ${this.taskId}`);
    const { data } = this;
    switch (msg.type) {
      case 'ready':
        data.ready ??= msg;
        data.phases.ready ??= this.now();
        return;
      case 'error':
        data.error ??= msg.message.slice(0, 1000);
        data.phases.workDone ??= this.now();
        return;
      case 'done':
        data.phases.workDone ??= this.now();
        return;
      case 'result': {
        data.phases.firstResult ??= this.now();
        if (data.result) return this.violate('executor sent a second result');
        if (this.task?.mode !== 'wordcount') return this.violate(`executor sent a result for a ${this.task?.mode ?? 'payload-less'} task`);
        try {
          decodeResultCounts(msg, this.task);
          data.result = msg;
          data.phases.resultChecked = this.now();
        } catch (err) {
          this.violate((err as Error).message);
        }
        return;
      }
    }
  }

  phase(name: string, at: number): void {
    this.data.phases[name] ??= at;
  }

  private violate(reason: string): void {
    this.violation = `protocol violation: ${reason}`;
    this.onViolation(this.violation);
  }
}
