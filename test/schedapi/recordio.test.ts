import { describe, expect, it } from 'vitest';
import { asciiJson, encodeRecord, RecordIoDecoder, RecordIoError } from '../../src/http/recordio.js';

const records = ['{"type":"SUBSCRIBED"}', '{"type":"HEARTBEAT"}', '', '{"type":"UPDATE","x":"' + 'é'.repeat(50) + '"}', '{"type":"OFFERS"}'];
const stream = Buffer.concat(records.map((r) => encodeRecord(r)));
const decodeAll = (chunks: Buffer[], max?: number): string[] => {
  const d = new RecordIoDecoder({ maxRecordBytes: max });
  const out: string[] = [];
  for (const c of chunks) for (const r of d.push(c)) out.push(r.toString('utf8'));
  expect(d.atBoundary).toBe(true);
  return out;
};

describe('RecordIO framing', () => {
  it('frames a record as its byte length, a newline and the bytes (multi-byte characters counted in bytes)', () => {
    expect(encodeRecord('{"a":1}').toString()).toBe('7\n{"a":1}');
    expect(encodeRecord('é').toString('latin1')).toBe('2\n\u00c3\u00a9');
    expect(encodeRecord('').toString()).toBe('0\n');
  });

  it('decodes records coalesced into one chunk', () => {
    expect(decodeAll([stream])).toEqual(records);
  });

  it('decodes records split byte by byte (length prefixes cut in two, multi-byte characters cut in two)', () => {
    expect(decodeAll([...stream].map((b) => Buffer.from([b])))).toEqual(records);
  });

  it('decodes every way of cutting the stream in three', () => {
    for (let i = 0; i <= stream.length; i += 7) {
      for (let j = i; j <= stream.length; j += 11) {
        expect(decodeAll([stream.subarray(0, i), stream.subarray(i, j), stream.subarray(j)])).toEqual(records);
      }
    }
  });

  it('returns nothing for a partial record and everything once it completes', () => {
    const d = new RecordIoDecoder();
    const one = encodeRecord('{"type":"HEARTBEAT"}');
    expect(d.push(one.subarray(0, 5))).toEqual([]);
    expect(d.atBoundary).toBe(false);
    expect(d.push(Buffer.concat([one.subarray(5), one])).map(String)).toEqual(['{"type":"HEARTBEAT"}', '{"type":"HEARTBEAT"}']);
  });

  it('refuses a non-numeric length, an empty length and a record over the limit, for good', () => {
    expect(() => new RecordIoDecoder().push(Buffer.from('x1\n{}'))).toThrow(/not a decimal number/);
    expect(() => new RecordIoDecoder().push(Buffer.from('\n{}'))).toThrow(/empty record length/);
    expect(() => new RecordIoDecoder().push(Buffer.from('9999999999999999'))).toThrow(/prefix too long/);
    const d = new RecordIoDecoder({ maxRecordBytes: 10 });
    expect(() => d.push(Buffer.from('11\n'))).toThrow(RecordIoError);
    expect(() => d.push(Buffer.from('1\nx'))).toThrow(/larger than the 10 allowed/);
  });
});

describe('asciiJson', () => {
  it('escapes every non-ASCII character, so characters equal bytes, and parses back to the same value', () => {
    const v = { s: 'é ✓ 😀 \u007f', n: 1 };
    const text = asciiJson(v);
    expect(/^[\x00-\x7e]*$/.test(text)).toBe(true);
    expect(Buffer.byteLength(text)).toBe(text.length);
    expect(JSON.parse(text)).toEqual(v);
  });
});
