import { randomBytes } from 'node:crypto';
import { closeSync, openSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { encodeDelivery, RESTORED_MARKER } from '../../executor/await-task.js';
import { encodeTask, type ExecutorTask } from '../../executor/protocol.js';
import { session } from '../../session/session.js';
import type {
  Backend, ExitResult, Fingerprint, LimitsEnforced, OwnedResource, PlainCommand, TaskHandle, TaskSink, TaskSpec, TaskStats, TaskUsage,
} from '../backend.js';
import type { BackendDescriptor } from '../descriptor.js';
import { procUsage } from '../proc.js';
import { procCpu, procMemory, procReadChars, UsageMeter, type UsageReading } from '../usage.js';
import { BootFileGuard } from './boot-files.js';
import { guestSize } from './domain-xml.js';
import type { VmImage } from './guest-image.js';
import { InputCopies, type InputCopy } from './input-copy.js';
import { makeRunDir, vmRunRoot, vmStateDir } from './paths.js';
import { microCmdline, qemuArgv } from './qemu-argv.js';
import { QemuProcess } from './qemu-process.js';
import { QmpClient } from './qmp-client.js';
import { guestExitResult } from './guest-exit.js';
import { SerialLogReader } from './serial-log.js';
import { ensureTemplate, snapshotSpec, sparseFile, templateCmdline, templateName, type TemplateInfo, type TemplateKey } from './snapshot.js';
import { KERNEL_ARGS_ENV, SERIAL_BYTES_PER_SECOND, VmBackend } from './vm-backend.js';

/** How a directly started guest starts: a trimmed cold boot, or a restore of a saved template. */
export type DirectMode = 'micro' | 'snapshot';

/** The user QEMU drops to once it opened its files (`-runas`), as libvirt runs it. */
export const QEMU_USER = 'libvirt-qemu';

/** How long a restored guest may take to be running again (ms). */
const RESTORE_TIMEOUT_MS = 60_000;

/** Guest kernel lines that mean its OOM killer ran. */
const GUEST_OOM = /Out of memory: Killed process|oom-kill:/;

/** The kernel's last console line when the guest powers itself off. */
const POWER_DOWN = /reboot: Power down/;

/** State of one directly started guest. */
export interface DirectState {
  /** Instance name, `isolab-<session>-<task>` (QEMU's `-name guest=`, its run folder). */
  name: string;
  /** micro or snapshot. */
  mode: DirectMode;
  /** The guest image. */
  image: VmImage;
  /** Per-task folder: serial log, sockets, pid file, an empty input disk when the task has none. */
  runDir: string;
  /** The task's input copy. */
  input?: InputCopy;
  /** The QEMU process. */
  qemu?: QemuProcess;
  /** QMP connection (snapshot). */
  qmp?: QmpClient;
  /** The console socket the task was written to (snapshot). */
  console?: Socket;
  /** Reads the serial log. */
  reader?: SerialLogReader;
  /** The template restored (snapshot). */
  template?: TemplateInfo;
  /** Exit code the guest reported. */
  rc?: number;
  /** The guest said it is done or powered off. */
  ending: boolean;
  /** Killed at its timeout. */
  timedOut: boolean;
  /** Killed on request. */
  stopped: boolean;
  /** The guest's OOM killer ran. */
  oom: boolean;
  /** Last non-empty console line. */
  lastLine: string;
  /** The timeout's timer. */
  timer?: NodeJS.Timeout;
  /** Resolves when QEMU exited. */
  exit: Promise<ExitResult>;
  /** Resolves `exit`. */
  resolveExit: (r: ExitResult) => void;
  /** Reads QEMU's counters while it runs. */
  meter: UsageMeter;
  /** Clock time QEMU exited. */
  exitedAt?: number;
  /** Drops the session cleanup. */
  removeCleanup: () => void;
  /** Per-task files removed. */
  filesRemoved: boolean;
  /** Set when the guest wrote more serial output than the cap. */
  overflowBytes?: number;
}

/**
 * `vm:micro` and `vm:snapshot`: QEMU started directly, without libvirt (libvirt 9.0 refuses the
 * microvm machine, "No PCI buses available", and restores a saved domain only under its own name
 * and UUID, so not several copies side by side). Same guest image, accelerator probe, read-only
 * disks and serial-console protocol as the vm backend. `micro` cold-boots the microvm machine
 * (virtio over MMIO, no PCI, tuned command line); `snapshot` restores a copy of a template guest
 * whose executor waits for its task, and delivers the task on the console.
 */
export class DirectQemuBackend implements Backend<DirectState> {
  readonly name: string;
  private copies?: InputCopies;
  private readonly bootFiles = new BootFileGuard(join(vmStateDir(), 'digests'));

  constructor(
    readonly descriptor: BackendDescriptor,
    /** micro or snapshot. */
    readonly mode: DirectMode,
    /** The libvirt vm backend: image, accelerator probe and host facts come from it. */
    readonly base = new VmBackend(),
  ) {
    this.name = descriptor.name;
  }

  async fingerprint(): Promise<Fingerprint> {
    const fp = await this.base.fingerprint();
    const attributes: Record<string, string> = { ...fp.attributes, 'vm.mode': this.mode, 'vm.machine': 'microvm', 'vm.engine': 'qemu (direct, no libvirt)' };
    if (fp.health !== 'healthy') return { ...fp, attributes };
    const machines = await machineTypes(attributes['vm.emulator'] || 'qemu-system-x86_64');
    if (!machines.includes('microvm')) return { health: 'unhealthy', description: 'this QEMU has no microvm machine type', attributes };
    return { ...fp, attributes, description: `${fp.description}; QEMU microvm started directly${this.mode === 'snapshot' ? ', restored from a template' : ''}` };
  }

  private inputCopies(): InputCopies {
    if (!this.copies) {
      const sess = session();
      const copies = new InputCopies(vmRunRoot(), sess.name(`input-${this.mode}`));
      sess.defer(`vm:${this.mode} input copies`, () => copies.clear());
      this.copies = copies;
    }
    return this.copies;
  }

  /** The template key for a guest size on this host. */
  async templateKey(memMiB: number, vcpus: number): Promise<{ key: TemplateKey; image: VmImage; emulator: string }> {
    const [image, accel, facts] = await Promise.all([this.base.image(), this.base.accelerator(), this.base.hostFacts()]);
    const key: TemplateKey = {
      imageId: image.id, accelerator: accel.accelerator, memMiB, vcpus, qemuVersion: facts.qemuVersion ?? 'unknown', cmdline: templateCmdline(image),
      kernel: image.vmlinux ? 'vmlinux' : 'vmlinuz',
    };
    return { key, image, emulator: facts.emulator || 'qemu-system-x86_64' };
  }

  /** The template for a guest size, built when missing (a first start pays for it). */
  async template(memMiB: number, vcpus: number, log?: (l: string) => void): Promise<TemplateInfo> {
    const { key, image, emulator } = await this.templateKey(memMiB, vcpus);
    await this.bootFiles.check(image, true);
    return ensureTemplate({ key, image, emulator, session: session(), log });
  }

  async start(spec: TaskSpec, sink: TaskSink, signal?: AbortSignal): Promise<TaskHandle<DirectState>> {
    signal?.throwIfAborted();
    const sess = session();
    const [image, accel, facts] = await Promise.all([this.base.image(), this.base.accelerator(), this.base.hostFacts()]);
    await this.bootFiles.check(image, true);
    const size = guestSize(spec.resources);
    const template = this.mode === 'snapshot' ? await this.template(size.memMiB, size.vcpus) : undefined;
    signal?.throwIfAborted();
    const name = sess.name(spec.taskId);
    const runDir = join(vmRunRoot(), name);
    const limits: LimitsEnforced = {
      cpus: true, mem: size.memExact,
      how: `vm: ${size.vcpus} vCPU, ${size.memMiB} MiB guest${size.memExact ? '' : ` (asked ${spec.resources.mem} MiB)`}` +
        (size.cpuQuota !== undefined ? ` (fractional cpus ${size.cpuQuota} not capped: QEMU started directly has no cgroup of its own)` : ''),
    };
    let resolveExit!: (r: ExitResult) => void;
    const st: DirectState = {
      name, mode: this.mode, image, runDir, template, ending: false, timedOut: false, stopped: false, oom: false, lastLine: '',
      exit: new Promise<ExitResult>((r) => (resolveExit = r)), resolveExit, meter: undefined as never, removeCleanup: () => {}, filesRemoved: false,
    };
    st.meter = new UsageMeter(() => readQemu(st));
    const metered = st.meter.sink(sink);
    const handle: TaskHandle<DirectState> = {
      taskId: spec.taskId, backend: this.name, instanceId: name, limits,
      attributes: {
        'vm.accelerator': accel.accelerator, 'vm.accelerator.reason': accel.reason, 'vm.mode': this.mode, 'vm.machine': 'microvm',
        'vm.kernel': image.vmlinux ? 'vmlinux (uncompressed, PVH entry)' : 'vmlinuz (bzImage)',
        'vm.vcpus': String(size.vcpus), 'vm.memMiB': String(size.memMiB), 'vm.cpusRequested': String(spec.resources.cpus),
        'vm.memRequestedMiB': String(spec.resources.mem), 'vm.image': image.id,
        ...(template ? { 'vm.template': templateName(template.key), 'vm.templateBytes': String(template.stateBytes) } : {}),
      },
      state: st,
    };
    st.removeCleanup = sess.defer(`vm:${this.mode} guest ${name}`, () => this.destroy(handle));
    try {
      makeRunDir(runDir);
      const task: ExecutorTask = { ...spec.executor, outputBytesPerSecond: SERIAL_BYTES_PER_SECOND };
      let input: string | undefined;
      if (task.input !== undefined) {
        st.input = this.inputCopies().acquire(task.input, template?.inputCapacity);
        input = st.input.path;
        task.input = image.inputDevice;
        task.size = st.input.size;
      } else if (template) {
        input = join(runDir, 'empty.raw');
        sparseFile(input, template.inputCapacity);
      }
      const emulator = facts.emulator || 'qemu-system-x86_64';
      const runas = process.getuid?.() === 0 ? ['-runas', QEMU_USER] : [];
      st.reader = new SerialLogReader(join(runDir, 'serial.log'), (l) => this.onLine(st, l, metered, handle), {
        onOverflow: (bytes) => {
          st.overflowBytes = bytes;
          void st.qemu?.kill();
        },
      });
      sink.phase('create', now());
      if (template) {
        const argv = [...qemuArgv(snapshotSpec(template.key, image, emulator, { input: input!, runDir, name })), ...runas, '-incoming', 'fd:3'];
        const fd = openSync(template.stateFile, 'r');
        try {
          st.qemu = new QemuProcess(argv, { fd3: fd });
        } finally {
          closeSync(fd);
        }
        sink.phase('created', now());
        this.watchExit(st, sink);
        st.reader.start();
        st.meter.start();
        st.qmp = new QmpClient(join(runDir, 'qmp.sock'));
        await st.qmp.open(RESTORE_TIMEOUT_MS, () => st.qemu!.running);
        await untilRunning(st.qmp, RESTORE_TIMEOUT_MS);
        sink.phase('running', now());
        st.console = await connectSocket(join(runDir, 'console.sock'));
        st.console.on('data', () => {});
        st.console.on('error', () => {});
        const line = encodeDelivery({ task, epochMs: Date.now(), entropy: randomBytes(64).toString('base64'), refresh: true });
        st.console.write(`${line}\n`);
        sink.phase('delivered', now());
      } else {
        const extra = process.env[KERNEL_ARGS_ENV]?.trim();
        const cmdline = `${microCmdline(image.cmdline)}${extra ? ` ${extra}` : ''} ${image.taskParam}=${encodeTask(task)}`;
        const argv = qemuArgv({
          emulator, machine: 'microvm', accelerator: accel.accelerator, memMiB: size.memMiB, vcpus: size.vcpus,
          kernel: directKernel(image), initramfs: image.initramfs, cmdline,
          disks: [{ file: image.rootDisk, id: 'root' }, ...(input ? [{ file: input, id: 'input' }] : [])],
          serial: `file:${join(runDir, 'serial.log')}`,
          extra: ['-name', `guest=${name}`, '-pidfile', join(runDir, 'qemu.pid'), ...runas],
        });
        st.qemu = new QemuProcess(argv);
        const at = now();
        sink.phase('created', at);
        sink.phase('running', at);
        this.watchExit(st, sink);
        st.reader.start();
        st.meter.start();
      }
    } catch (err) {
      await this.destroy(handle);
      const why = st.qemu && !st.qemu.running ? ` (${(await st.qemu.exited).stderr.split('\n').pop()})` : '';
      throw new Error(`cannot start ${this.name} guest ${name}: ${err instanceof Error ? err.message : String(err)}${why}`);
    }
    if (spec.timeoutMs !== undefined) {
      st.timer = setTimeout(() => {
        st.timedOut = true;
        void st.qemu?.kill();
      }, spec.timeoutMs);
    }
    const onAbort = (): void => {
      st.stopped = true;
      void st.qemu?.kill();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    void st.exit.then(() => signal?.removeEventListener('abort', onAbort));
    if (signal?.aborted) onAbort();
    return handle;
  }

  private watchExit(st: DirectState, sink: TaskSink): void {
    void st.qemu!.exited.then((e) => {
      st.exitedAt = e.at;
      sink.phase('exited', e.at);
      st.meter.stop();
      st.reader?.stop();
      st.qmp?.close();
      st.console?.destroy();
      if (st.timer) clearTimeout(st.timer);
      st.resolveExit(this.exitResult(st, e.stderr));
    });
  }

  private onLine(st: DirectState, line: string, sink: TaskSink, handle: TaskHandle<DirectState>): void {
    if (line.trim()) st.lastLine = line.trim();
    if (line.includes(st.image.startMarker)) {
      sink.phase('guestInit', now());
      const up = /uptime=([0-9.]+)/.exec(line)?.[1];
      if (up) handle.attributes['vm.guestUptimeAtInitS'] = up;
    } else if (line.includes(RESTORED_MARKER)) {
      sink.phase('guestRestored', now());
      // The guest has read its task: hang up, so the console goes to the log file alone. A connected
      // reader that falls behind makes QEMU's UART drop bytes (after 4 retries of a full socket).
      st.console?.destroy();
      const step = /clockStepMs=(-?\d+)/.exec(line)?.[1];
      if (step) handle.attributes['vm.clockStepMs'] = step;
      const refresh = /refreshMs="([^"]*)"/.exec(line)?.[1];
      if (refresh) handle.attributes['vm.refreshMs'] = refresh;
    } else if (line.includes(st.image.endMarker)) {
      const rc = /rc=(-?\d+)/.exec(line)?.[1];
      if (rc !== undefined) st.rc = Number(rc);
      st.ending = true;
      sink.phase('guestEnd', now());
    } else if (POWER_DOWN.test(line)) {
      st.ending = true;
      sink.phase('poweredOff', now());
    } else if (GUEST_OOM.test(line)) {
      st.oom = true;
    }
    sink.line(line);
  }

  private exitResult(st: DirectState, stderr: string): ExitResult {
    return guestExitResult(st, 'QEMU killed', stderr ? `; QEMU: ${stderr.split('\n').pop()!.slice(0, 200)}` : '');
  }


  wait(handle: TaskHandle<DirectState>): Promise<ExitResult> {
    return handle.state.exit;
  }

  /** A guest cannot be signalled from the host: stopping kills its QEMU at once (its disks are read-only). */
  async stop(handle: TaskHandle<DirectState>): Promise<void> {
    const st = handle.state;
    if (!st.qemu?.running) return;
    if (!st.ending) st.stopped = true;
    await st.qemu.kill();
  }

  async destroy(handle: TaskHandle<DirectState>): Promise<void> {
    const st = handle.state;
    if (st.qemu?.running) {
      if (!st.ending && !st.timedOut) st.stopped = true;
      await st.qemu.kill();
    }
    st.meter.stop();
    st.reader?.stop();
    st.qmp?.close();
    st.console?.destroy();
    if (st.timer) clearTimeout(st.timer);
    if (!st.filesRemoved) {
      st.filesRemoved = true;
      st.input?.release();
      rmSync(st.runDir, { recursive: true, force: true });
    }
    st.removeCleanup();
  }

  async stats(handle: TaskHandle<DirectState>): Promise<TaskStats> {
    const pid = handle.state.qemu?.pid;
    if (pid !== undefined) {
      const p = procUsage([pid]);
      if (p.found > 0) return { memoryBytes: p.rssBytes, cpuMs: p.cpuMs, pids: [pid] };
    }
    return { pids: [] };
  }

  async usage(handle: TaskHandle<DirectState>): Promise<TaskUsage> {
    const st = handle.state;
    const src = '/proc/<qemu pid>';
    return st.meter.finish({
      sources: {
        cpuSeconds: `${src}/stat utime+stime (all QEMU threads), last reading before exit`,
        peakMemoryBytes: `${src}/status VmHWM (QEMU's peak resident set)`,
        readyMemoryBytes: `${src}/status VmRSS at ready`,
        readBytes: `${src}/io rchar (QEMU reading the disk images${st.template ? ' and the template' : ''}), at the executor's last line`,
      },
      missing: { blockReadBytes: 'not read for VMs (QEMU\'s reads go through the host page cache)' },
    }, { final: false, exitedAt: st.exitedAt });
  }

  /**
   * The same boot path without isolab: for micro, a bare `qemu-system-x86_64` with the same
   * microvm command line to the guest's init marker; for snapshot, the same restore driven by a
   * 30-line Python script (QEMU `-incoming` from the template file, QMP until running, the task
   * written to the console socket) to the executor's ready line.
   */
  async plainCommand(spec: TaskSpec): Promise<PlainCommand | undefined> {
    const [image, accel, facts] = await Promise.all([this.base.image(), this.base.accelerator(), this.base.hostFacts()]);
    const size = guestSize(spec.resources);
    const emulator = facts.emulator || 'qemu-system-x86_64';
    const task: ExecutorTask = { taskId: spec.taskId, mode: 'idle' };
    const label = `${accel.accelerator}${accel.accelerator === 'tcg' ? ', emulated' : ''}`;
    if (this.mode === 'micro') {
      const extra = process.env[KERNEL_ARGS_ENV]?.trim();
      const argv = qemuArgv({
        emulator, machine: 'microvm', accelerator: accel.accelerator, memMiB: size.memMiB, vcpus: size.vcpus, kernel: directKernel(image),
        initramfs: image.initramfs, cmdline: `${microCmdline(image.cmdline)}${extra ? ` ${extra}` : ''} ${image.taskParam}=${encodeTask(task)}`,
        disks: [{ file: image.rootDisk, id: 'root' }], serial: 'stdio',
      });
      return {
        kind: 'plain-qemu', argv, marker: image.startMarker, isolabPhase: 'guestInit',
        what: `plain qemu-system-x86_64 -machine microvm (${label}, same kernel, initramfs, command line, disks) to the guest's init marker, against isolab's requested → guestInit`,
        stop: async () => {},
      };
    }
    const template = await this.template(size.memMiB, size.vcpus);
    const sess = session();
    const runDir = makeRunDir(join(vmRunRoot(), sess.name(`plain-${spec.taskId}-${Date.now().toString(36)}`)));
    const input = join(runDir, 'empty.raw');
    sparseFile(input, template.inputCapacity);
    const qemu = qemuArgv(snapshotSpec(template.key, image, emulator, { input, runDir, name: `${sess.name('plain')}` }));
    const line = encodeDelivery({ task, epochMs: Date.now(), entropy: randomBytes(64).toString('base64'), refresh: true });
    const undefer = sess.defer(`plain restore ${runDir}`, () => rmSync(runDir, { recursive: true, force: true }));
    return {
      kind: 'plain-qemu', argv: ['python3', '-c', PLAIN_RESTORE_PY, runDir, template.stateFile, line, ...qemu], marker: '"type":"ready"',
      isolabPhase: 'ready',
      what: `plain qemu-system-x86_64 -incoming from the same template (${label}), driven by a Python script (QMP until running, the task on the console socket), to the executor's ready line, against isolab's requested → ready`,
      stop: async () => {
        undefer();
        rmSync(runDir, { recursive: true, force: true });
      },
    };
  }

  async listOwned(): Promise<OwnedResource[]> {
    return [];
  }

  async removeOwned(): Promise<void> {}
}

