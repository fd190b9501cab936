/** A published source: who, what, where, when, and on what hardware it measured. */
export interface Source {
  /** Short key the figures refer to, e.g. `felter15`. */
  key: string;
  /** Authors, as the source lists them ("Agache, Brooker, …"), or the project that publishes it. */
  authors: string;
  /** Title of the paper, report or page. */
  title: string;
  /** Where it appeared: conference, report series, or repository. */
  venue: string;
  /** Year of publication (of the version quoted). */
  year: number;
  /** Where to read it. */
  url: string;
  /** The machine the figures were measured on, as the source states it. */
  hardware: string;
}

/** One published figure, as its source published it, with exactly where it comes from. */
export interface Reference {
  /** The source's key. */
  source: string;
  /** What was measured. */
  what: string;
  /** The figure, as published (or read from the published data, with the rule used). */
  figure: string;
  /** Exactly where: figure or table number, section, or data file and column. */
  where: string;
  /** How the source states it: statistic, repeats, configuration. */
  how: string;
}

/**
 * The sources. Figures from a repository (data files, specifications, CI baselines) were read from
 * the file at the commit named in `Reference.where`; figures from a paper name its table or section.
 * Figures that could not be traced to a source (an end-to-end Firecracker boot of 161 ms, a HiBench
 * wordcount rate, a `docker run` time) are not listed.
 */
export const SOURCES: readonly Source[] = [
  {
    key: 'felter15',
    authors: 'W. Felter, A. Ferreira, R. Rajamony, J. Rubio',
    title: 'An Updated Performance Comparison of Virtual Machines and Linux Containers',
    venue: 'IBM Research Report RC25482 (AUS1407-001), 21 July 2014; 2-page version in IEEE ISPASS 2015, pp. 171–172, doi:10.1109/ISPASS.2015.7095802',
    year: 2015,
    url: 'https://research.ibm.com/publications/an-updated-performance-comparison-of-virtual-machines-and-linux-containers',
    hardware: 'IBM System x3650 M4, two Intel Xeon E5-2665 (Sandy Bridge-EP, 16 cores), 256 GB RAM; Ubuntu 13.10 (Linux 3.11), Docker 1.0, QEMU 1.5 / KVM',
  },
  {
    key: 'agache20',
    authors: 'A. Agache, M. Brooker, A. Florescu, A. Iordache, A. Liguori, R. Neugebauer, P. Piwonka, D.-M. Popa',
    title: 'Firecracker: Lightweight Virtualization for Serverless Applications',
    venue: 'USENIX NSDI 2020, pp. 419–434; data and scripts in github.com/firecracker-microvm/nsdi2020-data',
    year: 2020,
    url: 'https://www.usenix.org/conference/nsdi20/presentation/agache',
    hardware: 'AWS m5d.metal (2 × Intel Xeon Platinum 8175M, 96 logical CPUs, 384 GB), KVM; data folder m5d.metal-ht',
  },
  {
    key: 'fcspec',
    authors: 'Firecracker project',
    title: 'Firecracker SPECIFICATION.md and docs/design.md',
    venue: 'github.com/firecracker-microvm/firecracker',
    year: 2019,
    url: 'https://github.com/firecracker-microvm/firecracker/blob/main/SPECIFICATION.md',
    hardware: 'AWS i3.metal, hyper-threading disabled (the stored version of the specification); later versions name m5d.metal and m6g.metal',
  },
  {
    key: 'gvisor',
    authors: 'gVisor project',
    title: 'gVisor Performance Guide',
    venue: 'gvisor.dev (g3doc/architecture_guide/performance.md; data in website/performance/*.csv of github.com/google/gvisor)',
    year: 2019,
    url: 'https://gvisor.dev/docs/architecture_guide/performance/',
    hardware: 'Google Compute Engine n1-standard-4 (Broadwell), Debian 9, Linux 4.19; runsc on the ptrace platform unless named',
  },
  {
    key: 'kata',
    authors: 'Kata Containers project',
    title: 'checkmetrics baselines of the metrics CI (tests/metrics/cmd/checkmetrics/ci_worker/*.toml)',
    venue: 'github.com/kata-containers/kata-containers',
    year: 2023,
    url: 'https://github.com/kata-containers/kata-containers/tree/main/tests/metrics/cmd/checkmetrics',
    hardware: 'the metrics CI worker named in each file (qemu file at commit 0a4b755: Equinix m3.small.x86; clh file at commit 05cc8fa: packet.com c1.small)',
  },
  {
    key: 'crun',
    authors: 'G. Scrivano and crun contributors',
    title: 'crun README, section "Performance"',
    venue: 'github.com/containers/crun',
    year: 2019,
    url: 'https://github.com/containers/crun#performance',
    hardware: 'the author\'s machine, not specified',
  },
  {
    key: 'hindman11',
    authors: 'B. Hindman, A. Konwinski, M. Zaharia, A. Ghodsi, A. D. Joseph, R. Katz, S. Shenker, I. Stoica',
    title: 'Mesos: A Platform for Fine-Grained Resource Sharing in the Data Center',
    venue: 'USENIX NSDI 2011',
    year: 2011,
    url: 'https://www.usenix.org/conference/nsdi11/mesos-platform-fine-grained-resource-sharing-data-center',
    hardware: 'Amazon EC2: 50 nodes of 2 cores / 6.5 GB (overhead); 99 instances of 8 cores / 6 GB emulating up to 50,000 agents (scalability)',
  },
  {
    key: 'ghodsi11',
    authors: 'A. Ghodsi, M. Zaharia, B. Hindman, A. Konwinski, S. Shenker, I. Stoica',
    title: 'Dominant Resource Fairness: Fair Allocation of Multiple Resource Types',
    venue: 'USENIX NSDI 2011',
    year: 2011,
    url: 'https://www.usenix.org/conference/nsdi11/dominant-resource-fairness-fair-allocation-multiple-resource-types',
    hardware: 'an allocation rule, not a measurement',
  },
];

