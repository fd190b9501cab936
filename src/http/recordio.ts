/**
 * Mesos' RecordIO framing of an event stream: each record is its length in bytes as decimal ASCII,
 * a newline, then that many bytes. Records follow each other with nothing in between; the chunks
 * a transport delivers have no relation to record boundaries.
 */

/** Largest record a decoder accepts by default (bytes): a status update with a map's partial counts fits many times. */
export const DEFAULT_MAX_RECORD_BYTES = 256 * 2 ** 20;

/** Longest length prefix (digits) a decoder reads before calling the stream malformed. */
const MAX_DIGITS = 15;

/** Frames one record. */
export function encodeRecord(payload: string | Uint8Array): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload);
  return Buffer.concat([Buffer.from(`${body.length}\n`, 'ascii'), body]);
}

/**
 * JSON with every character outside ASCII written as a `\uXXXX` escape: still the same JSON value,
 * and its length in characters equals its length in bytes (some clients, e.g. npm
 * `mesos-framework` 0.5.x, compare a record's character count with the byte length).
 */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A RecordIO stream that breaks the framing. */
export class RecordIoError extends Error {}

/**
 * Splits a RecordIO byte stream into records, whatever the chunking: a record split over many
 * chunks, many records in one chunk, or a length prefix cut in two. Feed chunks in order with
 * push(); each call returns the records it completed.
 */
export class RecordIoDecoder {
  private readonly max: number;
  private parts: Buffer[] = [];
  private have = 0;
  /** Length of the record being read, or -1 while reading its length prefix. */
  private want = -1;
  private digits = '';
  private broken?: RecordIoError;

  constructor(opts: { maxRecordBytes?: number } = {}) {
    this.max = opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  }

  /** Consumes one chunk; returns the records it completed. Throws RecordIoError on a malformed stream (and on every call after). */
  push(chunk: Uint8Array): Buffer[] {
    if (this.broken) throw this.broken;
    const out: Buffer[] = [];
    let buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    while (buf.length > 0) {
      if (this.want < 0) {
        const nl = buf.indexOf(0x0a);
        const head = buf.subarray(0, nl < 0 ? buf.length : nl).toString('latin1');
        if (!/^\d*$/.test(head)) return this.fail(`record length is not a decimal number: "${head.slice(0, 16)}"`);
        this.digits += head;
        if (this.digits.length > MAX_DIGITS) return this.fail('record length prefix too long');
        if (nl < 0) break;
        if (this.digits === '') return this.fail('empty record length');
        const n = Number(this.digits);
        if (n > this.max) return this.fail(`record of ${n} bytes is larger than the ${this.max} allowed`);
        this.digits = '';
        this.want = n;
        buf = buf.subarray(nl + 1);
        if (n === 0) {
          out.push(Buffer.alloc(0));
          this.want = -1;
        }
        continue;
      }
      const take = Math.min(this.want - this.have, buf.length);
      this.parts.push(buf.subarray(0, take));
      this.have += take;
      buf = buf.subarray(take);
      if (this.have === this.want) {
        out.push(this.parts.length === 1 ? Buffer.from(this.parts[0]!) : Buffer.concat(this.parts));
        this.parts = [];
        this.have = 0;
        this.want = -1;
      }
    }
    return out;
  }

  /** True when the stream ended on a record boundary (nothing half-read). */
  get atBoundary(): boolean {
    return this.want < 0 && this.digits === '';
  }

  private fail(message: string): never {
    this.broken = new RecordIoError(`malformed RecordIO stream: ${message}`);
    throw this.broken;
  }
}
