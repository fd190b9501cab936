import { gzipSync } from 'node:zlib';
import { encodeMessage, MESSAGE_PREFIX, type ResultMessage } from './protocol.js';

/**
 * Test-only misbehaviour, so that tests can show that bad executor output fails one task and
 * nothing else. Set `ISOLAB_TEST_EXECUTOR_FAULT=<kind>@<taskId>[,<kind>@<taskId>…]` in the
 * environment of an executor (the process backend passes its environment on); the named task
 * then sends, instead of its result:
 * - `long-line`: a 100 MB line that starts like a result message;
 * - `gzip-bomb`: a result whose gzipped counts inflate far beyond their declared and allowed size;
 * - `lying-size`: a result whose `rawBytes` does not match its counts;
 * - `other-task`: its correct result, but under another task's id;
 * - `malformed-counts`: a result whose counts are not canonical (unsorted, a bad count);
 * - `prefix-noise`: its result with text before the message prefix.
 * It then exits 0, so only the protocol can tell that something went wrong.
 */
export type Fault = 'long-line' | 'gzip-bomb' | 'lying-size' | 'other-task' | 'malformed-counts' | 'prefix-noise';

const FAULTS: readonly Fault[] = ['long-line', 'gzip-bomb', 'lying-size', 'other-task', 'malformed-counts', 'prefix-noise'];

/** The fault configured for `taskId`, if any. */
export function faultFor(taskId: string): Fault | undefined {
  const spec = process.env.ISOLAB_TEST_EXECUTOR_FAULT;
  if (!spec) return undefined;
  for (const item of spec.split(',')) {
    const [kind, id] = item.split('@');
    if (id === taskId && (FAULTS as readonly string[]).includes(kind ?? '')) return kind as Fault;
  }
  return undefined;
}

function write(text: string): Promise<void> {
  return new Promise((resolve) => process.stdout.write(text, () => resolve()));
}

/** Writes the faulty output for `fault` in place of `result`. */
export async function misbehave(fault: Fault, result: ResultMessage): Promise<void> {
  switch (fault) {
    case 'long-line': {
      await write(MESSAGE_PREFIX + '{"type":"result","counts":"');
      const chunk = 'A'.repeat(1 << 20);
      for (let i = 0; i < 100; i++) await write(chunk);
      await write('"}\n');
      return;
    }
    case 'gzip-bomb': {
      const bomb = gzipSync(Buffer.alloc(64 << 20, 0x61), { level: 9 });
      await write(encodeMessage({ ...result, counts: bomb.toString('base64'), encoding: 'canonical+gzip', rawBytes: result.rawBytes ?? 0 }) + '\n');
      return;
    }
    case 'lying-size':
      await write(encodeMessage({ ...result, rawBytes: (result.rawBytes ?? 0) + 1 }) + '\n');
      return;
    case 'other-task':
      await write(encodeMessage({ ...result, taskId: `${result.taskId}-other` }) + '\n');
      return;
    case 'malformed-counts': {
      const bad = Buffer.from('zzz\t1\naaa\t-2\n').toString('base64');
      await write(encodeMessage({ ...result, counts: bad, rawBytes: 13 }) + '\n');
      return;
    }
    case 'prefix-noise':
      await write('noise ' + encodeMessage(result) + '\n');
      return;
  }
}
