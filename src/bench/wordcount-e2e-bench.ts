import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../executor/paths.js';
import { writeCorpus } from '../workload/corpus.js';
import { benchEnv, describe, envLine, flags, loadLine, machineLine, medianOf, timeRun } from './bench-util.js';

/**
 * End-to-end wordcount benchmark: wall time of the whole `bin/isolab wordcount --parallelism P
 * --json` (exec to exit) divided by that of `bench/wordcount.c` (cc -O2, exec to exit, reading the
 * same file), round-robin in the same run, with the median of each stage of isolab's `stagesMs`.
 * Usage: node dist/bench/wordcount-e2e-bench.js [--input FILE | --size MB --vocabulary N --seed N]
 *        [--runs N] [--warmup N] [--parallelism P] [--backend NAME] [--clean-env] [--json]
 */
async function main(): Promise<void> {
  const f = flags(process.argv.slice(2), {
    input: 'string', size: 'number', vocabulary: 'number', seed: 'number', runs: 'number', warmup: 'number', parallelism: 'number',
    backend: 'string', json: 'boolean', help: 'boolean', 'clean-env': 'boolean',
  });
  if (f.help) {
    console.log('usage: bench/wordcount-e2e [--input FILE | --size MB (50) --vocabulary N (160000) --seed N (1)] [--runs N (10)] [--warmup N (1)] [--parallelism P (1)] [--backend NAME (process)] [--clean-env] [--json]');
    return;
  }
  const root = repoRoot();
  const dir = mkdtempSync(join(tmpdir(), 'isolab-e2e-bench-'));
  try {
    let input = f.input as string | undefined;
    let corpus = `given file ${input}`;
    if (!input) {
      const bytes = Math.round(Number(f.size ?? 50) * 1e6);
      const vocabulary = Math.round(Number(f.vocabulary ?? 160_000));
      const seed = Math.round(Number(f.seed ?? 1));
      input = join(dir, 'corpus.txt');
      await writeCorpus(input, { bytes, seed, vocabulary });
      corpus = `isolab corpus --size ${bytes / 1e6} --vocabulary ${vocabulary} --seed ${seed}`;
    }
    const exe = join(dir, 'wordcount');
    const cc = spawnSync('cc', ['-O2', '-o', exe, join(root, 'bench', 'wordcount.c')], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`cc failed: ${(cc.error?.message ?? cc.stderr).trim().split('\n')[0]}`);
    const runs = Math.round(Number(f.runs ?? 10));
    const warmup = Math.round(Number(f.warmup ?? 1));
    const p = String(Math.round(Number(f.parallelism ?? 1)));
    const backend = String(f.backend ?? 'process');
    const env = benchEnv(f['clean-env'] === true);
    const loadBefore = loadLine();
    const c: number[] = [];
    const iso: number[] = [];
    const stages: Record<string, number>[] = [];
    let words = '';
    for (let r = 0; r < warmup + runs; r++) {
      const tc = timeRun(exe, [input, '1'], { env });
      if (tc.status !== 0) throw new Error(`C counter exited ${tc.status}`);
      const ti = timeRun(join(root, 'bin', 'isolab'), ['wordcount', '--input', input, '--parallelism', p, '--backend', backend, '--json'], { env });
      if (ti.status !== 0) throw new Error(`isolab exited ${ti.status}: ${ti.stderr.trim()}`);
      const j = JSON.parse(ti.stdout) as { words: number; distinct: number; stagesMs: Record<string, number> };
      const [, cw, cd] = tc.stdout.trim().split('\t');
      if (String(j.words) !== cw || String(j.distinct) !== cd) throw new Error(`counts differ: isolab ${j.words}/${j.distinct}, C ${cw}/${cd}`);
      words = `${j.words} words, ${j.distinct} distinct`;
      if (r < warmup) continue;
      c.push(tc.ms);
      iso.push(ti.ms);
      stages.push(j.stagesMs);
    }
    const ratio = medianOf(iso) / medianOf(c);
    const perRun = iso.map((x, i) => x / c[i]!);
    const stageMedians = Object.fromEntries(Object.keys(stages[0] ?? {}).map((k) => [k, medianOf(stages.map((s) => s[k]!))]));
    if (f.json) {
      console.log(JSON.stringify({ environment: envLine(env), corpus, bytes: statSync(input).size, words, backend, parallelism: Number(p), runs, warmup, loadBefore, loadAfter: loadLine(), cMs: c, isolabMs: iso, ratio, stageMedians, stages }));
      return;
    }
    console.log(machineLine().replace(/load average .*/, `load average before ${loadBefore}`));
    console.log(envLine(env));
    console.log(`corpus: ${corpus} (${statSync(input).size} bytes, ${words})`);
    console.log(`runs: ${warmup} warm-up + ${runs}, round-robin; wall time from spawn to exit`);
    console.log(`C hash table (bench/wordcount.c, cc -O2)          ${describe(c)}`);
    console.log(`isolab wordcount --backend ${backend} -p ${p} --json ${' '.repeat(Math.max(0, 11 - backend.length - p.length))}${describe(iso)}`);
    console.log(`ratio of medians: ${ratio.toFixed(2)} (per-run ratios ${describe(perRun, 2, '×')}); target ≤ 2.0: ${ratio <= 2 ? 'met' : 'NOT met'}`);
    console.log(`isolab stages (median ms): ${Object.entries(stageMedians).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
    console.log(`load average after ${loadLine()}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((err: unknown) => {
  console.error(`wordcount-e2e-bench: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
