import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import type { Backend, PlainCommand } from '../backends/backend.js';
import { summarize } from '../stats/summary.js';
import type { ExperimentContext } from './context.js';
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
 * The start-up cross-check of one backend, interleaved with its warm start-ups so both see the same
 * host load: after some of the warm runs (spread evenly), one start with the plain tool (docker run,
 * bare QEMU) timed from spawn to the marker; at the end, against isolab's requested → the same
 * phase over the warm runs.
 */
export class PlainCrossCheck {
  private readonly external: number[] = [];
  private error?: string;
  private probe?: PlainCommand;
  private started = 0;

  private constructor(
    private readonly ctx: ExperimentContext,
    private readonly info: BackendInfo,
    private readonly backend: Backend,
    /** Plain runs wanted. */
    readonly n: number,
  ) {}

  /** A cross-check for a backend with a plain tool, or undefined when it has none (or it cannot say). */
  static async create(ctx: ExperimentContext, info: BackendInfo, backend: Backend, n: number): Promise<PlainCrossCheck | undefined> {
    if (!backend.plainCommand || n <= 0) return undefined;
    const c = new PlainCrossCheck(ctx, info, backend, n);
    try {
      c.probe = await backend.plainCommand(c.spec(0));
    } catch (err) {
      c.error = errorMessage(err);
      return c;
    }
    if (!c.probe) return undefined;
    await c.probe.stop();
    return c;
  }

  private spec(i: number) {
    const resources = this.ctx.store.data.settings.startupResources;
    return { taskId: `xcheck-${i}`, resources, executor: { taskId: `xcheck-${i}`, mode: 'idle' as const } };
  }

  /** Runs a plain start after warm run `i` of `warm` when it is one of the evenly spread points. */
  async afterWarm(i: number, warm: number): Promise<void> {
    if (!this.probe || this.error || this.started >= this.n) return;
    const due = Math.ceil(((this.started + 1) * warm) / this.n);
    if (i < due && i < warm) return;
    this.started++;
    const timeout = Math.max(60_000, (this.info.descriptor?.priors.startupSeconds ?? 5) * 10_000);
    const cmd = await this.backend.plainCommand!(this.spec(this.started));
    if (!cmd) return;
    const t = await timeToMarker(cmd, timeout);
    if (t.ms === null) this.error = t.error;
    else this.external.push(t.ms);
  }

  /** The check, from the plain runs and the result's warm runs. */
  result(r: StartupResult): CrossCheck {
    const probe = this.probe;
    if (!probe) return failedCheck(this.info, 'plain start', this.error ?? 'no plain command');
    const isolab = r.samples
      .filter((s) => s.start === 'warm' && s.ok && s.phases[probe.isolabPhase] !== undefined && s.phases.requested !== undefined)
      .map((s) => round(s.phases[probe.isolabPhase]! - s.phases.requested!, 3));
    const a = summarize(isolab);
    const b = summarize(this.external);
    const ratio = a.median !== null && b.median !== null && b.median > 0 ? round(a.median / b.median, 3) : null;
    const ok = this.external.length > 0 && isolab.length > 0;
    return {
      kind: probe.kind, backend: this.info.name, accelerator: r.accelerator,
      what: `${probe.what}; the plain runs interleaved with isolab's warm runs`,
      tool: probe.argv.map((x) => (/\s/.test(x) ? JSON.stringify(x) : x)).join(' '), isolabMetric: `requested → ${probe.isolabPhase}`, unit: 'ms',
      isolab: a, external: b, ratio, status: ok ? 'done' : 'failed',
      ...(ok ? {} : { reason: this.error ?? (isolab.length === 0 ? `isolab recorded no ${probe.isolabPhase}` : 'no plain run') }),
    };
  }
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
