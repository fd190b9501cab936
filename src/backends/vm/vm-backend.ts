import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { encodeTask, type ExecutorTask } from '../../executor/protocol.js';
import { session } from '../../session/session.js';
import type {
  Backend, ExitResult, Fingerprint, LimitsEnforced, OwnedResource, PlainCommand, TaskHandle, TaskSink, TaskSpec, TaskStats, TaskUsage,
} from '../backend.js';
import { procCpu, procMemory, procReadChars, UsageMeter, type UsageReading } from '../usage.js';
import type { BackendDescriptor } from '../descriptor.js';
import { procUsage } from '../proc.js';
import { settlesWithin } from '../stop.js';
import { ageText, probeAccelerator, type AccelResult } from './accel-probe.js';
import { BootFileGuard } from './boot-files.js';
import { VM_DESCRIPTOR } from './descriptor.js';
import { domainXml, guestSize, type DiskSpec } from './domain-xml.js';
import { vmImage, type VmImage } from './guest-image.js';
import { hostFacts, type HostFacts } from './host-facts.js';
import { InputCopies, type InputCopy } from './input-copy.js';
import { LibvirtConnection, libvirtMessage } from './libvirt-connection.js';
import { listOwnedVm, removeOwnedVm } from './owned.js';
import { makeRunDir, vmRunRoot, vmStateDir } from './paths.js';
import { guestExitResult } from './guest-exit.js';
import { SerialLogReader } from './serial-log.js';

export { vmStateDir } from './paths.js';

/** How often the domain's state is polled (ms): after the guest said it is done, and otherwise. */
export const DOMAIN_POLL_MS = { ending: 50, running: 500 } as const;

/** Environment variable appending kernel command line arguments to every task domain (for boot experiments). */
export const KERNEL_ARGS_ENV = 'ISOLAB_VM_KERNEL_ARGS';

/** How long destroy() waits for a destroyed domain to disappear (ms). */
const GONE_TIMEOUT_MS = 15_000;

/** The kernel's last console line when the guest powers itself off. */
const POWER_DOWN = /reboot: Power down/;

/** Guest kernel lines that mean its OOM killer ran. */
const GUEST_OOM = /Out of memory: Killed process|oom-kill:/;

/** What the guest's serial console carries (bytes/s, measured under TCG); executors are told, to size their output. */
export const SERIAL_BYTES_PER_SECOND = 210_000;

/** The vm backend's state for one task (the domain, its files and what the monitor learnt). */
export interface VmState {
  /** Domain name. */
  name: string;
  /** The guest image. */
  image: VmImage;
  /** Per-task folder (serial log). */
  runDir: string;
  /** The task's input copy. */
  input?: InputCopy;
  /** Reads the serial log. */
  reader?: SerialLogReader;
  /** The create call, while it runs. */
  creating?: Promise<unknown>;
  /** True once the domain exists. */
  created: boolean;
  /** Exit code the guest reported. */
  rc?: number;
  /** The guest said it is done or powered off. */
  ending: boolean;
  /** Destroyed at its timeout. */
  timedOut: boolean;
  /** Destroyed on request. */
  stopped: boolean;
  /** The guest's OOM killer ran. */
  oom: boolean;
  /** The domain no longer exists. */
  gone: boolean;
  /** Last non-empty console line. */
  lastLine: string;
  /** The timeout's timer. */
  timer?: NodeJS.Timeout;
  /** Resolves when the instance has ended: the QEMU process exited (or, unwatched, the domain is gone). */
  exit: Promise<ExitResult>;
  /** Resolves `exit`. */
  resolveExit: (r: ExitResult) => void;
  /** Resolves when the domain no longer exists (libvirt's cleanup after QEMU's exit). */
  goneP: Promise<void>;
  /** Resolves `goneP`. */
  resolveGone: () => void;
  /** The QEMU process, once seen. */
  qemuPid?: number;
  /** Clock time QEMU was seen to have exited (or the stand-in, see `exitedFrom`). */
  exitedAt?: number;
  /** Where `exitedAt` comes from. */
  exitedFrom?: string;
  /** Reads the QEMU process's counters while it runs. */
  meter: UsageMeter;
  /** Wakes the monitor early. */
  wake?: () => void;
  /** Drops the session cleanup. */
  removeCleanup: () => void;
  /** Per-task files removed. */
  filesRemoved: boolean;
  /** Set when the guest wrote more serial output than the cap (bytes read). */
  overflowBytes?: number;
}

