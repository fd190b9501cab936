import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../executor/paths.js';
import { loadScenario } from '../simulate/scenario.js';
import { simulate, type SimulationResult } from '../simulate/simulator.js';

/**
 * Benchmark of the allocator at the Mesos paper's emulation scale: runs a scenario (default
 * examples/scenarios/mesos-paper.json: 50,000 agents, 200 frameworks of 2-CPU/2 GB tasks, 600
 * simulated seconds, seed 4) and prints the allocation-run times, wall and CPU seconds, the load
 * average before and after, peak RSS, and the machine it ran on.
 *
 *   node dist/bench/simulate-bench.js [SCENARIO] [--runs N] [--out FILE] [--cpu-time]
 *
 * With --cpu-time, allocation runs are timed in the main thread's CPU time (Linux schedstat,
 * nanoseconds) instead of real time: on a busy machine that separates the work a run does from the
 * time the process waited for a core. It is a diagnostic; the figures the README quotes are real time.
 */

interface BenchArgs {
  scenario: string;
  runs: number;
  out?: string;
  cpuTime: boolean;
}

function parseArgs(argv: string[]): BenchArgs {
  const args: BenchArgs = { scenario: join(repoRoot(), 'examples', 'scenarios', 'mesos-paper.json'), runs: 1, cpuTime: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--runs') {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1) throw new Error('--runs needs a positive integer');
      args.runs = n;
    } else if (a === '--out') {
      const v = argv[++i];
      if (!v) throw new Error('--out needs a file');
      args.out = v;
    } else if (a === '--cpu-time') {
      args.cpuTime = true;
    } else if (a === '--help' || a === '-h') {
      console.log('usage: simulate-bench [SCENARIO.json] [--runs N] [--out FILE] [--cpu-time]');
      process.exit(0);
    } else if (a.startsWith('-')) throw new Error(`unknown argument ${a}`);
    else args.scenario = a;
  }
  return args;
}

/** What one benchmark run measured. */
interface RunRecord {
  /** Allocation run real time (ms). */
  allocationMs: SimulationResult['allocator']['allocationMs'];
  /** Allocation runs. */
  runs: number;
  /** Offers made, declined, rescinded. */
  offers: number;
  declined: number;
  rescinded: number;
  /** Tasks launched and finished in all. */
  launched: number;
  finished: number;
  /** Wall seconds of the simulation (set-up included). */
  wallSeconds: number;
  /** CPU seconds of this process during the run (user + system). */
  cpuSeconds: number;
  /** 1-minute load average before and after: other work on the machine inflates real time. */
  load: [number, number];
  /** Peak resident set (MiB) so far. */
  maxRssMiB: number;
}

/** CPU time of this process's main thread (ms), from /proc/self/task/<pid>/schedstat (ns). */
function mainThreadCpuMs(): number {
  return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const scenario = loadScenario(args.scenario);
  const agents = scenario.agents.reduce((n, g) => n + g.count, 0);
  const machine = {
    cpu: cpus()[0]?.model.trim() ?? 'unknown', cores: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30),
    freeMemGiB: Math.round(freemem() / 2 ** 30), node: process.version,
  };
  console.log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memGiB} GiB, node ${machine.node}`);
  console.log(`scenario: ${args.scenario}: ${agents} agents, ${scenario.frameworks.length} frameworks, ${scenario.seconds} simulated s`);
  const records: RunRecord[] = [];
  for (let i = 0; i < args.runs; i++) {
    const load0 = loadavg()[0]!;
    const cpu0 = process.cpuUsage();
    const r = simulate(scenario, {
      runClock: args.cpuTime ? mainThreadCpuMs : undefined,
      progressEverySeconds: 60,
      onProgress: (sim, wall) => process.stderr.write(`  simulated ${sim} s in ${wall.toFixed(1)} s\n`),
    });
    const cpu = process.cpuUsage(cpu0);
    const tasks = r.tasks;
    const rec: RunRecord = {
      allocationMs: r.allocator.allocationMs, runs: r.allocator.runs, offers: r.allocator.offers, declined: r.allocator.declined,
      rescinded: r.allocator.rescinded, launched: tasks.launched, finished: tasks.finished, wallSeconds: r.wallSeconds,
      cpuSeconds: Math.round((cpu.user + cpu.system) / 1e4) / 100, load: [load0, loadavg()[0]!],
      maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    };
    records.push(rec);
    const a = rec.allocationMs;
    console.log(
      `run ${i + 1}: allocation run (${args.cpuTime ? 'main-thread CPU time' : 'real time'}) median ${a.median} ms, p99 ${a.p99} ms, max ${a.max} ms over ${rec.runs} runs; ` +
        `${rec.offers} offers (${rec.declined} declined), ${rec.launched} tasks launched; wall ${rec.wallSeconds} s, CPU ${rec.cpuSeconds} s; ` +
        `load ${rec.load[0].toFixed(1)} -> ${rec.load[1].toFixed(1)}; max RSS ${rec.maxRssMiB} MiB`,
    );
    if (args.out) writeFileSync(args.out, JSON.stringify({ machine, scenario: args.scenario, runs: records }, null, 2) + '\n');
  }
}

main();
