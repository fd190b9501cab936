/** One published figure, as its source published it, on its own hardware. */
export interface Reference {
  /** What was measured. */
  what: string;
  /** The figure, as published. */
  figure: string;
  /** Where it was published. */
  source: string;
}

/**
 * Published reference figures, copied from the project's notes (shared/notes/anchors.md). They are
 * shown apart from the lab's own measurements and never mixed into its tables or ratios.
 */
export const PUBLISHED_REFERENCES: readonly Reference[] = [
  { what: 'Firecracker boot to guest init', figure: '≤125 ms (spec); p50 110 ms guest boot, 161 ms end-to-end (1 vCPU, 256 MB)', source: 'firecracker SPECIFICATION.md; nsdi2020-data repository' },
  { what: 'QEMU (pc, KVM) end-to-end boot', figure: 'p50 244 ms; 214 ms with qboot', source: 'nsdi2020-data (Firecracker NSDI\'20 data)' },
  { what: 'VMM memory overhead per VM', figure: 'Firecracker ≈4.5 MB, Cloud Hypervisor ≈13 MB, QEMU ≈131 MB', source: 'nsdi2020-data, mem.gpl definition' },
  { what: 'Firecracker launch rate', figure: '5 microVMs per host core per second', source: 'firecracker docs/design.md' },
  { what: 'Kata to-workload start', figure: 'QEMU 0.71 s, Cloud Hypervisor 0.39 s', source: 'kata-containers tests/metrics checkmetrics baselines' },
  { what: 'Kata footprint per container (PSS)', figure: '≈120 MiB', source: 'kata-containers tests/metrics checkmetrics baselines' },
  { what: 'empty container footprint', figure: 'runc 4.1 MB, runsc (gVisor) 23.7 MB', source: 'gVisor performance guide' },
  { what: 'runtime-only container start', figure: 'crun ≈17 ms, runc ≈33 ms per /bin/true', source: 'crun README (100 runs: 1.69 s vs 3.34 s)' },
  { what: '`docker run` of a trivial container', figure: '≈0.3 s', source: 'Sharma et al., Middleware\'16' },
  { what: 'CPU-bound (linpack) vs native', figure: 'Docker ≈1.00, KVM 0.83 untuned / 0.98 tuned', source: 'Felter et al., IBM RC25482 / ISPASS\'15' },
  { what: 'random block I/O vs native', figure: 'KVM ≈0.5× IOPS, Docker ≈1.0×', source: 'Felter et al., IBM RC25482 / ISPASS\'15' },
  { what: 'Mesos scale', figure: '50,000 emulated agents, 200 frameworks, <1 s task-launch overhead', source: 'Mesos NSDI\'11 paper' },
  { what: 'Mesos overhead on jobs', figure: 'MPI 50.9→51.8 s, Hadoop 160→166 s (<4%)', source: 'Mesos NSDI\'11 paper' },
  { what: 'Spark / Hadoop wordcount (single node, HiBench)', figure: '≈15 MB/s / ≈5.7 MB/s', source: 'a public HiBench report (low authority)' },
];

/** How the published sources measured, in one paragraph (from the same notes). */
export const REFERENCE_METHOD =
  'These sources state where the clock starts and stops, discard warm-up runs, use at least 10 runs (the Firecracker ' +
  'paper hundreds), report median, p90/p99, min/max and the coefficient of variation, flag outliers by MAD and keep them, ' +
  'and count memory as PSS summed over every runtime process (VMM, shim, virtiofsd) or as the change in host available ' +
  'memory divided by N with N ≥ 20. Their hardware, kernels and accelerators differ from this lab\'s: compare orders of ' +
  'magnitude, not digits.';
