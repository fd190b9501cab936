import { BOUNDARY_LABELS, KIND_LABELS, type IsolationKind } from '../backends/descriptor.js';
import type { ResultsFile } from '../experiments/types.js';
import { nounOf, orderedBackends } from './backends.js';
import { blocks, bulletList, heading, missing, table, type Cell } from './markdown.js';

/**
 * What each isolation kind is, in plain words, and how the kinds compare, independent of any
 * run: the general part of the report's background. Keyed by kind (descriptor data), never by a
 * backend's name; what a run's own backends share and expose comes from their descriptors.
 */
const KIND_TRAITS: Readonly<Record<IsolationKind, {
  kernel: string; startup: string; memory: string; density: string; migration: string;
}>> = {
  process: {
    kernel: 'yes: the host kernel, and everything else (files, network, process table)',
    startup: 'fork/exec plus the program\'s own start (here Node): the floor every other kind adds to',
    memory: 'the program itself; shared libraries and the Node binary are shared with every other process',
    density: 'highest: nothing per instance but the program',
    migration: 'none in practice (checkpointing a process, e.g. with CRIU, is possible but rarely used)',
  },
  container: {
    kernel: 'yes: the host kernel, seen through namespaces',
    startup: 'the process start plus namespaces, cgroups, an overlay mount and a runtime shim',
    memory: 'the program plus a runtime shim per container; image files are shared through the page cache',
    density: 'close to processes',
    migration: 'restart elsewhere from the image; checkpoint/restore (CRIU) is experimental in Docker',
  },
  sandbox: {
    kernel: 'no directly: a user-space kernel (the Sentry) serves the system calls and makes a few of its own on the host kernel',
    startup: 'a container start plus starting the Sentry and its file proxy (gofer)',
    memory: 'the program plus the Sentry\'s own memory, a fixed part and a part that grows with open files and sockets',
    density: 'lower than containers by the Sentry\'s fixed memory per sandbox',
    migration: 'checkpoint and restore of a whole sandbox (`runsc checkpoint` / `restore`)',
  },
  vm: {
    kernel: 'no: its own guest kernel on virtual hardware',
    startup: 'a VMM process, firmware or direct kernel boot, the guest kernel\'s boot and init, then the program: seconds for a general-purpose VM, ~0.1–0.2 s for a minimal microVM (see the references)',
    memory: 'the guest\'s memory as the guest touches it, plus the VMM\'s own (QEMU ≈ 131 MiB of overhead, Firecracker ≈ 5 MiB in the references)',
    density: 'lowest: a whole guest per instance, unless memory is overcommitted or deduplicated (KSM, balloon)',
    migration: 'live migration of a running VM between hosts (QEMU/libvirt), the mature case',
  },
};

const DIAGRAM = [
  '```text',
  'process             container           gVisor sandbox      virtual machine',
  '┌──────────────┐    ┌──────────────┐    ┌──────────────┐    ┌──────────────┐',
  '│ executor     │    │ executor     │    │ executor     │    │ executor     │',
  '│              │    │ namespaces,  │    │ Sentry: a    │    │ guest kernel │',
  '│              │    │ cgroups,     │    │ kernel in    │    │ virtual      │',
  '│              │    │ seccomp      │    │ user space;  │    │ hardware     │',
  '│              │    │              │    │ gofer: files │    │ (QEMU)       │',
  '└───────┬──────┘    └───────┬──────┘    └───────┬──────┘    └───────┬──────┘',
  ' every system        all but the         a small filtered    none: the guest',
  ' call                few seccomp         set, made by        traps to the',
  '                     blocks              the Sentry          hypervisor',
  '        ▼                   ▼                   ▼                   ▼',
  '═════════ HOST KERNEL, shared by the first three ═════════  ═══ KVM or TCG ═══',
  '════════════════════════ HARDWARE, shared by all four ════════════════════════',
  '```',
].join('\n');

/** Plain words on the three isolation technologies and the hybrids, independent of the run. */
function plainWords(): string {
  return bulletList([
    '**Virtual machine.** A program on the host (the VMM, here QEMU) pretends to be a whole computer: CPU, memory, ' +
      'disks, a serial port. A complete guest operating system boots on it, with its own kernel. The workload\'s system ' +
      'calls go to that guest kernel and never to the host\'s; what reaches the host is the hypervisor\'s narrow interface ' +
      '(VM exits to KVM, device emulation in QEMU). With KVM the CPU runs guest code directly, with hardware help; ' +
      'without it, QEMU\'s TCG translates every guest instruction in software: **emulation, not virtualisation**, ' +
      'typically one to two orders of magnitude slower. The price of a VM is a boot and a guest\'s memory per instance.',
    '**Container.** Not a machine but a fenced-in group of ordinary host processes. The host kernel gives them their ' +
      'own view of process ids, mounts, network and hostname (namespaces), caps what they use (cgroups), filters their ' +
      'system calls (seccomp) and gives them their own root file system (an image). There is one kernel: every system ' +
      'call the workload makes is served by the host kernel, so a kernel bug reachable from a container is reachable ' +
      'from all of them. The price is small: setting up the namespaces and the image mount, and a shim process.',
    '**User-space kernel (gVisor).** A middle way: the workload runs as in a container, but its system calls are caught ' +
      '(with ptrace, or with KVM used as a trap) and served by gVisor\'s Sentry, a kernel written in Go running as an ' +
      'ordinary, tightly filtered host process. The host kernel sees only the Sentry\'s own small set of calls. The ' +
      'price is the Sentry\'s memory and a toll on every system call, higher on the ptrace platform.',
    '**Hybrids.** *Kata Containers* keeps the container interface (images, `docker run`, Kubernetes pods) but runs ' +
      'each container or pod inside a lightweight VM with its own kernel. *Firecracker* is a minimal VMM (a few ' +
      'emulated devices, no BIOS) that boots such microVMs in about a tenth of a second with a few MB of overhead, ' +
      'and is what AWS Lambda runs functions in. Both buy a VM\'s boundary at close to a container\'s cost; neither is ' +
      'measured by this lab (their published figures are in the references).',
  ]);
}