/** The plain-QEMU restore of the cross-check: argv = run folder, template file, delivery line, QEMU's argv. */
export const PLAIN_RESTORE_PY = `
import json, os, socket, subprocess, sys, time
d, state, line, argv = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
f = open(state, 'rb')
p = subprocess.Popen(argv + ['-incoming', 'fd:%d' % f.fileno()], pass_fds=[f.fileno()])
def conn(path):
    while True:
        try:
            s = socket.socket(socket.AF_UNIX); s.connect(path); return s
        except OSError:
            if p.poll() is not None: sys.exit(1)
            time.sleep(0.01)
q = conn(d + '/qmp.sock').makefile('rwb', 0)
q.readline()
def cmd(c):
    q.write((json.dumps({'execute': c}) + '\\n').encode())
    while True:
        m = json.loads(q.readline())
        if 'return' in m or 'error' in m: return m
cmd('qmp_capabilities')
while True:
    s = cmd('query-status')['return']['status']
    if s == 'running': break
    if s == 'paused': cmd('cont')
    time.sleep(0.01)
c = conn(d + '/console.sock')
c.sendall(line.encode() + b'\\n')
while True:
    b = c.recv(65536)
    if not b: break
    sys.stdout.buffer.write(b); sys.stdout.flush()
`;

/** The kernel a directly started guest boots: the uncompressed one (PVH entry, no decompression) when the image has it. */
export function directKernel(image: VmImage): string {
  return image.vmlinux ?? image.kernel;
}