/**
 * Published reference figures. Each is what its source published, on its own hardware, shown
 * apart from the lab's own measurements and never mixed into its tables or ratios.
 */
export const PUBLISHED_REFERENCES: readonly Reference[] = [
  {
    source: 'felter15', what: 'CPU-bound work (Linpack) vs native',
    figure: 'native 290.8 GFLOPS; Docker 290.9 (≈1.00×); KVM untuned 241.3 (0.83×), tuned 284.2 (0.98×)',
    where: 'RC25482, Table I (PXZ, Linpack, Stream, RandomAccess)',
    how: 'arithmetic mean of ten runs, standard deviation in brackets',
  },
  {
    source: 'agache20', what: 'Firecracker boot, serial, one microVM at a time',
    figure: 'median ≈ 190–199 ms end to end (process start → guest init); ≈ 110–112 ms guest boot of a pre-configured VM ("FC-pre", InstanceStart → init)',
    where: 'the paper\'s serial boot-time CDF (FC-pre, FC, Cloud Hypervisor, QEMU); data: data/m5d.metal-ht/boot-serial-fc-cdf.dat (commit 07e26f0) and raw/boot-serial-fc.dat (commit 8d365b0), plotted by data/gnuplot/boot-serial.gpl ("for the paper")',
    how: 'CDF of 500 serial boots, 1 vCPU, 512 MiB (boot-time/firecracker.sh); the range covers the data versions in the repository',
  },
  {
    source: 'agache20', what: 'QEMU boot, same test',
    figure: 'median ≈ 214 ms (QEMU with qboot, the "QEMU" line of the paper\'s figure); ≈ 234 ms without qboot',
    where: 'data/m5d.metal-ht/boot-serial-qboot-cdf.dat (commit 07e26f0; the paper figure\'s QEMU line) and boot-serial.csv (commit 8d365b0, vmm = qemu)',
    how: 'CDF of serial boots, as above',
  },
  {
    source: 'agache20', what: 'VMM memory overhead per VM (RSS of the VMM beyond the guest\'s memory)',
    figure: 'Firecracker ≈ 4.6 MiB, Cloud Hypervisor ≈ 13.3 MiB, QEMU ≈ 131 MiB (256 MiB guest)',
    where: 'the paper\'s memory-overhead figure, drawn by data/gnuplot/mem.gpl (PMAP_DATA − VMSZ) from data/m5d.metal-ht/mem-{fc,chv,qemu}.dat (commits 8d365b0, 07e26f0)',
    how: 'one VM per size, sizes 128 MiB–8 GiB; the data is in KiB (pmap)',
  },
  {
    source: 'fcspec', what: 'Firecracker boot to guest /sbin/init (specification)',
    figure: '≤ 125 ms from the InstanceStart API call; VMM memory overhead ≤ 5 MiB',
    where: 'SPECIFICATION.md (commit 0aad46c), item "Overhead" (1 vCPU, 128 MiB, serial console off, minimal kernel and root file system)',
    how: 'an upper bound enforced by the project\'s integration tests, not a distribution',
  },
  {
    source: 'fcspec', what: 'Firecracker launch rate',
    figure: '5 microVMs per host core per second (e.g. 180/s on 36 cores)',
    where: 'docs/design.md, list of promises, item (4)',
    how: 'a design promise for a minimal kernel, 1 vCPU, 128 MiB',
  },
  {
    source: 'gvisor', what: 'memory per idle container (`sleep`), host available-memory drop / N',
    figure: 'runc 4.1 MB; runsc (gVisor) 23.7 MB',
    where: 'Performance Guide, "Memory usage" figure (perf.py density); data website/performance/density.csv (commit a3f97a7), density.empty',
    how: 'N = 50 containers; host available memory before and after, divided by N',
  },
  {
    source: 'gvisor', what: 'memory per container of a small Node.js service',
    figure: 'runc 76.7 MB; runsc 124.1 MB',
    where: 'same figure and file, density.node',
    how: 'as above',
  },
  {
    source: 'gvisor', what: 'one raw system call',
    figure: 'runc 1.9 µs; runsc ptrace 38.2 µs; runsc KVM platform 0.76 µs',
    where: 'Performance Guide, "System calls" figure (perf.py syscall); data website/performance/syscall.csv (commit ff463a6)',
    how: 'mean time of a large number of system calls in one binary',
  },
  {
    source: 'kata', what: 'Kata Containers start to workload',
    figure: 'QEMU 0.71 s; Cloud Hypervisor 0.69 s',
    where: 'checkmetrics-json-qemu-kata-metric8.toml (commit 0a4b755) and checkmetrics-json-clh-kata-metric8.toml (commit 05cc8fa), metric boot-times, "to-workload"',
    how: 'CI acceptance midpoint ("midval") of the mean, with a tolerated band (−40 % / +30 %)',
  },
  {
    source: 'kata', what: 'Kata Containers memory footprint per container (PSS of hypervisor + virtiofsd + shim)',
    figure: 'QEMU 122,832 KB (≈ 120 MiB); Cloud Hypervisor 127,220 KB (≈ 124 MiB)',
    where: 'same files, metric memory-footprint, "average"',
    how: 'CI acceptance midpoint of the mean (±20 %); PSS by smem, busybox containers',
  },
  {
    source: 'crun', what: 'OCI runtime only: 100 containers running /bin/true one after another',
    figure: 'crun 1.69 s (≈ 17 ms each); runc 3.34 s (≈ 33 ms each)',
    where: 'README (commit 0138c64), table under "Performance"',
    how: 'one elapsed time for the 100 runs',
  },
  {
    source: 'hindman11', what: 'Mesos overhead on a single framework\'s jobs',
    figure: 'MPI (LINPACK) 50.9 s → 51.8 s; Hadoop WordCount 160 s → 166 s (< 4 %)',
    where: '§6, "Overhead" subsection (text)',
    how: 'each job three times, average; 50 EC2 nodes',
  },
  {
    source: 'hindman11', what: 'Mesos master scalability',
    figure: 'up to 50,000 emulated agents; task-launch overhead under 1 s',
    where: 'abstract and §6, "Mesos Scalability" subsection and its figure',
    how: 'emulated agents on 99 EC2 instances',
  },
];

/** How the sources measured, in their own terms (what the report may claim of them and no more). */
export const REFERENCE_METHOD =
  'The sources state their statistics differently, and the table says which each uses: Felter et al. give the arithmetic ' +
  'mean of ten runs with its standard deviation; the Firecracker paper plots the full distribution (CDF) of hundreds of ' +
  'serial boots; the gVisor guide gives one figure per runtime (memory as host available memory before and after N ' +
  'containers, divided by N); Kata\'s figures are CI acceptance midpoints of a mean with a tolerance band; crun\'s is one ' +
  'elapsed time; Mesos\' are averages of three jobs. None of them reports an interval comparable to this lab\'s ' +
  'order-statistic confidence intervals. Their hardware, kernels and accelerators differ from this lab\'s: compare ' +
  'orders of magnitude, not digits.';
