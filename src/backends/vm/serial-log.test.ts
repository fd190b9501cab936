import { appendFileSync, mkdtempSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
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

describe('SerialLogReader: rotation and cap', () => {
  it('follows a rotation (virtlogd renames the file at max_size and starts a new one): old file read to its end first', () => {
    const dir = mkdtempSync(join(tmpdir(), 'isolab-serial-'));
    const path = join(dir, 'serial.log');
    const lines: string[] = [];
    const r = new SerialLogReader(path, (l) => lines.push(l));
    writeFileSync(path, 'one\r\ntw');
    r.poll();
    appendFileSync(path, 'o\r\nthr');
    renameSync(path, `${path}.0`);
    r.poll();
    writeFileSync(path, 'ee\r\nfour\r\n');
    r.poll();
    expect(lines).toEqual(['one', 'two', 'three', 'four']);
    renameSync(path, `${path}.1`);
    writeFileSync(path, 'five\n');
    r.stop();
    expect(lines).toEqual(['one', 'two', 'three', 'four', 'five']);
    expect(r.bytesRead).toBe(28);
  });

  it('stops reading past maxBytes and says so once, so a guest printing forever is cut off', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'isolab-serial-')), 'serial.log');
    const lines: string[] = [];
    const over: number[] = [];
    const r = new SerialLogReader(path, (l) => lines.push(l), { maxBytes: 100_000, onOverflow: (n) => over.push(n) });
    writeFileSync(path, 'ok\n' + 'x'.repeat(200_000));
    r.poll();
    appendFileSync(path, '\nmore\n');
    r.poll();
    r.stop();
    expect(over).toHaveLength(1);
    expect(over[0]).toBeGreaterThan(100_000);
    expect(r.overflow).toBe(true);
    expect(lines[0]).toBe('ok');
    expect(lines.join('').length).toBeLessThanOrEqual(100_000 + 64 * 1024);
    expect(lines).not.toContain('more');
  });

  it('does not follow a symlink planted as the log', () => {
    const dir = mkdtempSync(join(tmpdir(), 'isolab-serial-'));
    writeFileSync(join(dir, 'secret'), 'secret line\n');
    symlinkSync(join(dir, 'secret'), join(dir, 'serial.log'));
    const lines: string[] = [];
    const r = new SerialLogReader(join(dir, 'serial.log'), (l) => lines.push(l));
    r.poll();
    r.stop();
    expect(lines).toEqual([]);
  });
});
