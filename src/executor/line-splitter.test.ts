import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LineSplitter, splitLines } from './line-splitter.js';

describe('LineSplitter', () => {
  it('splits across chunk boundaries, strips \\r, drops an unterminated last line', () => {
    const lines: string[] = [];
    const s = new LineSplitter(100, (l) => lines.push(l));
    for (const c of ['ab', 'c\nde', 'f\r\n', '\n', 'héllo\n', 'tail']) s.push(Buffer.from(c));
    s.end();
    expect(lines).toEqual(['abc', 'def', '', 'héllo']);
  });

  it('cuts an overlong line to max + 1 bytes, drops the rest of it, and reads the next line whole', () => {
    const lines: string[] = [];
    const s = new LineSplitter(10, (l) => lines.push(l));
    s.push(Buffer.from('0123456789ABCDEF'));
    for (let i = 0; i < 1000; i++) s.push(Buffer.alloc(1 << 16, 0x78));
    s.push(Buffer.from('END\nnext\n'));
    expect(lines).toEqual(['0123456789A', 'next']);
  });

  it('holds at most max + 1 bytes of a 100 MB line', async () => {
    const stream = new PassThrough();
    const lines: string[] = [];
    const done = splitLines(stream, 1 << 20, (l) => lines.push(l));
    const chunk = Buffer.alloc(1 << 20, 0x41);
    const before = process.memoryUsage().arrayBuffers;
    let peak = 0;
    for (let i = 0; i < 100; i++) {
      stream.write(chunk);
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
    }
    stream.end('\nok\n');
    await done;
    expect(lines.map((l) => l.length)).toEqual([(1 << 20) + 1, 2]);
    expect(peak).toBeLessThan(40 << 20);
  });
});
