import type { Command } from '../command.js';

const HELP = `Usage: isolab wordcount --input FILE [options]

Counts words (maximal runs of non-whitespace bytes) in FILE with P map tasks scheduled
by the embedded Mesos-style master on one local agent, and reduces their counts.

Options:
  --input FILE            file to count (required); opened once: exactly its size at that
                          moment is counted, even if the path is replaced while the job runs
  --backend NAME          process, docker, gvisor or vm, or docker:RUNTIME for another OCI
                          runtime dockerd knows (default: process; isolab doctor lists them)
  --parallelism N         number of map tasks, one byte range each (default: 1); more than
                          the input has bytes is capped to its size, with a note on stderr
  --output FILE           write the canonical counts file: "<word>\\t<count>\\n", byte order;
                          checked before the job starts; a symbolic link there is refused
  --json                  print one JSON object instead of the summary (with "stagesMs":
                          where the time went)
  --resources R           agent resources, Mesos syntax, e.g. 'cpus:2;mem:4096' (default: host)
  --task-resources R      resources of each map task (default: 'cpus:1;mem:512')
  --timeout SECONDS       kill a map task after this long (default: 600)
  --max-retries N         retries of a failed or lost map task (default: 3)
  --http PORT             serve the master's HTTP API on 127.0.0.1:PORT while the job runs
                          (GET /state, /metrics/snapshot; 0 picks a free port)
  -h, --help              show this help

Exit status: 0 done, 1 the job failed, 2 bad usage (missing input, bad flag, unusable backend,
output not writable, task resources larger than the agent's), 128+N killed by signal N
(cleanup done first).`;

/** `isolab wordcount`: this module holds only its help, so `--help` loads nothing else; the run is in `wordcount-run.ts`. */
export const wordcountCommand: Command = {
  name: 'wordcount',
  summary: 'count words in a file with map tasks on a backend',
  help: HELP,
  async run(argv) {
    return (await import('./wordcount-run.js')).runWordcount(argv);
  },
};
