import { readdirSync, readlinkSync, realpathSync, renameSync, symlinkSync, unlinkSync, writeFileSync, readFileSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputCopies } from '../../src/backends/vm/input-copy.js';
import { sha256Hex } from '../../src/workload/counts.js';
import { generateCorpus } from '../../src/workload/corpus.js';
import { referenceCounts, startIsolab, tempDir, until } from './helpers.js';

/** Two same-sized files with different words, and a symlink `input` pointing at the first. */
function swapFixture(bytes: number) {
  const dir = tempDir();
  const a = join(dir, 'a.txt');
  const b = join(dir, 'b.txt');
  writeFileSync(a, generateCorpus({ bytes, seed: 21 }));
  writeFileSync(b, generateCorpus({ bytes, seed: 22, vocabulary: 50 }));
  const link = join(dir, 'input');
  symlinkSync(a, link);
  return { dir, a, b, link, shaA: sha256Hex(referenceCounts(a)), shaB: sha256Hex(referenceCounts(b)) };
}

/** True once `pid` holds `file` open. */
function holds(pid: number, file: string): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === file;
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

/**
 * Starts a wordcount on the symlink, waits until the CLI has opened the file, then points the
 * symlink at the other file and moves a copy of it over the original's name too, so any later
 * open by name reads the other words. The count must still be the original file's.
 */
async function countWhileSwapping(backend: string): Promise<void> {
  const f = swapFixture(3_000_000);
  const run = startIsolab(['wordcount', '--input', f.link, '--backend', backend, '-p', '3', '--json']);
  expect(await until(() => holds(run.child.pid!, realpathSync(f.a)), 30_000, 1)).toBe(true);
  const tmpLink = join(f.dir, 'input.new');
  symlinkSync(f.b, tmpLink);
  renameSync(tmpLink, f.link);
  renameSync(f.a, join(f.dir, 'a.moved'));
  writeFileSync(f.a + '.new', readFileSync(f.b));
  renameSync(f.a + '.new', f.a);
  const r = await run.done;
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout).sha256).toBe(f.shaA);
  expect(f.shaA).not.toBe(f.shaB);
}

describe('the input is opened once; swapping it mid-run does not change what is counted', () => {
  it('process backend: executors open the CLI\'s descriptor through /proc/<pid>/fd/<n>', async () => {
    await countWhileSwapping('process');
  }, 120_000);

  it('docker backend: the bind mount is the file the descriptor names, not the swapped path', async () => {
    await countWhileSwapping('docker');
  }, 180_000);

  it('vm backend: the input copy is made from the descriptor (InputCopies, the step a VM task takes; no guest booted)', () => {
    const f = swapFixture(200_000);
    const fd = openSync(f.link, 'r');
    try {
      unlinkSync(f.link);
      symlinkSync(f.b, f.link);
      const copies = new InputCopies(tempDir(), 'isolab-test-input');
      const copy = copies.acquire(`/proc/${process.pid}/fd/${fd}`);
      try {
        expect(copy.size).toBe(200_000);
        expect(readFileSync(copy.path).subarray(0, copy.size).equals(readFileSync(f.a))).toBe(true);
      } finally {
        copy.release();
      }
    } finally {
      closeSync(fd);
    }
  });
});
