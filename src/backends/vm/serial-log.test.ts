import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SerialLogReader } from './serial-log.js';

describe('SerialLogReader', () => {
  it('emits complete lines as the file grows, strips \\r, and flushes the last partial line on stop', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'isolab-serial-')), 'serial.log');
    const lines: string[] = [];
    const r = new SerialLogReader(path, (l) => lines.push(l));
    r.poll();
    expect(lines).toEqual([]);
    writeFileSync(path, 'boot\r\n@isolab {"type":"re');
    r.poll();
    expect(lines).toEqual(['boot']);
    appendFileSync(path, 'ady"}\r\nsecond\nthi');
    r.poll();
    expect(lines).toEqual(['boot', '@isolab {"type":"ready"}', 'second']);
    appendFileSync(path, Buffer.from([0xc3]));
    r.poll();
    appendFileSync(path, Buffer.from([0xa9, 0x0d, 0x0a]));
    r.poll();
    expect(lines.at(-1)).toBe('thié');
    appendFileSync(path, 'tail');
    r.stop();
    expect(lines.at(-1)).toBe('tail');
    r.stop();
    expect(lines).toHaveLength(5);
  });
});
