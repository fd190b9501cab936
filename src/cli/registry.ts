import type { Command } from './command.js';

/**
 * A sub-command as the command list knows it before its module is loaded: the module (and
 * everything it imports) is loaded only when that command runs or shows its help.
 */
export interface CommandEntry {
  /** Name typed after `isolab`. */
  name: string;
  /** One line for the command list (the same as the command's own `summary`). */
  summary: string;
  /** Loads the command's module. */
  load(): Promise<Command>;
}

/** Every `isolab` sub-command, in help order. */
export const COMMANDS: CommandEntry[] = [
  { name: 'wordcount', summary: 'count words in a file with map tasks on a backend', load: async () => (await import('./commands/wordcount.js')).wordcountCommand },
  { name: 'doctor', summary: 'fingerprint every backend: what it is, usable or not, and why (read-only; --probe probes the VM accelerator)', load: async () => (await import('./commands/doctor.js')).doctorCommand },
  { name: 'corpus', summary: 'generate a deterministic text corpus', load: async () => (await import('./commands/corpus.js')).corpusCommand },
  { name: 'image', summary: 'build, list or prune the guest image (Docker image, VM disk, kernel)', load: async () => (await import('./commands/image.js')).imageCommand },
  { name: 'reap', summary: 'list or remove containers, domains, processes and files that isolab sessions left behind', load: async () => (await import('./commands/reap.js')).reapCommand },
  { name: 'simulate', summary: 'run a cluster scenario on virtual time through the real allocator', load: async () => (await import('./commands/simulate.js')).simulateCommand },
  { name: 'master', summary: 'run a standalone master: frameworks register over HTTP (Mesos v1 scheduler API)', load: async () => (await import('./commands/master.js')).masterCommand },
  { name: 'agent', summary: 'run an agent in its own process for a master over HTTP (this host or another)', load: async () => (await import('./commands/agent.js')).agentCommand },
  { name: 'cluster', summary: 'a cluster of test hosts on this machine (network namespaces on a bridge): up, down, status, exec', load: async () => (await import('./commands/cluster.js')).clusterCommand },
  { name: 'experiment', summary: 'measure start-up, density and throughput per backend; write results and a report', load: async () => (await import('./commands/experiment.js')).experimentCommand },
  { name: 'lab', summary: 'run every experiment with defaults that fit 20 minutes; write reports/latest and a dated copy', load: async () => (await import('./commands/lab.js')).labCommand },
  { name: 'report', summary: 're-render report.md, results.csv and charts from a results.json', load: async () => (await import('./commands/report.js')).reportCommand },
  { name: 'compare', summary: 'compare two runs as a regression gate (Markdown; exit 1 on a regression)', load: async () => (await import('./commands/compare.js')).compareCommand },
];

/** The entry of that name, if any. */
export function findCommand(name: string | undefined): CommandEntry | undefined {
  return COMMANDS.find((c) => c.name === name);
}
