import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import type { Backend, PlainCommand } from '../backends/backend.js';
import { summarize } from '../stats/summary.js';
import type { ExperimentContext } from './context.js';
import { launchMany, teardownMany } from './launch.js';
import { instancePss } from './memory.js';
import type { BackendInfo, CrossCheck, StartupResult } from './types.js';
import { errorMessage, round } from './util.js';

const run = promisify(execFile);

/** Spawns the plain tool and measures ms from spawn to the marker line on its stdout; null when it never came. Ends it after. */
export async function timeToMarker(cmd: PlainCommand, timeoutMs: number): Promise<{ ms: number | null; error?: string }> {
  const t0 = performance.now();
  const child = spawn(cmd.argv[0]!, cmd.argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let buf = '';
  let err = '';
  try {
    const ms = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), timeoutMs);
      child.stdout!.on('data', (b: Buffer) => {
        buf += b.toString('latin1');
        if (buf.includes(cmd.marker)) {
          clearTimeout(timer);
          resolve(performance.now() - t0);
        } else if (buf.length > 1 << 20) buf = buf.slice(-4096);
      });
      child.stderr!.on('data', (b: Buffer) => {
        if (err.length < 2000) err += b.toString();
      });
      child.once('error', (e) => {
        err ||= e.message;
        clearTimeout(timer);
        resolve(null);
      });
      child.once('exit', () => {
        clearTimeout(timer);
        resolve(buf.includes(cmd.marker) ? performance.now() - t0 : null);
      });
    });
    return ms === null ? { ms: null, error: err.trim().split('\n').pop() || `no "${cmd.marker}" within ${timeoutMs / 1000} s` } : { ms: round(ms, 3) };
  } finally {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
    await cmd.stop();
  }
}

/**
 * The start-up cross-check of one backend: `n` starts with its plain tool (docker run, bare QEMU),
 * each timed from spawn to the marker, against isolab's requested → the same phase over its warm runs.
 */
export async function plainCrossCheck(ctx: ExperimentContext, info: BackendInfo, backend: Backend, r: StartupResult, n: number): Promise<CrossCheck | null> {
  if (!backend.plainCommand) return null;
  const resources = ctx.store.data.settings.startupResources;
  let probe: PlainCommand | undefined;
  try {
    probe = await backend.plainCommand({ taskId: 'xcheck-0', resources, executor: { taskId: 'xcheck-0', mode: 'idle' } });
  } catch (err) {
    return failedCheck(info, 'plain start', errorMessage(err));
  }
  if (!probe) return null;
  await probe.stop();
  const isolab = r.samples
    .filter((s) => s.start === 'warm' && s.ok && s.phases[probe!.isolabPhase] !== undefined && s.phases.requested !== undefined)
    .map((s) => round(s.phases[probe!.isolabPhase]! - s.phases.requested!, 3));
  const external: number[] = [];
  let error: string | undefined;
  const timeout = Math.max(60_000, (info.descriptor?.priors.startupSeconds ?? 5) * 10_000);
  for (let i = 1; i <= n; i++) {
    ctx.signal.throwIfAborted();
    const cmd = await backend.plainCommand({ taskId: `xcheck-${i}`, resources, executor: { taskId: `xcheck-${i}`, mode: 'idle' } });
    if (!cmd) break;
    const t = await timeToMarker(cmd, timeout);
    if (t.ms === null) {
      error = t.error;
      break;
    }
    external.push(t.ms);
  }
  const a = summarize(isolab);
  const b = summarize(external);
  const ratio = a.median !== null && b.median !== null && b.median > 0 ? round(a.median / b.median, 3) : null;
  return {
    kind: probe.isolabPhase === 'ready' ? 'docker-run' : 'plain-qemu', backend: info.name, accelerator: r.accelerator, what: probe.what,
    tool: probe.argv.map((x) => (/\s/.test(x) ? JSON.stringify(x) : x)).join(' '), isolabMetric: `requested → ${probe.isolabPhase}`, unit: 'ms',
    isolab: a, external: b, ratio, status: external.length > 0 && isolab.length > 0 ? 'done' : 'failed',
    ...(external.length === 0 || isolab.length === 0 ? { reason: error ?? (isolab.length === 0 ? `isolab recorded no ${probe.isolabPhase}` : 'no plain run') } : {}),
  };
}