/**
 * Runs each task in a transient libvirt/QEMU domain: direct kernel boot of the guest image, the root
 * disk and the task's input as read-only virtio disks, no network, virtio-rng, the task on the kernel
 * command line and the executor's output read back from the serial console log.
 */
export class VmBackend implements Backend<VmState> {
  readonly name = VM_DESCRIPTOR.name;
  readonly descriptor: BackendDescriptor = VM_DESCRIPTOR;
  private readonly conn: LibvirtConnection;
  private facts?: Promise<HostFacts>;
  private accel?: Promise<AccelResult>;
  private copies?: InputCopies;
  private imagePromise?: Promise<VmImage>;
  private readonly bootFiles = new BootFileGuard(join(vmStateDir(), 'digests'));

  constructor(uri?: string) {
    this.conn = new LibvirtConnection(uri);
  }

  /** The libvirt URI in use. */
  get uri(): string {
    return this.conn.uri;
  }

  /** The shared libvirt connection (tests read domain info through it). */
  get connection(): LibvirtConnection {
    return this.conn;
  }

  /** The guest image, looked up once per backend instance. */
  image(): Promise<VmImage> {
    if (!this.imagePromise) {
      const p = vmImage();
      this.imagePromise = p;
      p.catch(() => {
        if (this.imagePromise === p) this.imagePromise = undefined;
      });
    }
    return this.imagePromise;
  }

  /** What libvirt says about itself and QEMU (versions, emulator), read once per backend instance. */
  hostFacts(): Promise<HostFacts> {
    this.facts ??= hostFacts(this.conn.uri);
    return this.facts;
  }

  /**
   * The accelerator VMs run under, probed once per backend instance (and cached on disk for a short
   * while, see accel-probe.ts). `fresh` ignores both caches and boots a new probe.
   */
  accelerator(fresh = false): Promise<AccelResult> {
    if (fresh || !this.accel) {
      const sess = session();
      this.accel = (async () => {
        const [image, facts] = await Promise.all([this.image(), this.hostFacts()]);
        return probeAccelerator({
          conn: this.conn, image, facts, dir: vmStateDir(), name: () => sess.name(`probe-${Date.now().toString(36)}`),
          session: sess.id, fresh,
        });
      })();
      this.accel.catch(() => {
        this.accel = undefined;
      });
    }
    return this.accel;
  }

