import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isolab, tempDir } from './helpers.js';

describe('process-backend executors get a minimal environment, as in a container', () => {
  it('the CLI\'s NODE_OPTIONS and other variables do not reach the executor', async () => {
    const d = tempDir();
    const log = join(d, 'loaded.txt');
    const hook = join(d, 'hook.cjs');
    writeFileSync(hook, `require('fs').appendFileSync(${JSON.stringify(log)}, process.argv.slice(1, 2).join(' ') + ' ' + JSON.stringify(Object.keys(process.env).sort()) + '\\n');\n`);
    const input = join(d, 'in.txt');
    writeFileSync(input, 'a b a\n');
    const r = await isolab(['wordcount', '--input', input, '--json'], { NODE_OPTIONS: `--require ${hook}`, SOME_SECRET: 'x' });
    expect(r.code).toBe(0);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/bin\/isolab /);
    expect(lines[0]).toContain('SOME_SECRET');
  });
});