/** The qualitative comparison table: one column per isolation kind of the run, attack surface from the descriptors. */
function comparisonTable(res: ResultsFile): string {
  const bs = orderedBackends(res).filter((b) => b.descriptor);
  if (bs.length === 0) return missing('no backend of this run has a descriptor');
  const col = (f: (k: IsolationKind, i: number) => string): Cell[] => bs.map((b, i) => f(b.descriptor!.kind, i));
  const rows: Cell[][] = [
    ['isolation boundary', ...col((_k, i) => BOUNDARY_LABELS[bs[i]!.descriptor!.boundary])],
    ['kernel shared with the host', ...col((k) => KIND_TRAITS[k].kernel)],
    ['attack surface (what of the host the workload reaches)', ...col((_k, i) => bs[i]!.descriptor!.attackSurface)],
    ['start-up', ...col((k) => KIND_TRAITS[k].startup)],
    ['memory per instance', ...col((k) => KIND_TRAITS[k].memory)],
    ['density', ...col((k) => KIND_TRAITS[k].density)],
    ['migration', ...col((k) => KIND_TRAITS[k].migration)],
  ];
  return table(['', ...bs.map((b) => `${b.descriptor!.displayName} (${KIND_LABELS[b.descriptor!.kind]})`)], rows, ['l', ...bs.map(() => 'l' as const)]);
}

/** The brief's Mesos + Spark experiment and how isolab maps onto it. */
function mesosSection(): string {
  const rows: Cell[][] = [
    ['Mesos master 1.1.0 (resource offers, DRF allocator)', 'the lab\'s embedded master (`src/master/`): agents advertise resources; a DRF sorter orders frameworks by dominant share; the allocator offers an agent\'s free resources; frameworks accept (launch tasks) or decline with a refuse filter'],
    ['Mesos agent with a containerizer (Mesos, Docker)', 'the lab\'s agent (`src/agent/`), which launches each task on one backend: process, Docker, gVisor or VM'],
    ['Spark on Mesos: the driver registers as a framework', 'the wordcount framework (`src/frameworks/wordcount/`): registers, accepts offers for P map tasks, retries failed tasks, reduces the partial counts'],
    ['Spark executors running tasks', 'the executor (`src/executor/`): one program that counts a byte range and reports on stdout, the same in every backend'],
    ['Spark WordCount on a text file', 'wordcount of a generated corpus (Hadoop WordCount\'s definition of a word), checked against an independent oracle'],
    ['"two parallelisms": executor cores 1 and 2', 'P = 1 and P = 2 map tasks, each asking for cores / P'],
  ];
  return blocks(
    heading('The brief\'s experiment: Mesos + Spark, mapped onto isolab', 3),
    'The brief asks for wordcount run under Mesos (1.1.0) by Spark at two parallelisms, with its time and resource use, ' +
      'in VMs and in containers. isolab runs the same experiment with its own parts, one for one, in the Mesos paper\'s ' +
      'terms (Hindman et al., NSDI 2011; DRF: Ghodsi et al., NSDI 2011):',
    table(['in the brief', 'in isolab'], rows, ['l', 'l']),
    'Why not Mesos 1.1.0 and Spark themselves: neither is packaged for Debian 12 (the lab\'s only sources are Debian\'s ' +
      'packages and the npm registry, with no image pulls), and building Mesos 1.1.0 from source takes hours on two ' +
      'cores; Spark would add a JVM whose start dominates a short task and is identical in every backend. More ' +
      'important, the lab has to stamp every phase of a task (offer, launch, instance created, running, ready, first ' +
      'result, exit, cleaned) with one clock inside the master and the agent, and to run the master on virtual time in ' +
      'tests; an embedded master does both. It keeps Mesos\' semantics (two-level scheduling by resource offers, the ' +
      'DRF ordering, decline filters, the task state machine), so the allocation behaviour is the paper\'s, while the ' +
      'isolation layer under the agent is exactly what is being compared.',
  );
}

/** The report's background section: plain words, a diagram, the comparison table and the Mesos mapping. */
export function backgroundSection(res: ResultsFile): string {
  const bs = orderedBackends(res).filter((b) => b.descriptor);
  return blocks(
    heading('Background'),
    'What is being compared, in plain words. Each step along the spectrum puts more between the workload and the host, ' +
      'and pays for it in start-up time, memory, or speed.',
    plainWords(),
    'What each kind shares with the host, and where the workload\'s system calls go:',
    DIAGRAM,
    bs.length > 0
      ? blocks('The backends of this run, each in its own words (from its descriptor):', bulletList(bs.map((b) => {
        const d = b.descriptor!;
        return `**${d.displayName}** (${KIND_LABELS[d.kind]}, boundary: ${BOUNDARY_LABELS[d.boundary]}): ${d.summary} As ${nounOf(res, b.name)}, it shares ${d.shares}.`;
      })))
      : '',
    heading('A qualitative comparison', 3),
    'Columns are this run\'s backends along the isolation spectrum; the attack-surface row is each backend\'s own ' +
      'description. Measured figures for start-up, memory and density are in the results below; published ones in the references.',
    comparisonTable(res),
    mesosSection(),
  );
}
