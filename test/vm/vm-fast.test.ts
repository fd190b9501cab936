import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, linkSync, lstatSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskSink, TaskSpec } from '../../src/backends/backend.js';
import { DirectQemuBackend } from '../../src/backends/vm/direct-backend.js';
import { vmVariantDescriptor } from '../../src/backends/vm/descriptor.js';
import { directQemuProcesses } from '../../src/backends/vm/qemu-process.js';
import { decodeMessage, type ResultMessage } from '../../src/executor/protocol.js';
import { currentImage, ensureImage } from '../../src/image/index.js';
import { session } from '../../src/session/session.js';
import { countFileRange } from '../../src/workload/count.js';
import { canonicalBytes, decodeCounts, sha256Hex, tableToCounts } from '../../src/workload/counts.js';
import { generateCorpus } from '../../src/workload/corpus.js';
import { ISOLAB, isolab, tempDir } from '../cli/helpers.js';
import { runFiles, stateWithImage } from './helpers.js';

const sid = (what: string): string => `vf${what}${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;

/**
 * vm:micro and vm:snapshot against the real QEMU, in a state folder of their own (the snapshot
 * template is built there once, by the first vm:snapshot run). Passes whatever this host's KVM
 * does: the accelerator is the probe's.
 */
describe('vm:micro and vm:snapshot (QEMU started directly; accelerator as probed on this host)', () => {
  let state: string;
  let input: string;
  const runRoot = (): string => join(state, 'vm', 'run');
  const leftovers = (s: string): unknown[] => [...runFiles(`isolab-${s}-`, runRoot()), ...directQemuProcesses(runRoot()).filter((q) => q.session === s)];
  const env = (s: string): NodeJS.ProcessEnv => ({ ISOLAB_STATE_DIR: state, ISOLAB_SESSION: s });
  let expected: string;

  beforeAll(async () => {
    await ensureImage({ docker: false });
    const img = (await currentImage())!;
    state = stateWithImage(img);
    // templates of this test are its own, not the shared state folder's
    const shared = join(state, 'images', img.id, 'snapshots');
    if (lstatSync(shared, { throwIfNoEntry: false })?.isSymbolicLink()) unlinkSync(shared);
    // the boot-file guard takes regular files only: hard links (or copies) instead of the helper's symlinks
    for (const f of readdirSync(join(state, 'images', img.id)).filter((x) => x !== 'manifest.json')) {
      const to = join(state, 'images', img.id, f);
      if (lstatSync(to, { throwIfNoEntry: false })?.isSymbolicLink()) unlinkSync(to);
      if (existsSync(to)) continue;
      try {
        linkSync(join(img.dir, f), to);
      } catch {
        copyFileSync(join(img.dir, f), to);
      }
    }
    input = join(tempDir(), 'small.txt');
    writeFileSync(input, generateCorpus({ bytes: 30_000, seed: 17 }));
    const proc = await isolab(['wordcount', '--input', input, '-p', '1', '--json']);
    expect(proc.code, proc.stderr).toBe(0);
    expected = (JSON.parse(proc.stdout) as { sha256: string }).sha256;
  }, 180_000);

  afterAll(() => {
    if (state) rmSync(state, { recursive: true, force: true });
  });

  for (const backend of ['vm:micro', 'vm:snapshot']) {
    for (const p of [1, 3]) {
      it(`${backend} gives the process backend's sha256 for P=${p} and leaves nothing`, async () => {
        const s = sid(`${backend.slice(3, 5)}${p}`);
        const r = await isolab(
          ['wordcount', '--input', input, '-p', String(p), '--backend', backend, '--json', '--resources', 'cpus:3;mem:1024',
            '--task-resources', 'cpus:1;mem:256', '--timeout', '200'], env(s), 300_000,
        );
        expect(r.code, r.stderr).toBe(0);
        const out = JSON.parse(r.stdout) as { sha256: string; attempts: number; attributes: Record<string, string> };
        expect(out.sha256).toBe(expected);
        expect(out.attempts).toBe(p);
        expect(out.attributes['vm.mode']).toBe(backend.slice(3));
        if (backend === 'vm:snapshot') expect(Number(out.attributes['vm.clockStepMs'])).toBeGreaterThanOrEqual(0);
        expect(leftovers(s)).toEqual([]);
      }, 310_000);
    }
  }

  it('image list shows the snapshot template; image prune --snapshots removes it', async () => {
    const list = await isolab(['image', 'list'], env(sid('ls')));
    expect(list.stdout).toMatch(/snapshot .*\/snapshots\/(tcg|kvm)-256m-1c-[0-9a-f]{8}\s+\d+ MB/);
    const dry = await isolab(['image', 'prune', '--snapshots', '--dry-run', '--json'], env(sid('pr')));
    const items = (JSON.parse(dry.stdout) as { items: { kind: string; id: string }[] }).items.filter((i) => i.kind === 'snapshot');
    expect(items).toHaveLength(1);
    expect(existsSync(items[0]!.id)).toBe(true);
  }, 60_000);

  it('SIGINT while vm:snapshot guests run leaves no QEMU process and no per-task file', async () => {
    const s = sid('int');
    const child = spawn(ISOLAB, ['wordcount', '--input', input, '-p', '2', '--backend', 'vm:snapshot', '--resources', 'cpus:2;mem:1024',
      '--task-resources', 'cpus:1;mem:256'], { env: { ...process.env, ...env(s) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const closed = new Promise<number | null>((r) => child.on('close', r));
    const deadline = Date.now() + 90_000;
    while (directQemuProcesses(runRoot()).filter((q) => q.session === s).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(leftovers(s)).not.toEqual([]);
    child.kill('SIGINT');
    expect(await closed, stderr).toBe(130);
    expect(leftovers(s)).toEqual([]);
  }, 120_000);

  it('a crashed CLI (SIGKILL) leaves its QEMU running; isolab reap kills it and removes its files', async () => {
    const s = sid('kill');
    const child = spawn(ISOLAB, ['wordcount', '--input', input, '-p', '1', '--backend', 'vm:snapshot', '--task-resources', 'cpus:1;mem:256'],
      { env: { ...process.env, ...env(s) }, stdio: 'ignore' });
    const closed = new Promise((r) => child.on('close', r));
    const deadline = Date.now() + 90_000;
    while (directQemuProcesses(runRoot()).filter((q) => q.session === s).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGKILL');
    await closed;
    const orphans = directQemuProcesses(runRoot()).filter((q) => q.session === s);
    expect(orphans).toHaveLength(1);
    const r = await isolab(['reap', '--session', s, '--backend', 'vm', '--json'], env(sid('reaper')));
    expect(r.code, r.stderr).toBe(0);
    const items = (JSON.parse(r.stdout) as { items: { kind: string; removed: boolean }[] }).items;
    expect(items.filter((i) => i.kind === 'process')).toEqual([expect.objectContaining({ removed: true })]);
    await new Promise((r) => setTimeout(r, 500));
    expect(leftovers(s)).toEqual([]);
  }, 120_000);

  describe('in this process', () => {
    const prev = process.env.ISOLAB_STATE_DIR;
    let b: DirectQemuBackend;
    beforeAll(() => {
      process.env.ISOLAB_STATE_DIR = state;
      b = new DirectQemuBackend(vmVariantDescriptor('snapshot'), 'snapshot');
    });
    afterAll(async () => {
      await session().close();
      expect(leftovers(session().id)).toEqual([]);
      if (prev === undefined) delete process.env.ISOLAB_STATE_DIR;
      else process.env.ISOLAB_STATE_DIR = prev;
    });

    const recorder = (): TaskSink & { lines: string[]; phases: Record<string, number> } => {
      const lines: string[] = [];
      const phases: Record<string, number> = {};
      return { lines, phases, line: (l) => lines.push(l), phase: (n, at) => void (phases[n] ??= at) };
    };
    const spec = (taskId: string, mode: TaskSpec['executor']['mode'], file?: string, size = 0): TaskSpec => ({
      taskId, resources: { cpus: 1, mem: 256 }, timeoutMs: 200_000,
      executor: file ? { taskId, mode, input: file, start: 0, end: size } : { taskId, mode },
    });

    it('restores 3 guests at once, each with a different input, all exact, each with its own name, QEMU and input disk', async () => {
      const dir = tempDir();
      const inputs = [1, 2, 3].map((i) => {
        const f = join(dir, `in${i}.txt`);
        const data = generateCorpus({ bytes: 8_000 * i, seed: 100 + i });
        writeFileSync(f, data);
        return { f, size: data.length };
      });
      const sinks = inputs.map(() => recorder());
      const handles = await Promise.all(inputs.map((x, i) => b.start(spec(`three-${i}`, 'wordcount', x.f, x.size), sinks[i]!)));
      const running = directQemuProcesses(runRoot()).filter((q) => q.session === session().id);
      expect(running.map((q) => q.runDir).sort()).toEqual(handles.map((h) => join(runRoot(), h.instanceId)).sort());
      const disks = new Set(handles.map((h) => h.state.input!.path));
      expect(disks.size).toBe(3);
      const exits = await Promise.all(handles.map((h) => b.wait(h)));
      for (const h of handles) await b.destroy(h);
      for (const [i, x] of inputs.entries()) {
        expect(exits[i]).toMatchObject({ exitCode: 0, timedOut: false });
        const m = sinks[i]!.lines.map(decodeMessage).find((l) => l?.type === 'result') as ResultMessage | undefined;
        expect(m, sinks[i]!.lines.slice(-5).join('\n')).toBeDefined();
        const want = sha256Hex(canonicalBytes(tableToCounts(await countFileRange(x.f, 0, x.size))));
        expect(sha256Hex(canonicalBytes(decodeCounts(m!.counts, m!.encoding)))).toBe(want);
        for (const p of ['created', 'running', 'delivered', 'guestRestored', 'exited']) expect(sinks[i]!.phases[p], p).toBeGreaterThan(0);
      }
      expect(readdirSync(runRoot()).filter((f) => f.startsWith(`isolab-${session().id}-three`))).toEqual([]);
    }, 200_000);

    it('a crashing task reports its exit code and leaves nothing; a hung one is killed at its timeout', async () => {
      const crash = await b.start(spec('crash', 'crash'), recorder());
      expect(await b.wait(crash)).toMatchObject({ exitCode: 3, timedOut: false });
      await b.destroy(crash);
      const hang = await b.start({ ...spec('hang', 'hang'), timeoutMs: 8_000 }, recorder());
      expect(await b.wait(hang)).toMatchObject({ exitCode: null, timedOut: true, signal: 'SIGKILL' });
      await b.destroy(hang);
      expect(leftovers(session().id)).toEqual([]);
    }, 120_000);
  });
});