  async fingerprint(): Promise<Fingerprint> {
    const attributes: Record<string, string> = { 'vm.uri': this.conn.uri };
    try {
      await this.conn.hypervisor();
    } catch (err) {
      return { health: 'undetected', description: libvirtMessage(err), attributes };
    }
    try {
      const facts = await this.hostFacts();
      if (facts.libvirtVersion) attributes['vm.libvirt.version'] = facts.libvirtVersion;
      if (facts.hypervisor) attributes['vm.hypervisor'] = facts.hypervisor;
      if (facts.qemuVersion) attributes['vm.qemu.version'] = facts.qemuVersion;
      if (facts.emulator) attributes['vm.emulator'] = facts.emulator;
      attributes['vm.domainTypes'] = facts.domainTypes.join(',') || 'unknown';
      if (facts.problems.length) attributes['vm.problems'] = facts.problems.join('; ');
      let image: VmImage;
      try {
        image = await this.image();
      } catch (err) {
        return { health: 'unhealthy', description: `guest image: ${libvirtMessage(err)}`, attributes };
      }
      attributes['vm.image'] = image.id;
      const a = await this.accelerator();
      attributes['vm.accelerator'] = a.kvm === 'not-probed' ? 'unknown' : a.accelerator;
      attributes['vm.accelerator.kvm'] = a.kvm;
      attributes['vm.accelerator.reason'] = a.reason;
      attributes['vm.accelerator.source'] = a.source;
      if (a.source === 'cache') attributes['vm.accelerator.age'] = ageText(Date.now() - a.at);
      if (a.stale) attributes['vm.accelerator.stale'] = a.stale;
      if (a.probeMs !== undefined) attributes['vm.accelerator.probeMs'] = String(a.probeMs);
      if (a.tcgProbeMs !== undefined) attributes['vm.accelerator.tcgProbeMs'] = String(a.tcgProbeMs);
      if (a.accelerator === 'tcg' && a.tcgWorks === false) {
        return { health: 'unhealthy', description: `KVM does not work and TCG did not boot either: ${a.reason}`, attributes };
      }
      const versions = [facts.libvirtVersion && `libvirt ${facts.libvirtVersion}`, facts.hypervisor].filter(Boolean).join(', ');
      const accel =
        a.kvm === 'not-probed' ? `accelerator ${a.reason}`
        : a.source === 'cache' ? `accelerator ${a.accelerator} (${a.reason}; probed ${ageText(Date.now() - a.at)} ago${a.stale ? `, may be stale: ${a.stale}` : ''})`
        : `accelerator ${a.accelerator} (${a.reason})`;
      return { health: 'healthy', description: `${versions || 'libvirt'}; ${accel}`, attributes };
    } catch (err) {
      return { health: 'unhealthy', description: libvirtMessage(err), attributes };
    }
  }

  private inputCopies(): InputCopies {
    if (!this.copies) {
      const sess = session();
      const copies = new InputCopies(vmRunRoot(), sess.name('input'));
      sess.defer('vm input copies', () => copies.clear());
      this.copies = copies;
    }
    return this.copies;
  }

