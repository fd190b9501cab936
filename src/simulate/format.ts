import type { SimulationResult } from './simulator.js';

/** Most framework rows the human output shows; the rest are summarised in one line. */
export const MAX_ROWS = 40;

/** The human form of a simulation result: a framework table, then the allocator's figures. */
export function formatSimulation(r: SimulationResult): string {
  const s = r.scenario;
  const head = ['framework', 'weight', 'launched', 'finished', 'running', 'meanRunning', 'dominantShare'];
  const names = Object.keys(r.frameworks);
  const rows = names.slice(0, MAX_ROWS).map((name) => {
    const f = r.frameworks[name]!;
    return [name, String(f.weight), String(f.launched), String(f.finished), String(f.running), f.meanRunning.toFixed(2), f.dominantShare.toFixed(4)];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  const a = r.allocator;
  const out = [
    `${s.agents} agents (cpus ${s.total.cpus}, mem ${s.total.mem} MiB), ${s.frameworks} frameworks, ${s.seconds} simulated s, allocation every ${s.allocationIntervalSeconds} s, seed ${s.seed}`,
    '',
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
  ];
  if (names.length > MAX_ROWS) out.push(`... and ${names.length - MAX_ROWS} more frameworks (use --json for all)`);
  out.push(
    '',
    `allocator: ${a.runs} runs, run time median ${a.allocationMs.median} ms, p99 ${a.allocationMs.p99} ms, max ${a.allocationMs.max} ms (real time)`,
    `offers: ${a.offers} made, ${a.declined} declined, ${a.rescinded} rescinded; tasks: ${r.tasks.launched} launched, ${r.tasks.finished} finished`,
    `wall time: ${r.wallSeconds} s`,
  );
  return out.join('\n') + '\n';
}
