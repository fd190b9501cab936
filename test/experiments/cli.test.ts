import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnIsolab, tempDir } from './helpers.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'results.json');

async function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const r = spawnIsolab(args, {}, 60_000);
  const code = await r.exit;
  return { code, stdout: r.stdout(), stderr: r.stderr() };
}

describe('isolab experiment: usage errors exit 2 with one line on stderr', () => {
  const dir = tempDir();
  const empty = join(dir, 'empty.txt');
  writeFileSync(empty, '');
  const cases: [string[], RegExp][] = [
    [['experiment'], /which experiment\?/],
    [['experiment', 'speed'], /unknown experiment "speed"/],
    [['experiment', 'startup', 'extra'], /unexpected argument "extra"/],
    [['experiment', 'startup', '--backends', 'process,nope'], /unknown backend "nope"/],
    [['experiment', 'startup', '--backends', 'process,process'], /lists a backend twice/],
    [['experiment', 'startup', '--backends', 'process,docker:runsc'], /unknown backend "docker:runsc"/],
    [['experiment', 'density', '--backend-density-steps', 'vm'], /--backend-density-steps takes NAME=LIST/],
    [['experiment', 'density', '--backends', 'process', '--backend-density-steps', 'vm=1,2'], /names vm, which is not among --backends/],
    [['experiment', 'density', '--backend-density-steps', 'vm=1,x'], /--backend-density-steps takes integers from 1 to 512, got "x"/],
    [['experiment', 'throughput', '--input', join(dir, 'missing.txt')], /missing\.txt: no such file/],
    [['experiment', 'throughput', '--input', empty], /empty file/],
    [['experiment', 'throughput', '--input', empty, '--size', '1'], /give one of --input FILE, --size MB, --sizes LIST/],
    [['experiment', 'throughput', '--parallelism', '1,0'], /--parallelism takes integers from 1 to 64, got "0"/],
    [['experiment', 'startup', '--repeat', 'x'], /--repeat must be an integer >= 1/],
    [['experiment', 'startup', '--bogus'], /Unknown option --bogus/i],
    [['lab', '--sampler-hz', '1000'], /--sampler-hz must be at most 100/],
    [['report'], /give one DIR/],
    [['report', dir], /results\.json: no such file/],
    [['compare', dir], /give two folders/],
  ];
  for (const [args, msg] of cases) {
    it(args.join(' '), async () => {
      const r = await run(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^isolab: /);
    });
  }
  it('--help explains the command and exits 0', async () => {
    const r = await run(['experiment', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: isolab experiment startup\|density\|throughput\|all/);
    expect(r.stdout).toMatch(/--parallelism LIST/);
    const lab = await run(['lab', '--help']);
    expect(lab.stdout).toMatch(/within 20 minutes/);
  });
});

describe('isolab report and compare', () => {
  it('re-renders report.md, results.csv and the charts from results.json alone', async () => {
    const dir = tempDir();
    cpSync(FIXTURE, join(dir, 'results.json'));
    writeFileSync(join(dir, 'timeline-old-cpu.svg'), '<svg/>');
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    const r = await run(['report', dir]);
    expect(existsSync(join(dir, 'timeline-old-cpu.svg'))).toBe(false);
    expect(existsSync(join(dir, 'notes.txt'))).toBe(true);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/report: .*report\.md \(18 files\)/);
    const md = readFileSync(join(dir, 'report.md'), 'utf8');
    expect(md).toBe(readFileSync(join(import.meta.dirname, '__snapshots__', 'report.md'), 'utf8'));
    for (const f of ['startup-distribution.svg', 'startup-phases.svg', 'density-memory.svg', 'throughput-parallelism.svg', 'timeline-gvisor-tasks.svg', 'timeline-vm-host.svg']) {
      expect(readFileSync(join(dir, f), 'utf8')).toMatch(/^<svg/);
    }
    expect(existsSync(join(dir, 'results.csv'))).toBe(true);
  });

  it('prints two runs side by side as Markdown', async () => {
    const a = tempDir();
    const b = tempDir();
    cpSync(FIXTURE, join(a, 'results.json'));
    cpSync(FIXTURE, join(b, 'results.json'));
    const r = await run(['compare', a, b]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^# isolab: two runs compared/);
    expect(r.stdout).toContain('**Gate: pass.**');
    expect(r.stdout).toMatch(/\| startup +\| vm +\| warm +\| total: offer → cleaned up +\| ms +\| +[\d.]+ .*\| +[\d.]+ .*\| +1\.00× \| unchanged +\|/);
  });
});
