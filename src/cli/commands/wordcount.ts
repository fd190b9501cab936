import type { Command } from '../command.js';

const HELP = `Usage: isolab wordcount --input FILE [options]

Counts words (maximal runs of non-whitespace bytes) in FILE with P map tasks scheduled
by the embedded Mesos-style master on one local agent, and reduces their counts. With
--master URL the same framework registers with a master elsewhere ("isolab master", or any
master speaking Mesos' v1 scheduler HTTP API) and its agents run the map tasks.

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
  --master URL            register with the master at URL (http://HOST:PORT) over its
                          scheduler API instead of running one; its agents open FILE by its
                          absolute path, so it must be readable there and stay unchanged
                          while the job runs (its size is checked)
  --credentials FILE      with --master: principal and secret for HTTP Basic, in the master's
                          format ({"credentials":[{"principal":..,"secret":..}]}, the first
                          is used; mode 0600 or 0640)
  --failover-timeout S    with --master: if this process loses the master, its tasks are kept
                          this long for it to subscribe again, then killed (default: 10)
  --serve-input ADDR[:PORT]
                          with --master, for agents on other hosts: serve FILE over HTTP with
                          Range requests on ADDR (an address the agents reach) at a URL with a
                          random 128-bit path; each map task carries that URL and its agent
                          fetches just its byte range (plus the end of its last word) into the
                          task's sandbox. A failed fetch fails the task, which is retried
  -h, --help              show this help

Exit status: 0 done, 1 the job failed (or the master could not be reached or refused the
framework), 2 bad usage (missing input, bad flag, unusable backend, output not writable, task
resources larger than the agent's), 128+N killed by signal N (cleanup done first; with
--master the framework is torn down, so the master kills its tasks).`;

/** `isolab wordcount`: this module holds only its help, so `--help` loads nothing else; the run is in `wordcount-run.ts`. */
export const wordcountCommand: Command = {
  name: 'wordcount',
  summary: 'count words in a file with map tasks on a backend',
  help: HELP,
  async run(argv) {
    return (await import('./wordcount-run.js')).runWordcount(argv);
  },
};
