import type { ResultsFile } from '../experiments/types.js';
import { bulletList } from './markdown.js';

/** What a process, a container and a VM share and do not share, in the lab's own words. */
export function backgroundText(): string {
  return [
    'The lab runs the same executor (a Node program that counts words in a byte range of a file) three ways:',
    '',
    bulletList([
      '**Process**: a child process of the host. It shares everything with the host: the kernel, the file system, ' +
        'the network, the process table. Only a cgroup (when the host allows it) caps its CPU and memory. Starting one ' +
        'costs a fork/exec and the Node runtime start.',
      '**Container** (Docker): still a host process on the same kernel, but inside its own namespaces (process ids, ' +
        'mounts, network, hostname, IPC, users) with its own root file system image, and with cgroup limits set by the ' +
        'engine. There is no second kernel and no hypervisor: a container costs namespace and cgroup setup, an ' +
        'overlay mount, and a runtime shim (containerd-shim) that stays beside it.',
      '**Virtual machine** (libvirt/QEMU): a separate guest kernel on virtual hardware emulated by a QEMU process; the ' +
        'hypervisor is KVM when the CPU\'s virtualisation extensions are usable, otherwise TCG, QEMU\'s instruction-by-' +
        'instruction translator (much slower). The guest shares no kernel, namespace or page cache with the host: it ' +
        'boots, has its own fixed guest memory (allocated by the host as the guest touches it), and reaches the input ' +
        'through a virtual disk. The QEMU process is what the host sees and pays for.',
    ]),
    '',
    'So a process shares the kernel and everything else; a container shares the kernel but not the view of it; a VM ' +
      'shares only the hardware, through the hypervisor. Each step buys stronger isolation with start-up time and memory.',
  ].join('\n');
}

/** Where each clock starts and stops, repetitions and warm-up, as this run was configured. */
export function methodText(res: ResultsFile): string {
  const s = res.settings;
  return [
    bulletList([
      `**Start-up** goes through the lab's embedded Mesos-style master: for each run a fresh master and local agent, ` +
        `and a one-task framework that accepts the first offer and launches one executor counting a tiny input ` +
        `(${s.startupInputBytes} bytes) so that "first result" means real work. The agent stamps each phase with the same ` +
        `clock (ms since the epoch from \`performance\`): *offered* (the master makes the offer), *accepted* (the framework ` +
        `accepts it), *started* (the backend has the instance running: process spawned, container started, domain created), ` +
        `*ready* (the executor's ready line reaches the agent), *first result* (its result line arrives), *exited* (the ` +
        `instance ended) and *cleaned* (the backend destroyed it). Backends may add their own phases (shown as offsets from ` +
        `the offer). ${s.warmup} warm-up run(s) per backend are kept in results.json but left out of the statistics; then ` +
        `${s.repeat} measured runs.`,
      `**Statistics**: median, p95 (linear interpolation, as numpy), min, max, coefficient of variation (stddev/mean), and a ` +
        `95% confidence interval of the median by percentile bootstrap (2000 resamples, fixed seed). Outliers are flagged ` +
        `by MAD (modified z-score > 3.5, Iglewicz & Hoaglin) and kept in the data.`,
      `**Density** launches K idle executors directly on the backend (no master), K rising through the steps ` +
        `${s.densitySteps.join(', ')}${Object.entries(s.densityStepsByBackend).map(([b, st]) => ` (${b}: ${st.join(', ')})`).join('')} ` +
        `until the memory budget (${Math.round(s.memBudgetBytes / 2 ** 20)} MiB per step), the last step, or a failed launch. ` +
        `Each step launches the K instances one after another (each waited for until its executor is ready), measures ` +
        `memory after a 1 s settle, stops and destroys them all, then launches K at once and does the same. The launch ` +
        `clock runs from the first start call to the last executor ready; the rate is K / that time. Memory per instance ` +
        `is the PSS (proportional set size, /proc/<pid>/smaps_rollup) summed over every host process of the instance ` +
        `(the executor; for a container also its containerd-shim; for a VM its QEMU process); shared engine daemons ` +
        `(dockerd, containerd, libvirtd) are not counted. PSS divides each shared page among the processes that map it, so ` +
        `instances that map the same files (the node binary, the image's libraries) share their cost: per-instance PSS ` +
        `falls as K rises, and a host process shares the node binary with the lab itself. Second measure: the drop of host available memory (MemAvailable, ` +
        `median of 3 reads) from before the launch to all instances up, divided by K; it catches what PSS misses (page ` +
        `tables, kernel and hypervisor memory, page cache) but also every other change of host memory in the same window, ` +
        `so on a busy host it is noisy and can even be negative.`,
      `**Throughput** runs the wordcount job (one map task per byte range, scheduled by the master, reduced as results ` +
        `arrive) on one input (${res.settings.input}, ${s.inputBytes} bytes) at P = ${s.parallelism.join(', ')}, ` +
        `${s.throughputRepeat} job(s) each. Each map task asks for an equal share of the agent's cores (at most 1 core) and ` +
        `${s.throughputMemMiB} MiB. The job clock runs from framework registration to the last map result merged. ` +
        `*Start-up* is from the first offer to the first executor ready (no word counted before it); *steady state* is the ` +
        `rest of the job. MB/s = input MB (10^6 bytes) / job time; speed-up = median job time at P=1 / median job time at P. ` +
        `Host CPU % and memory in use (total − available) are sampled with systeminformation at ${s.samplerHz} Hz during ` +
        `each job; the sampler's own cost is measured first, with no job running.`,
      `Every result row carries its backend, accelerator, the limits requested and those the backend enforced, and the ` +
        `environment. results.json holds every raw sample and is rewritten after each configuration; this report is ` +
        `rendered from it alone (\`isolab report DIR\`).`,
    ]),
  ].join('\n');
}