  async start(spec: TaskSpec, sink: TaskSink, signal?: AbortSignal): Promise<TaskHandle<VmState>> {
    signal?.throwIfAborted();
    const sess = session();
    const [image, accel] = await Promise.all([this.image(), this.accelerator()]);
    await this.bootFiles.check(image);
    signal?.throwIfAborted();
    const name = sess.name(spec.taskId);
    const runDir = join(vmRunRoot(), name);
    const size = guestSize(spec.resources);
    const limits: LimitsEnforced = {
      cpus: true,
      mem: size.memExact,
      how:
        `vm: ${size.vcpus} vCPU${size.cpuQuota !== undefined ? ` capped at ${size.cpuQuota} cores` : ''}, ${size.memMiB} MiB guest` +
        (size.memExact ? '' : ` (asked ${spec.resources.mem} MiB)`),
    };
    let resolveExit!: (r: ExitResult) => void;
    let resolveGone!: () => void;
    const st: VmState = {
      name, image, runDir, created: false, ending: false, timedOut: false, stopped: false, oom: false, gone: false, lastLine: '',
      exit: new Promise<ExitResult>((r) => (resolveExit = r)), resolveExit, removeCleanup: () => {}, filesRemoved: false,
      goneP: new Promise<void>((r) => (resolveGone = r)), resolveGone, meter: undefined as never,
    };
    st.meter = new UsageMeter(() => readQemu(st));
    const metered = st.meter.sink(sink);
    const handle: TaskHandle<VmState> = {
      taskId: spec.taskId, backend: this.name, instanceId: name, limits,
      attributes: {
        'vm.accelerator': accel.accelerator,
        'vm.accelerator.reason': accel.reason,
        'vm.domainType': accel.accelerator === 'kvm' ? 'kvm' : 'qemu',
        'vm.vcpus': String(size.vcpus),
        'vm.memMiB': String(size.memMiB),
        'vm.cpusRequested': String(spec.resources.cpus),
        'vm.memRequestedMiB': String(spec.resources.mem),
        'vm.image': image.id,
        'vm.uri': this.conn.uri,
      },
      state: st,
    };
    st.removeCleanup = sess.defer(`vm domain ${name}`, () => this.destroy(handle));
    try {
      makeRunDir(runDir);
      const serialLog = join(runDir, 'serial.log');
      // the serial console carries about 210 KB/s: the executor compresses its result for it
      const task: ExecutorTask = { ...spec.executor, outputBytesPerSecond: SERIAL_BYTES_PER_SECOND };
      const disks: DiskSpec[] = [{ file: image.rootDisk, target: 'vda', shared: true }];
      if (task.input !== undefined) {
        st.input = this.inputCopies().acquire(task.input);
        disks.push({ file: st.input.path, target: 'vdb' });
        task.input = image.inputDevice;
        task.size = st.input.size;
      }
      const extra = process.env[KERNEL_ARGS_ENV]?.trim();
      const cmdline = `${image.cmdline}${extra ? ` ${extra}` : ''} ${image.taskParam}=${encodeTask(task)}`;
      const xml = domainXml({
        name, session: sess.id, taskId: spec.taskId, accelerator: accel.accelerator, vcpus: size.vcpus, memMiB: size.memMiB,
        cpuQuota: size.cpuQuota, kernel: image.kernel, initramfs: image.initramfs, cmdline, disks, serialLog,
      });
      st.reader = new SerialLogReader(serialLog, (l) => this.onLine(st, l, metered, handle), {
        onOverflow: (bytes) => {
          st.overflowBytes = bytes;
          void this.conn.destroy(name).catch(() => {});
          st.wake?.();
        },
      });
      sink.phase('create', now());
      st.creating = this.conn.createXml(xml);
      let seen = false;
      const watching = watchQemuStart(name, st.creating, (at, pid) => {
        st.qemuPid = pid;
        seen = true;
        sink.phase('created', at);
      });
      await st.creating;
      await watching;
      st.created = true;
      const running = now();
      st.qemuPid ??= qemuPid(name);
      if (!seen) sink.phase('created', running);
      sink.phase('running', running);
      st.meter.start();
      st.reader.start();
    } catch (err) {
      st.reader?.stop();
      st.gone = true;
      this.removeFiles(st);
      st.removeCleanup();
      throw new Error(`cannot start domain ${name}: ${libvirtMessage(err)}`);
    }
    if (spec.timeoutMs !== undefined) {
      st.timer = setTimeout(() => {
        st.timedOut = true;
        void this.conn.destroy(name).catch(() => {});
        st.wake?.();
      }, spec.timeoutMs);
    }
    const onAbort = (): void => {
      st.stopped = true;
      void this.conn.destroy(name).catch(() => {});
      st.wake?.();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    void st.exit.then(() => signal?.removeEventListener('abort', onAbort));
    if (signal?.aborted) onAbort();
    void this.monitor(st, sink);
    return handle;
  }

  private onLine(st: VmState, line: string, sink: TaskSink, handle: TaskHandle<VmState>): void {
    if (line.trim()) st.lastLine = line.trim();
    if (line.includes(st.image.startMarker)) {
      sink.phase('guestInit', now());
      const up = /uptime=([0-9.]+)/.exec(line)?.[1];
      if (up) handle.attributes['vm.guestUptimeAtInitS'] = up;
    } else if (line.includes(st.image.endMarker)) {
      const rc = /rc=(-?\d+)/.exec(line)?.[1];
      if (rc !== undefined) st.rc = Number(rc);
      st.ending = true;
      sink.phase('guestEnd', now());
      st.wake?.();
    } else if (POWER_DOWN.test(line)) {
      st.ending = true;
      sink.phase('poweredOff', now());
      st.wake?.();
    } else if (GUEST_OOM.test(line)) {
      st.oom = true;
    }
    sink.line(line);
  }

  private async monitor(st: VmState, sink: TaskSink): Promise<void> {
    let errors = 0;
    while (!st.gone) {
      const ms = st.ending || st.timedOut || st.stopped || st.overflowBytes !== undefined ? DOMAIN_POLL_MS.ending : DOMAIN_POLL_MS.running;
      await new Promise<void>((r) => {
        const t = setTimeout(r, ms);
        st.wake = () => {
          clearTimeout(t);
          r();
        };
      });
      st.wake = undefined;
      if (st.exitedAt === undefined && st.qemuPid !== undefined && !procCpu(st.qemuPid)) {
        this.markExited(st, sink, now(), 'the QEMU process exited');
        continue;
      }
      let info;
      try {
        info = await this.conn.info(st.name);
        errors = 0;
      } catch {
        if (++errors < 20) continue;
        info = undefined;
      }
      if (info && info.state !== 5) continue;
      const at = now();
      sink.phase('poweredOff', at);
      if (!info) {
        st.gone = true;
        sink.phase('gone', at);
      }
    }
    if (st.exitedAt === undefined) {
      const from = st.qemuPid === undefined ? 'the domain disappeared (QEMU process not found)' : 'the domain disappeared';
      this.markExited(st, sink, now(), from);
    }
    st.resolveGone();
  }

  /** The instance ended: QEMU's exit seen (or the stand-in named by `from`); stops reading the console and resolves `wait`. */
  private markExited(st: VmState, sink: TaskSink, at: number, from: string): void {
    st.exitedAt = at;
    st.exitedFrom = from;
    sink.phase('exited', at);
    st.meter.stop();
    st.reader?.stop();
    if (st.timer) clearTimeout(st.timer);
    st.resolveExit(this.exitResult(st));
  }

  private exitResult(st: VmState): ExitResult {
    return guestExitResult(st, 'domain destroyed');
  }


  wait(handle: TaskHandle<VmState>): Promise<ExitResult> {
    return handle.state.exit;
  }

  /** A guest cannot be signalled from the host: stopping a VM powers it off at once (its disks are read-only). */
  async stop(handle: TaskHandle<VmState>, _timeoutMs: number, _signal?: NodeJS.Signals): Promise<void> {
    const st = handle.state;
    if (st.gone) return;
    if (!st.ending) st.stopped = true;
    await this.conn.destroy(st.name).catch(() => {});
    st.wake?.();
    await st.exit;
  }

  async destroy(handle: TaskHandle<VmState>): Promise<void> {
    const st = handle.state;
    if (st.creating) await st.creating.catch(() => {});
    if (st.created && !st.gone) {
      if (!st.ending && !st.timedOut) st.stopped = true;
      await this.conn.destroy(st.name).catch(() => {});
      st.wake?.();
      await settlesWithin(st.goneP, GONE_TIMEOUT_MS);
    }
    st.meter.stop();
    if (st.timer) clearTimeout(st.timer);
    this.removeFiles(st);
    st.removeCleanup();
  }

  private removeFiles(st: VmState): void {
    if (st.filesRemoved) return;
    st.filesRemoved = true;
    st.input?.release();
    rmSync(st.runDir, { recursive: true, force: true });
  }

  /**
   * A bare `qemu-system-x86_64` with the same kernel, initramfs, root disk, machine type, memory,
   * vCPUs, accelerator (and TCG cache size) and virtio-rng, no libvirt, the executor idle; the
   * cross-check times it to the guest's init marker on its serial console (stdout).
   */
  async plainCommand(spec: TaskSpec): Promise<PlainCommand | undefined> {
    const [image, accel, facts] = await Promise.all([this.image(), this.accelerator(), this.hostFacts()]);
    const size = guestSize(spec.resources);
    const task: ExecutorTask = { taskId: spec.taskId, mode: 'idle' };
    const extra = process.env[KERNEL_ARGS_ENV]?.trim();
    const cmdline = `${image.cmdline}${extra ? ` ${extra}` : ''} ${image.taskParam}=${encodeTask(task)}`;
    const argv = [
      facts.emulator || 'qemu-system-x86_64', '-machine', 'q35', '-accel', accel.accelerator === 'kvm' ? 'kvm' : 'tcg,tb-size=16',
      '-m', String(size.memMiB), '-smp', String(size.vcpus), '-nodefaults', '-no-user-config', '-display', 'none', '-serial', 'stdio',
      '-kernel', image.kernel, '-initrd', image.initramfs, '-append', cmdline,
      '-drive', `file=${image.rootDisk},format=raw,if=virtio,readonly=on`, '-device', 'virtio-rng-pci', '-no-reboot',
    ];
    return {
      kind: 'plain-qemu', argv, marker: image.startMarker, isolabPhase: 'guestInit',
      what: `plain qemu-system-x86_64 (${accel.accelerator}${accel.accelerator === 'tcg' ? ', emulated' : ''}, same kernel, initramfs, disk) to the guest's init marker, against isolab's requested → guestInit`,
      stop: async () => {},
    };
  }

  /**
   * The QEMU process's own accounting: its CPU time (all threads: vCPUs under KVM, or TCG's
   * translation, and device emulation) and peak resident set (VmHWM), read from /proc while it ran
   * (the process is gone once it exits, so the figures are those of the last reading, `lagMs`
   * before `exited`); the guest's own view (the executor's usage in the guest kernel) when its last
   * line carried one.
   */
  async usage(handle: TaskHandle<VmState>): Promise<TaskUsage> {
    const st = handle.state;
    handle.attributes['vm.exitedFrom'] = st.exitedFrom ?? 'not exited';
    const src = '/proc/<qemu pid>';
    return st.meter.finish({
      sources: {
        cpuSeconds: `${src}/stat utime+stime (all QEMU threads), last reading before exit`,
        peakMemoryBytes: `${src}/status VmHWM (QEMU's peak resident set)`,
        readyMemoryBytes: `${src}/status VmRSS at ready`,
        readBytes: `${src}/io rchar (QEMU reading the disk images), at the executor's last line`,
      },
      missing: {
        ...(st.qemuPid === undefined ? { cpuSeconds: 'QEMU process not found (libvirt pid file unreadable: not a local qemu:///system?)' } : {}),
        blockReadBytes: 'not read for VMs (QEMU\'s reads go through the host page cache)',
      },
    }, { final: false, exitedAt: st.exitedAt });
  }

  async stats(handle: TaskHandle<VmState>): Promise<TaskStats> {
    const st = handle.state;
    const pid = qemuPid(st.name);
    if (pid !== undefined) {
      const p = procUsage([pid]);
      if (p.found > 0) return { memoryBytes: p.rssBytes, cpuMs: p.cpuMs, pids: [pid] };
    }
    const info = await this.conn.info(st.name).catch(() => undefined);
    return info ? { memoryBytes: info.memory * 1024, cpuMs: info.cpuTime / 1e6, pids: [] } : { pids: [] };
  }

  listOwned(): Promise<OwnedResource[]> {
    return listOwnedVm(this.conn, this.name);
  }

  removeOwned(r: OwnedResource): Promise<void> {
    return removeOwnedVm(this.conn, r);
  }
}

function now(): number {
  return performance.timeOrigin + performance.now();
}

/** One reading of a domain's QEMU process: CPU of all its threads, resident set, high-water mark and rchar. */
function readQemu(st: VmState): UsageReading | undefined {
  st.qemuPid ??= qemuPid(st.name);
  if (st.qemuPid === undefined) return undefined;
  const c = procCpu(st.qemuPid);
  const m = procMemory(st.qemuPid);
  if (!c || !m) return undefined;
  return {
    cpuSeconds: c.user + c.system, cpuUserSeconds: c.user, cpuSystemSeconds: c.system, memoryBytes: m.rss, peakMemoryBytes: m.hwm,
    readBytes: procReadChars(st.qemuPid), blockReadBytes: null,
  };
}

/**
 * Stamps when the domain's QEMU process first exists while libvirt's create call runs (QEMU starts
 * paused; libvirt starts its vCPUs before the call returns): polls the pid file every 5 ms.
 */
async function watchQemuStart(name: string, creating: Promise<unknown>, seen: (at: number, pid: number) => void): Promise<void> {
  let done = false;
  void creating.then(() => (done = true), () => (done = true));
  while (!done) {
    const pid = qemuPid(name);
    if (pid !== undefined) {
      seen(now(), pid);
      return;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The qemu process of a running domain on this host, from libvirt's pid file. */
export function qemuPid(name: string): number | undefined {
  try {
    const pid = Number(readFileSync(`/run/libvirt/qemu/${name}.pid`, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
