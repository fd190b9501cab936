import { mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic } from './results-store.js';

describe('writeFileAtomic', () => {
  it('replaces the file and leaves no temp file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'isolab-atomic-'));
    const path = join(dir, 'results.json');
    writeFileSync(path, 'old');
    writeFileAtomic(path, '{"new":true}\n');
    expect(readFileSync(path, 'utf8')).toBe('{"new":true}\n');
    expect(readdirSync(dir)).toEqual(['results.json']);
  });

  it('never writes through links planted at the temp names a predictable scheme would use', () => {
    const dir = mkdtempSync(join(tmpdir(), 'isolab-atomic-'));
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'precious');
    const path = join(dir, 'results.json');
    // the names the old scheme used (`<path>.<pid>.tmp`) and a few more, all pointing at the victim
    for (const name of [`${path}.${process.pid}.tmp`, `${path}.tmp`, `${path}.1.tmp`]) symlinkSync(victim, name);
    writeFileAtomic(path, 'data');
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(readFileSync(path, 'utf8')).toBe('data');
    expect(readdirSync(dir).filter((f) => !f.startsWith('results.json.') && f !== 'results.json' && f !== 'victim')).toEqual([]);
  });

  it('replaces a symbolic link at the output path itself instead of following it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'isolab-atomic-'));
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'precious');
    const path = join(dir, 'results.json');
    symlinkSync(victim, path);
    writeFileAtomic(path, 'data');
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(readFileSync(path, 'utf8')).toBe('data');
  });
});
