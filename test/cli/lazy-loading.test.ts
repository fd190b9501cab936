import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/registry.js';
import { cleanEnv, ISOLAB, ROOT, tempDir } from './helpers.js';

const HEAVY = ['vega', 'vega-lite', 'dockerode', 'systeminformation', '@unraid/libvirt'];
const HOOK = join(ROOT, 'test', 'cli', 'fixtures', 'record-imports.mjs');

/** Runs the CLI under a loader hook that records every module it resolves; returns the package names loaded from node_modules. */
function packagesLoaded(args: string[]): { code: number | null; packages: string[]; modules: string[] } {
  const log = join(tempDir(), 'imports.txt');
  writeFileSync(log, '');
  const r = spawnSync(process.execPath, ['--import', HOOK, ISOLAB, ...args], { env: cleanEnv({ ISOLAB_RECORD_IMPORTS: log }), encoding: 'utf8' });
  const modules = readFileSync(log, 'utf8').split('\n').filter(Boolean);
  rmSync(log, { force: true });
  const packages = [...new Set(modules.map((u) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1]).filter((p): p is string => !!p))];
  return { code: r.status, packages, modules };
}

describe('the CLI loads only what a command needs (module loader hook, no timing)', () => {
  it('the hook sees imports: a command that draws charts loads vega', () => {
    const r = packagesLoaded(['report', '--help']);
    expect(r.code).toBe(0);
    expect(r.modules.some((m) => m.endsWith('/dist/cli/commands/report.js'))).toBe(true);
    expect(r.packages).toContain('vega');
  });

  it.each([['--help'], ['wordcount', '--help'], ['corpus', '--help']])('isolab %s loads no heavy library and no other command', (...args) => {
    const r = packagesLoaded(args);
    expect(r.code).toBe(0);
    expect(r.packages.filter((p) => HEAVY.includes(p))).toEqual([]);
    const commands = r.modules.filter((m) => m.includes('/dist/cli/commands/')).map((m) => m.replace(/.*\/commands\//, ''));
    expect(commands).toEqual(args[0] === '--help' ? [] : [`${args[0]}.js`]);
  });

  it('a process-backend wordcount loads none of vega, dockerode, systeminformation, the libvirt binding', () => {
    const input = join(tempDir(), 'six.txt');
    writeFileSync(input, 'a b a\n');
    const r = packagesLoaded(['wordcount', '--input', input, '--json']);
    expect(r.code).toBe(0);
    expect(r.packages.filter((p) => HEAVY.includes(p))).toEqual([]);
  });

  it('lists each command with the summary its module gives', async () => {
    for (const entry of COMMANDS) expect((await entry.load()).summary, entry.name).toBe(entry.summary);
  });
});

describe('uncaught errors', () => {
  const script = (body: string): string => {
    const f = join(tempDir(), 'crash.mjs');
    writeFileSync(f, `import { installCrashHandler } from '${join(ROOT, 'dist', 'cli', 'crash.js')}';
import { session } from '${join(ROOT, 'dist', 'session', 'session.js')}';
import { writeFileSync } from 'node:fs';
installCrashHandler();
session().defer('marker', () => writeFileSync(process.env.MARKER, 'cleaned'));
${body}
setTimeout(() => {}, 5000);
`);
    return f;
  };

  it.each([
    ['an uncaught exception', "setTimeout(() => { throw new Error('boom in a timer'); }, 10);", 'boom in a timer'],
    ['an unhandled rejection', "void Promise.reject(new Error('boom in a promise'));", 'boom in a promise'],
  ])('%s runs every session cleanup, prints one line and exits 1', (_name, body, msg) => {
    const marker = join(tempDir(), 'marker');
    const r = spawnSync(process.execPath, [script(body)], { env: cleanEnv({ MARKER: marker }), encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`isolab: internal error: ${msg}\n`);
    expect(readFileSync(marker, 'utf8')).toBe('cleaned');
    const debug = spawnSync(process.execPath, [script(body)], { env: cleanEnv({ MARKER: marker, ISOLAB_DEBUG: '1' }), encoding: 'utf8', timeout: 30_000 });
    expect(debug.status).toBe(1);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });
});
