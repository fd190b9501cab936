/** What the executor is asked to do. Backend-neutral: passed as JSON on argv, env or kernel command line. */
export interface ExecutorTask {
  /** Task id, echoed in every message. */
  taskId: string;
  /** `wordcount` counts a byte range; `idle` waits until stopped; `hang` never answers; `crash` exits 3 mid-task. */
  mode: 'wordcount' | 'idle' | 'hang' | 'crash';
  /** Path of the input as the executor sees it (a file, or a block device in a VM). */
  input?: string;
  /** First byte of the range. */
  start?: number;
  /** End of the range (exclusive). */
  end?: number;
  /** Logical size of the input; needed when the input is a padded block device. */
  size?: number;
}

/** Sent once the executor's runtime is up, before any work. */
export interface ReadyMessage {
  /** Message kind. */
  type: 'ready';
  /** Task id. */
  taskId: string;
  /** Executor pid as it sees itself. */
  pid: number;
  /** Node version inside the instance. */
  node: string;
  /** Milliseconds from process start to ready, as the executor measures it. */
  uptimeMs: number;
}

/** The map result of a wordcount task. */
export interface ResultMessage {
  /** Message kind. */
  type: 'result';
  /** Task id. */
  taskId: string;
  /** Word occurrences counted. */
  words: number;
  /** Distinct words. */
  distinct: number;
  /** Bytes in the range. */
  bytes: number;
  /** Time spent counting inside the executor (ms). */
  countMs: number;
  /** Partial counts: base64 of the gzipped canonical counts. */
  counts: string;
}

/** The executor failed. */
export interface ErrorMessage {
  /** Message kind. */
  type: 'error';
  /** Task id. */
  taskId: string;
  /** One line. */
  message: string;
}

/** The executor's own usage, as its kernel (the host's, gVisor's Sentry or the guest's) counts it. */
export interface ExecutorUsage {
  /** User CPU time of the executor process (ms). */
  cpuUserMs: number;
  /** System CPU time (ms). */
  cpuSystemMs: number;
  /** Peak resident set (bytes). */
  maxRssBytes: number;
}

/** The executor is done and about to exit 0. */
export interface DoneMessage {
  /** Message kind. */
  type: 'done';
  /** Task id. */
  taskId: string;
  /** Its own usage (node's process.resourceUsage), for the guest's view of a task's accounting. */
  usage?: ExecutorUsage;
}

/** Any executor message. */
export type ExecutorMessage = ReadyMessage | ResultMessage | ErrorMessage | DoneMessage;

/** Every message line starts with this marker, so noise on the same stream (a VM console) is ignored. */
export const MESSAGE_PREFIX = '@isolab ';

/** Encodes a message as one line (no newline). */
export function encodeMessage(m: ExecutorMessage): string {
  return MESSAGE_PREFIX + JSON.stringify(m);
}

/** Decodes a line; undefined when the line is not an executor message. */
export function decodeMessage(line: string): ExecutorMessage | undefined {
  const i = line.indexOf(MESSAGE_PREFIX);
  if (i < 0) return undefined;
  try {
    const m = JSON.parse(line.slice(i + MESSAGE_PREFIX.length).trim()) as ExecutorMessage;
    return m && typeof m === 'object' && typeof m.type === 'string' ? m : undefined;
  } catch {
    return undefined;
  }
}

/** Encodes a task for argv or a kernel command line: base64url of its JSON. */
export function encodeTask(t: ExecutorTask): string {
  return Buffer.from(JSON.stringify(t)).toString('base64url');
}

/** Decodes a task given as JSON or base64url JSON; throws on anything else. */
export function decodeTask(text: string): ExecutorTask {
  const s = text.trim();
  const json = s.startsWith('{') ? s : Buffer.from(s, 'base64url').toString('utf8');
  const t = JSON.parse(json) as ExecutorTask;
  if (!t || typeof t.taskId !== 'string' || typeof t.mode !== 'string') throw new Error('task needs taskId and mode');
  return t;
}
