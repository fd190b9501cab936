/**
 * The fast-VM benchmark (issue 17): runs `isolab experiment startup` on vm, vm:micro and
 * vm:snapshot (warm runs interleaved with plain-QEMU starts of the same boot path), then measures
 * memory (snapshot file size, PSS of idle restored guests), and prints the figures against the
 * targets. `node dist/bench/fast-vm-bench.js [--repeat N] [--guests K] [--out DIR]`.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getBackend } from '../backends/registry.js';
import type { TaskHandle } from '../backends/backend.js';
import type { DirectQemuBackend } from '../backends/vm/direct-backend.js';
import { decodeMessage } from '../executor/protocol.js';
import { session } from '../session/session.js';
import { summarize } from '../stats/summary.js';

interface Sample { start: string; ok: boolean; phases: Record<string, number> }
interface Check { backend: string; kind: string; ratio: number | null; isolab: { median: number | null; n: number }; external: { median: number | null; n: number }; isolabMetric: string; status: string; reason?: string }
interface Results { startup: { backend: string; accelerator: string; samples: Sample[] }[]; crossChecks?: Check[] }

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
};
const repeat = Number(arg('repeat', '5'));
const guests = Number(arg('guests', '3'));
const out = arg('out', '/tmp/isolab-fast-vm-bench');
const bin = join(import.meta.dirname, '..', '..', 'bin', 'isolab');

function runExperiment(): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn(bin, ['experiment', 'startup', '--backends', 'vm,vm:micro,vm:snapshot', '--repeat', String(repeat), '--series', '0', '--out', out], { stdio: ['ignore', 'inherit', 'inherit'] });
    c.once('error', reject);
    c.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`isolab experiment startup exited with ${code}`))));
  });
}

const s = (ms: number | null): string => (ms === null ? 'n/a' : `${(ms / 1000).toFixed(2)} s`);

function interval(r: Results['startup'][number], from: string, to: string): { median: number | null; n: number } {
  const xs = r.samples.filter((x) => x.start === 'warm' && x.ok && x.phases[from] && x.phases[to]).map((x) => x.phases[to]! - x.phases[from]!);
  const sum = summarize(xs);
  return { median: sum.median, n: xs.length };
}

function pssKb(pid: number): number | null {
  try {
    return Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? NaN) || null;
  } catch {
    return null;
  }
}

/** K idle guests of one backend at once, PSS of each QEMU once all are ready (kB). */
async function idlePss(name: string, k: number): Promise<number[]> {
  const b = await getBackend(name);
  const handles: TaskHandle[] = [];
  const ready: Promise<void>[] = [];
  for (let i = 0; i < k; i++) {
    let done!: () => void;
    ready.push(new Promise((r) => (done = r)));
    const taskId = `pss-${name.replace(':', '-')}-${i}`;
    handles.push(await b.start({ taskId, resources: { cpus: 1, mem: 256 }, executor: { taskId, mode: 'idle' }, timeoutMs: 300_000 }, {
      line: (l) => {
        if (decodeMessage(l)?.type === 'ready') done();
      },
      phase: () => {},
    }));
  }
  await Promise.all(ready);
  await new Promise((r) => setTimeout(r, 1000));
  const kb = handles.map((h) => (h.state as { qemu?: { pid?: number } }).qemu?.pid).map((p) => (p ? pssKb(p) : null)).filter((x): x is number => x !== null);
  for (const h of handles) {
    await b.stop(h, 1000);
    await b.destroy(h);
  }
  return kb;
}

async function main(): Promise<void> {
  await runExperiment();
  const r = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Results;
  const row = (n: string) => r.startup.find((x) => x.backend === n);
  const check = (n: string) => r.crossChecks?.find((c) => c.backend === n && c.kind === 'plain-qemu');
  const lines: string[] = [`# fast-VM benchmark (${new Date().toISOString()}, warm runs ${repeat}, accelerator ${row('vm')?.accelerator ?? '?'})`, ''];
  lines.push('| measure | target | median (n) |', '|---|---|---|');
  const snap = row('vm:snapshot');
  const micro = row('vm:micro');
  const vm = row('vm');
  if (snap) {
    const x = interval(snap, 'offered', 'ready');
    lines.push(`| vm:snapshot offer → executor ready | ≤ 1.5 s | ${s(x.median)} (${x.n}) |`);
  }
  if (micro) {
    const x = interval(micro, 'offered', 'guestInit');
    lines.push(`| vm:micro offer → guestInit | ≤ 2.5 s | ${s(x.median)} (${x.n}) |`);
  }
  for (const n of ['vm', 'vm:micro', 'vm:snapshot']) {
    const c = check(n);
    if (!c) continue;
    lines.push(`| ${n}: isolab ${c.isolabMetric} ÷ plain QEMU, same boot path | ${n === 'vm:snapshot' ? '—' : '≤ 1.15'} | ${c.ratio ?? `n/a (${c.reason ?? c.status})`} (isolab ${s(c.isolab.median)}, n ${c.isolab.n}; plain ${s(c.external.median)}, n ${c.external.n}) |`);
  }
  for (const [n, rr] of [['vm', vm], ['vm:micro', micro], ['vm:snapshot', snap]] as const) {
    if (!rr) continue;
    const a = interval(rr, 'offered', 'ready');
    lines.push(`| ${n} offer → executor ready | — | ${s(a.median)} (${a.n}) |`);
  }
  const sess = session();
  try {
    const snapB = (await getBackend('vm:snapshot')) as DirectQemuBackend;
    const t = await snapB.template(256, 1);
    lines.push('', `Snapshot template: ${(t.stateBytes / 1e6).toFixed(0)} MB (${t.key.memMiB} MiB guest), booted in ${(t.buildMs.boot / 1000).toFixed(1)} s, saved in ${(t.buildMs.save / 1000).toFixed(1)} s.`);
    for (const n of ['vm:snapshot', 'vm:micro']) {
      const kb = await idlePss(n, guests);
      const m = summarize(kb.map((x) => x / 1024));
      lines.push(`${n}: PSS per idle guest at ready, ${guests} at once: median ${m.median?.toFixed(0)} MiB (n ${kb.length}; ${kb.map((x) => (x / 1024).toFixed(0)).join(', ')})`);
    }
  } finally {
    await sess.close();
  }
  const text = lines.join('\n') + '\n';
  writeFileSync(join(out, 'fast-vm-bench.md'), text);
  process.stdout.write(text);
}

main().catch((err: unknown) => {
  process.stderr.write(`fast-vm-bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