function now(): number {
  return performance.timeOrigin + performance.now();
}

/** Polls a restored guest's run state until it runs (resuming it when it came back paused). */
async function untilRunning(qmp: QmpClient, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const s = await qmp.status();
    if (s === 'running') return;
    if (s === 'paused') await qmp.execute('cont');
    else if (s !== 'inmigrate' && s !== 'prelaunch') throw new Error(`restored guest is ${s}`);
    if (performance.now() > deadline) throw new Error(`restored guest not running within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function connectSocket(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** One reading of a guest's QEMU process. */
function readQemu(st: DirectState): UsageReading | undefined {
  const pid = st.qemu?.pid;
  if (pid === undefined) return undefined;
  const c = procCpu(pid);
  const m = procMemory(pid);
  if (!c || !m) return undefined;
  return {
    cpuSeconds: c.user + c.system, cpuUserSeconds: c.user, cpuSystemSeconds: c.system, memoryBytes: m.rss, peakMemoryBytes: m.hwm,
    readBytes: procReadChars(pid), blockReadBytes: null,
  };
}

const machineCache = new Map<string, Promise<string[]>>();

/** Machine types a QEMU binary offers (`-machine help`). */
function machineTypes(emulator: string): Promise<string[]> {
  let p = machineCache.get(emulator);
  if (!p) {
    p = import('node:child_process').then(({ execFile }) => new Promise<string[]>((resolve) => {
      execFile(emulator, ['-machine', 'help'], { timeout: 10_000 }, (err, stdout) => {
        resolve(err ? [] : stdout.split('\n').map((l) => l.trim().split(/\s+/)[0]!).filter(Boolean));
      });
    }));
    machineCache.set(emulator, p);
  }
  return p;
}
