import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../executor/paths.js';
import { benchEnv, describe, envLine, flags, loadLine, machineLine, medianOf, timeRun } from './bench-util.js';

/**
 * CLI start-up benchmark: wall time from exec to exit of `bin/isolab --help`, `bin/isolab wordcount
 * --help` and a wordcount of a 6-byte file, beside `node -e 0` measured in the same run
 * (round-robin, so every command sees the same machine), with ratios to `node -e 0`.
 * Usage: node dist/bench/cli-startup-bench.js [--runs N] [--warmup N] [--clean-env] [--json]
 */
function main(): void {
  const f = flags(process.argv.slice(2), { runs: 'number', warmup: 'number', json: 'boolean', help: 'boolean', 'clean-env': 'boolean' });
  if (f.help) {
    console.log('usage: bench/cli-startup [--runs N (20)] [--warmup N (2)] [--clean-env] [--json]');
    return;
  }
  const runs = Math.round(Number(f.runs ?? 20));
  const warmup = Math.round(Number(f.warmup ?? 2));
  const root = repoRoot();
  const isolab = join(root, 'bin', 'isolab');
  const dir = mkdtempSync(join(tmpdir(), 'isolab-startup-bench-'));
  const six = join(dir, 'six.txt');
  writeFileSync(six, 'a b a\n');
  const env = benchEnv(f['clean-env'] === true);
  const cases: { label: string; cmd: string; args: string[]; target?: (ms: number, node: number) => string }[] = [
    { label: 'node -e 0', cmd: process.execPath, args: ['-e', '0'] },
    { label: 'isolab --help', cmd: isolab, args: ['--help'], target: (ms, node) => `target ≤ 1.5× node: ${ms / node <= 1.5 ? 'met' : 'NOT met'}` },
    { label: 'isolab wordcount --help', cmd: isolab, args: ['wordcount', '--help'], target: (ms, node) => `target ≤ 1.5× node: ${ms / node <= 1.5 ? 'met' : 'NOT met'}` },
    { label: 'isolab wordcount (6-byte file) --json', cmd: isolab, args: ['wordcount', '--input', six, '--json'], target: (ms) => `target ≤ 350 ms: ${ms <= 350 ? 'met' : 'NOT met'}` },
  ];
  const loadBefore = loadLine();
  const samples = cases.map(() => [] as number[]);
  try {
    for (let r = 0; r < warmup + runs; r++) {
      cases.forEach((c, i) => {
        const t = timeRun(c.cmd, c.args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
        if (t.status !== 0) throw new Error(`${c.label} exited ${t.status}: ${t.stderr.trim()}`);
        if (r >= warmup) samples[i]!.push(t.ms);
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const node = medianOf(samples[0]!);
  const rows = cases.map((c, i) => {
    const med = medianOf(samples[i]!);
    return { label: c.label, medianMs: med, ratio: med / node, samplesMs: samples[i]!.map((x) => Math.round(x * 10) / 10), target: c.target?.(med, node) };
  });
  if (f.json) {
    console.log(JSON.stringify({ loadBefore, loadAfter: loadLine(), runs, warmup, environment: envLine(env), rows }));
    return;
  }
  console.log(machineLine().replace(/load average .*/, `load average before ${loadBefore}`));
  console.log(envLine(env));
  console.log(`runs: ${warmup} warm-up + ${runs}, round-robin; wall time from spawn to exit`);
  for (const [i, row] of rows.entries()) {
    console.log(`${row.label.padEnd(40)} ${describe(samples[i]!)}  ${row.ratio.toFixed(2)}× node${row.target ? `  (${row.target})` : ''}`);
  }
  console.log(`load average after ${loadLine()}`);
}

main();