function failedCheck(info: BackendInfo, what: string, reason: string): CrossCheck {
  return {
    kind: 'plain-qemu', backend: info.name, accelerator: info.accelerator, what, tool: '', isolabMetric: '', unit: 'ms',
    isolab: summarize([]), external: summarize([]), ratio: null, status: 'failed', reason,
  };
}

/** PSS (bytes) of some processes summed by an independent program: smem when installed, else awk over /proc/<pid>/smaps_rollup. */
export async function externalPss(pids: readonly number[]): Promise<{ bytes: number | null; tool: string }> {
  if (pids.length === 0) return { bytes: null, tool: 'none' };
  try {
    const { stdout } = await run('smem', ['-H', '-c', 'pid pss', '-P', '.'], { timeout: 20_000 });
    const want = new Set(pids);
    let kb = 0;
    let found = 0;
    for (const l of stdout.split('\n')) {
      const [pid, pss] = l.trim().split(/\s+/).map(Number);
      if (pid !== undefined && want.has(pid) && Number.isFinite(pss)) {
        kb += pss!;
        found++;
      }
    }
    if (found > 0) return { bytes: kb * 1024, tool: 'smem -c "pid pss"' };
  } catch {
    /* smem not installed: awk below */
  }
  const files = pids.map((p) => `/proc/${p}/smaps_rollup`);
  try {
    const { stdout } = await run('awk', ['/^Pss:/ { s += $2 } END { print s }', ...files], { timeout: 20_000 });
    const kb = Number(stdout.trim());
    return { bytes: Number.isFinite(kb) && kb > 0 ? kb * 1024 : null, tool: 'awk \'/^Pss:/ {s+=$2}\' /proc/<pid>/smaps_rollup' };
  } catch (err) {
    return { bytes: null, tool: `awk failed: ${errorMessage(err)}` };
  }
}

/**
 * The PSS cross-check: `k` idle instances up at once; each one's PSS as isolab reads it against
 * the same processes' PSS read by an independent program right after.
 */
export async function pssCrossCheck(ctx: ExperimentContext, info: BackendInfo, backend: Backend, k: number): Promise<CrossCheck> {
  const res = ctx.store.data.settings.densityResources;
  const m = await launchMany(backend, k, 'parallel', (i) => `pss-check-${i}`, res, ctx.signal);
  const isolab: number[] = [];
  const external: number[] = [];
  let tool = '';
  try {
    for (const l of m.launched) {
      if (!l.handle) continue;
      const pids = (await backend.stats(l.handle).catch(() => undefined))?.pids ?? [];
      const a = await instancePss(pids);
      const b = await externalPss(pids);
      tool = b.tool;
      if (a !== null && b.bytes !== null) {
        isolab.push(round(a / 2 ** 20, 3));
        external.push(round(b.bytes / 2 ** 20, 3));
      }
    }
  } finally {
    await teardownMany(backend, m.launched);
  }
  const a = summarize(isolab);
  const b = summarize(external);
  return {
    kind: 'pss', backend: info.name, accelerator: info.accelerator, what: `PSS of ${k} idle instances, summed over each one's host processes`,
    tool, isolabMetric: 'PSS per instance (isolab reads /proc/<pid>/smaps_rollup)', unit: 'MiB', isolab: a, external: b,
    ratio: a.median !== null && b.median ? round(a.median / b.median, 4) : null,
    status: isolab.length > 0 ? 'done' : 'failed', ...(isolab.length === 0 ? { reason: m.error ?? 'no instance had readable PSS' } : {}),
  };
}
