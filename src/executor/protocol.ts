/** What the executor is asked to do. Backend-neutral: passed as JSON on argv, env or kernel command line. */
export interface ExecutorTask {
  /** Task id, echoed in every message. */
  taskId: string;
  /** `wordcount` counts a byte range; `idle` waits until stopped; `hang` never answers; `crash` exits 3 mid-task. */
  mode: 'wordcount' | 'idle' | 'hang' | 'crash';
  /** Path of the input as the executor sees it (a file, `/proc/<pid>/fd/<n>`, or a block device in a VM). */
  input?: string;
  /** First byte of the range. */
  start?: number;
  /** End of the range (exclusive). */
  end?: number;
  /** Logical size of the input: the executor never reads past it (a block device is padded; a file may have grown). */
  size?: number;
  /**
   * Bytes per second the executor's output stream carries, when the backend knows it is slow (a VM's
   * serial console). The executor compresses its partial counts when that saves time; absent means fast.
   */
  outputBytesPerSecond?: number;
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

/** How a result's `counts` are encoded on the wire. */
export type CountsEncoding = 'canonical' | 'canonical+gzip';

/** Time the executor spent on each stage of a map task (ms, its own clock). */
export interface ExecutorStages {
  /** Reading the range into memory. */
  read: number;
  /** Counting. */
  count: number;
  /** Sorting the distinct words and writing the canonical partial counts. */
  sort: number;
  /** Compressing (if at all) and base64-encoding them, and building the message. */
  encode: number;
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
  /** Time spent reading and counting inside the executor (ms). */
  countMs: number;
  /**
   * Partial counts: base64 of the range's canonical counts (`<word>\t<count>\n` per distinct word,
   * in byte order), gzipped first when `encoding` says so.
   */
  counts: string;
  /** Encoding of `counts`; absent means `canonical`. */
  encoding?: CountsEncoding;
  /** Length of the canonical counts before compression and base64 (required with gzip). */
  rawBytes?: number;
  /** The executor's stage times. */
  stagesMs?: ExecutorStages;
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

/** Every message line starts with exactly this; other lines on the same stream (a VM console) are not messages. */
export const MESSAGE_PREFIX = '@isolab ';

/** Longest message line of a task that is not a wordcount (ready, error, done). */
export const SMALL_MESSAGE_BYTES = 64 * 1024;

/**
 * Most bytes the canonical partial counts of a byte range can take: each distinct word's line
 * (`word`, tab, digits, newline) is at most 4 times the input bytes of its occurrences, and only
 * the last word can run past `end`, by at most `size - end` bytes.
 */
export function maxCanonicalBytes(task: ExecutorTask): number {
  const size = Math.max(0, task.size ?? 0);
  const end = Math.min(Math.max(0, task.end ?? 0), size);
  const start = Math.min(Math.max(0, task.start ?? 0), end);
  return 4 * (end - start) + (size - end) + 64;
}

/**
 * Longest output line the executor of `task` may write: a result line holds the base64 of at most
 * {@link maxCanonicalBytes} (gzip can add 0.1% and a header), plus its other fields. Longer lines are
 * a protocol violation: backends stop buffering them at this length.
 */
export function maxMessageBytes(task: ExecutorTask): number {
  if (task.mode !== 'wordcount') return SMALL_MESSAGE_BYTES;
  const raw = maxCanonicalBytes(task);
  return SMALL_MESSAGE_BYTES + Math.ceil((raw + Math.ceil(raw / 1000) + 64) / 3) * 4;
}

/** Encodes a message as one line (no newline). */
export function encodeMessage(m: ExecutorMessage): string {
  return MESSAGE_PREFIX + JSON.stringify(m);
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/** Why `m` is not a well-formed executor message, or undefined when it is one. */
export function messageProblem(m: unknown): string | undefined {
  if (!m || typeof m !== 'object' || Array.isArray(m)) return 'not an object';
  const o = m as Record<string, unknown>;
  if (typeof o.taskId !== 'string') return 'no taskId';
  switch (o.type) {
    case 'ready':
      return isCount(o.pid) && typeof o.node === 'string' && isTime(o.uptimeMs) ? undefined : 'malformed ready message';
    case 'error':
      return typeof o.message === 'string' ? undefined : 'malformed error message';
    case 'done':
      return undefined;
    case 'result': {
      if (!isCount(o.words) || !isCount(o.distinct) || !isCount(o.bytes) || !isTime(o.countMs)) return 'result with malformed totals';
      if (typeof o.counts !== 'string') return 'result without counts';
      if (o.encoding !== undefined && o.encoding !== 'canonical' && o.encoding !== 'canonical+gzip') return `result with unknown encoding ${String(o.encoding)}`;
      if (o.rawBytes !== undefined && !isCount(o.rawBytes)) return 'result with a malformed rawBytes';
      if (o.encoding === 'canonical+gzip' && o.rawBytes === undefined) return 'gzipped result without rawBytes';
      if (o.stagesMs !== undefined) {
        const s = o.stagesMs as Record<string, unknown> | null;
        if (!s || typeof s !== 'object' || !['read', 'count', 'sort', 'encode'].every((k) => isTime(s[k]))) return 'result with malformed stagesMs';
      }
      return undefined;
    }
    default:
      return `unknown message type ${JSON.stringify(o.type)?.slice(0, 40)}`;
  }
}

/**
 * Decodes a line; undefined when it is not a well-formed executor message. A message is a whole
 * line that starts with exactly {@link MESSAGE_PREFIX}; anything before the prefix makes it noise.
 */
export function decodeMessage(line: string): ExecutorMessage | undefined {
  if (!line.startsWith(MESSAGE_PREFIX)) return undefined;
  try {
    const m = JSON.parse(line.slice(MESSAGE_PREFIX.length)) as unknown;
    return messageProblem(m) === undefined ? (m as ExecutorMessage) : undefined;
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
