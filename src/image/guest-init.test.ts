import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { busyboxPath, guestDir } from './inputs.js';

/** The task_from_cmdline function of the guest's PID 1 (src/image/guest/init.sh), cut out between its markers. */
function parserScript(): string {
  const init = readFileSync(join(guestDir(), 'init.sh'), 'utf8');
  const m = /# >>> task_from_cmdline[^\n]*\n([\s\S]*?)# <<< task_from_cmdline/.exec(init);
  if (!m) throw new Error('init.sh has no task_from_cmdline block');
  return `${m[1]}\ntask_from_cmdline "$1"\n`;
}

/** Runs the guest's parser on a kernel command line, in a folder full of files a glob could expand to. */
function parse(shell: string[], cmdline: string): { task: string; files: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'isolab-init-test-'));
  for (const f of ['isolab.task=FROMGLOB', 'a', 'b']) writeFileSync(join(dir, f), '');
  writeFileSync(join(dir, 'cmdline'), `${cmdline}\n`);
  writeFileSync(join(dir, 'parse.sh'), parserScript());
  try {
    const r = spawnSync(shell[0]!, [...shell.slice(1), join(dir, 'parse.sh'), join(dir, 'cmdline')], { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`parser failed: ${r.stderr}`);
    return { task: r.stdout, files: readdirSync(dir).sort() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const shells: [string, string[]][] = [['busybox sh (the guest\'s shell)', [busyboxPath(), 'sh']]];
if (existsSync('/bin/sh')) shells.push(['/bin/sh', ['/bin/sh']]);

describe.each(shells)('guest init: isolab.task from the kernel command line, under %s', (_name, shell) => {
  it('takes the base64url value among the other words', () => {
    expect(parse(shell, 'console=ttyS0 quiet panic=-1 isolab.task=eyJhIjoxfQ_-').task).toBe('eyJhIjoxfQ_-');
  });

  it('does not expand globs in the command line (a * word stays a word; no file name becomes the task)', () => {
    expect(parse(shell, 'console=ttyS0 * isolab.task=* quiet').task).toBe('');
    expect(parse(shell, 'isolab.task* console=ttyS0').task).toBe('');
    expect(parse(shell, '* isolab.task=abc').task).toBe('abc');
  });

  it('drops a value with characters outside base64url, and runs nothing it contains', () => {
    const r = parse(shell, 'isolab.task=$(touch${IFS}pwned) quiet');
    expect(r.task).toBe('');
    expect(r.files).not.toContain('pwned');
    expect(parse(shell, 'isolab.task=abc;def').task).toBe('');
    expect(parse(shell, 'quiet').task).toBe('');
  });
});
