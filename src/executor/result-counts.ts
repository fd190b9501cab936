import { gunzipSync } from 'node:zlib';
import { CanonicalError, decodeCheckedCanonical, type CanonicalTotals } from '../workload/canonical.js';
import { maxCanonicalBytes, type ExecutorTask, type ResultMessage } from './protocol.js';

/** A map result's partial counts, decoded and checked. */
export interface CheckedCounts extends CanonicalTotals {
  /** The range's canonical counts. */
  canonical: Buffer;
}

const checked = new WeakMap<ResultMessage, CheckedCounts>();

/**
 * Decodes and checks the partial counts of a result message sent for `task`: at most
 * {@link maxCanonicalBytes} bytes once decoded (gzip is inflated with that as its output limit, so a
 * gzip bomb stops there), exactly `rawBytes` of them when the message says so, canonical, and with
 * the totals the message claims. Throws an Error saying what is wrong.
 */
export function decodeResultCounts(m: ResultMessage, task: ExecutorTask): CheckedCounts {
  const cap = maxCanonicalBytes(task);
  const encoding = m.encoding ?? 'canonical';
  if (m.rawBytes !== undefined && m.rawBytes > cap) throw new Error(`result claims ${m.rawBytes} bytes of counts; a range of this size has at most ${cap}`);
  if (m.counts.length > Math.ceil(cap / 3) * 4 + 4 && encoding === 'canonical') throw new Error(`result counts longer than a range of this size allows (${cap} bytes)`);
  let c: CheckedCounts;
  try {
    if (encoding === 'canonical+gzip') {
      let raw: Buffer;
      try {
        raw = gunzipSync(Buffer.from(m.counts, 'base64'), { maxOutputLength: Math.max(1, m.rawBytes ?? cap) });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw new Error(code === 'ERR_BUFFER_TOO_LARGE' ? `gzipped counts inflate beyond ${m.rawBytes ?? cap} bytes` : `gzipped counts do not inflate: ${(err as Error).message}`);
      }
      c = decodeCheckedCanonical({ raw });
    } else {
      c = decodeCheckedCanonical({ base64: m.counts });
    }
  } catch (err) {
    if (err instanceof CanonicalError) throw new Error(`result counts are not canonical: ${err.message}`);
    throw err;
  }
  if (c.canonical.length > cap) throw new Error(`result counts are ${c.canonical.length} bytes; a range of this size has at most ${cap}`);
  if (m.rawBytes !== undefined && c.canonical.length !== m.rawBytes) throw new Error(`result counts are ${c.canonical.length} bytes, not the ${m.rawBytes} it claims`);
  if (c.words !== m.words || c.distinct !== m.distinct) {
    throw new Error(`result counts hold ${c.words} words, ${c.distinct} distinct, not the ${m.words}, ${m.distinct} it claims`);
  }
  checked.set(m, c);
  return c;
}

/**
 * The checked counts of a result: the ones {@link decodeResultCounts} produced for this very
 * message object (the in-process case, so nothing is decoded twice), or decoded and checked now
 * (a message that crossed a transport).
 */
export function resultCounts(m: ResultMessage, task: ExecutorTask): CheckedCounts {
  return checked.get(m) ?? decodeResultCounts(m, task);
}
