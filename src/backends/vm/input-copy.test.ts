import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputCopies, SECTOR } from './input-copy.js';

describe('InputCopies', () => {
  it('shares one sector-padded copy per file among tasks and removes it with its last user', () => {
    const dir = mkdtempSync(join(tmpdir(), 'isolab-copies-'));
    const src = join(dir, 'in.txt');
    writeFileSync(src, 'hello world\n');
    const copies = new InputCopies(join(dir, 'run'), 'isolab-s1-input');
    const a = copies.acquire(src);
    const b = copies.acquire(src);
    expect(a.path).toBe(b.path);
    expect(a.path.startsWith(join(dir, 'run', 'isolab-s1-input-'))).toBe(true);
    expect(a.size).toBe(12);
    expect(statSync(a.path).size).toBe(SECTOR);
    expect(readFileSync(a.path).subarray(0, 12).toString()).toBe('hello world\n');
    a.release();
    a.release();
    expect(existsSync(b.path)).toBe(true);
    b.release();
    expect(existsSync(b.path)).toBe(false);
    const c = copies.acquire(src);
    copies.clear();
    expect(existsSync(c.path)).toBe(false);
  });
});
