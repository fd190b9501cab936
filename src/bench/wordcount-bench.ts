import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DEFAULT_VOCABULARY, generateCorpus } from '../workload/corpus.js';
import { countRange } from '../workload/word-table.js';
import { WasmWordTable } from '../workload/wasm-word-table.js';
import { repoRoot } from '../executor/paths.js';

interface BenchArgs {
  sizeMb: number;
  runs: number;
  seed: number;
  vocabulary: number | undefined;
  naive: boolean;
  c: boolean;
}

function parseArgs(argv: string[]): BenchArgs {
  const args: BenchArgs = { sizeMb: 50, runs: 5, seed: 1, vocabulary: undefined, naive: true, c: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v <= 0) throw new Error(`${a} needs a positive number`);
      return v;
    };
    if (a === '--size') args.sizeMb = num();
    else if (a === '--runs') args.runs = Math.round(num());
    else if (a === '--seed') args.seed = Math.round(num());
    else if (a === '--vocabulary') args.vocabulary = Math.round(num());
    else if (a === '--no-naive') args.naive = false;
    else if (a === '--no-c') args.c = false;
    else if (a === '--help' || a === '-h') {
      console.log('usage: wordcount-bench [--size MB] [--runs N] [--seed N] [--vocabulary N] [--no-naive] [--no-c]');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  return args;
}

function naiveCount(buf: Buffer): { distinct: number; total: number } {
  const text = buf.toString('latin1');
  const counts = new Map<string, number>();
  let total = 0;
  for (const w of text.split(/[ \t\n\v\f\r]+/)) {
    if (w === '') continue;
    counts.set(w, (counts.get(w) ?? 0) + 1);
    total++;
  }
  return { distinct: counts.size, total };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function measure(label: string, runs: number, mb: number, fn: () => { distinct: number; total: number }): void {
  fn();
  const rates: number[] = [];
  const cpuRates: number[] = [];
  let last = { distinct: 0, total: 0 };
  for (let r = 0; r < runs; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    last = fn();
    const wall = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    rates.push(mb / wall);
    cpuRates.push(mb / ((c.user + c.system) / 1e6));
  }
  const f = (x: number): string => x.toFixed(1);
  console.log(
    `${label.padEnd(22)} median ${f(median(rates)).padStart(6)} MB/s  min ${f(Math.min(...rates))}  max ${f(Math.max(...rates))}` +
      `  | per CPU-second ${f(median(cpuRates))} MB  (words ${last.total}, distinct ${last.distinct})`,
  );
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const bytes = Math.round(args.sizeMb * 1e6);
  const load = loadavg().map((x) => x.toFixed(2)).join(' ');
  console.log(`machine: ${cpus()[0]?.model ?? 'unknown CPU'} x${cpus().length}, node ${process.version}, ${process.arch}, load ${load}`);
  const t0 = performance.now();
  const corpus = generateCorpus({ bytes, seed: args.seed, vocabulary: args.vocabulary });
  console.log(`corpus: ${args.sizeMb} MB (1 MB = 10^6 bytes), seed ${args.seed}, vocabulary ${args.vocabulary ?? DEFAULT_VOCABULARY}, generated in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  console.log(`runs: 1 warm-up + ${args.runs}`);
  const mb = bytes / 1e6;
  measure('wasm kernel (count)', args.runs, mb, () => WasmWordTable.fromBuffer(corpus, 0, corpus.length));
  measure('wasm count + canonical', args.runs, mb, () => {
    const t = WasmWordTable.fromBuffer(corpus, 0, corpus.length);
    t.canonical();
    return t;
  });
  measure('JS kernel (countRange)', args.runs, mb, () => countRange(corpus, 0, corpus.length));
  if (args.naive) measure('naive Map<string,num>', args.runs, mb, () => naiveCount(corpus));
  if (args.c) measureC(corpus, args.runs, mb);
}

/** Times bench/wordcount.c (compiled with cc -O2) on the same corpus; its own clock excludes reading the file. */
function measureC(corpus: Buffer, runs: number, mb: number): void {
  const dir = mkdtempSync(join(tmpdir(), 'isolab-bench-'));
  try {
    const exe = join(dir, 'wordcount');
    const cc = spawnSync('cc', ['-O2', '-o', exe, join(repoRoot(), 'bench', 'wordcount.c')], { encoding: 'utf8' });
    if (cc.status !== 0) {
      console.log(`C hash-table counter   not measured: cc failed (${(cc.error?.message ?? cc.stderr).trim().split('\n')[0]})`);
      return;
    }
    const input = join(dir, 'corpus.txt');
    writeFileSync(input, corpus);
    const r = spawnSync(exe, [input, String(runs + 1)], { encoding: 'utf8' });
    const [times, words, distinct] = r.stdout.trim().split('\t');
    const rates = (times ?? '').split(' ').slice(1).map((t) => mb / Number(t));
    const f = (x: number): string => x.toFixed(1);
    console.log(
      `${'C hash-table (cc -O2)'.padEnd(22)} median ${f(median(rates)).padStart(6)} MB/s  min ${f(Math.min(...rates))}  max ${f(Math.max(...rates))}` +
        `  | (words ${words}, distinct ${distinct})`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
