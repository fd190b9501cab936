import { writeFileSync, renameSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { parseResources, type Resources } from '../../master/resources.js';
import { runWordcountJob } from '../../frameworks/wordcount/run-job.js';
import { session } from '../../session/session.js';
import { installSignalCleanup } from '../../session/signals.js';
import { displayWord, topWords } from '../../workload/counts.js';
import { flag, int, num, parseFlags, str, type Command } from '../command.js';
import { RuntimeError, UsageError } from '../errors.js';
import { checkInputFile, usableBackend } from '../input.js';

const HELP = `Usage: isolab wordcount --input FILE [options]

Counts words (maximal runs of non-whitespace bytes) in FILE with P map tasks scheduled
by the embedded Mesos-style master on one local agent, and reduces their counts.

Options:
  --input FILE            file to count (required)
  --backend NAME          process, docker, gvisor or vm, or docker:RUNTIME for another OCI
                          runtime dockerd knows (default: process; isolab doctor lists them)
  --parallelism N         number of map tasks, one byte range each (default: 1)
  --output FILE           write the canonical counts file: "<word>\\t<count>\\n", byte order
  --json                  print one JSON object instead of the summary
  --resources R           agent resources, Mesos syntax, e.g. 'cpus:2;mem:4096' (default: host)
  --task-resources R      resources of each map task (default: 'cpus:1;mem:512')
  --timeout SECONDS       kill a map task after this long (default: 600)
  --max-retries N         retries of a failed or lost map task (default: 3)
  --http PORT             serve the master's HTTP API on 127.0.0.1:PORT while the job runs
                          (GET /state, /metrics/snapshot; 0 picks a free port)
  -h, --help              show this help

Exit status: 0 done, 1 the job failed, 2 bad usage (missing input, bad flag, unusable backend).`;

function resourcesFlag(v: string | undefined, name: string, dflt?: Resources): Resources | undefined {
  if (v === undefined) return dflt;
  try {
    return parseResources(v);
  } catch (err) {
    throw new UsageError(`--${name}: ${(err as Error).message}`);
  }
}

export const wordcountCommand: Command = {
  name: 'wordcount',
  summary: 'count words in a file with map tasks on a backend',
  help: HELP,
  async run(argv) {
    const p = parseFlags(argv, {
      input: { type: 'string' }, backend: { type: 'string' }, parallelism: { type: 'string', short: 'p' },
      output: { type: 'string', short: 'o' }, json: { type: 'boolean' }, resources: { type: 'string' },
      'task-resources': { type: 'string' }, timeout: { type: 'string' }, 'max-retries': { type: 'string' },
      http: { type: 'string' },
    });
    const httpPort = p.values.http === undefined ? undefined : int(p, 'http', 0, 0);
    if (httpPort !== undefined && httpPort > 65535) throw new UsageError(`--http must be a port from 0 to 65535, got ${httpPort}`);
    const input = checkInputFile(str(p, 'input'));
    const parallelism = int(p, 'parallelism', 1);
    const maxRetries = int(p, 'max-retries', 3, 0);
    const timeoutS = num(p, 'timeout', 600, 0.001);
    const agentResources = resourcesFlag(str(p, 'resources'), 'resources');
    const taskResources = resourcesFlag(str(p, 'task-resources'), 'task-resources', { cpus: 1, mem: 512 })!;
    const output = str(p, 'output');
    const backend = await usableBackend(str(p, 'backend', 'process')!);
    const sess = session();
    const abort = new AbortController();
    const uninstall = installSignalCleanup(sess, abort, (l) => process.stderr.write(l + '\n'));
    try {
      const r = await runWordcountJob({
        input: input.path, size: input.size, parallelism, backend, taskResources, agentResources, maxRetries,
        taskTimeoutMs: Math.round(timeoutS * 1000), signal: abort.signal,
        http: httpPort === undefined ? undefined : { port: httpPort },
        onHttp: (url) => process.stderr.write(`isolab: master API on ${url}\n`),
      }).catch((err: unknown) => {
        throw new RuntimeError(`wordcount failed: ${err instanceof Error ? err.message : String(err)}`);
      });
      if (output) {
        const tmp = join(dirname(output), `.${basename(output)}.${sess.id}.tmp`);
        try {
          writeFileSync(tmp, r.canonical);
          renameSync(tmp, output);
        } catch (err) {
          throw new RuntimeError(`cannot write ${output}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        }
      }
      const finished = r.attempts.filter((a) => a.state === 'finished');
      const limits = finished[0]?.data?.limits;
      if (flag(p, 'json')) {
        process.stdout.write(JSON.stringify({
          words: r.words, distinct: r.distinct, bytes: r.bytes, sha256: r.sha256, backend: backend.name, parallelism,
          seconds: round(r.seconds), mbPerSecond: round(r.bytes / 1e6 / r.seconds), attempts: r.attempts.length,
          retries: r.attempts.length - finished.length, limits: limits ?? null,
          attributes: finished[0]?.data?.attributes ?? {}, session: sess.id,
        }) + '\n');
      } else {
        const out = [
          `${r.words} words, ${r.distinct} distinct, ${r.bytes} bytes in ${r.seconds.toFixed(3)} s on ${backend.name} (P=${parallelism}, ${(r.bytes / 1e6 / r.seconds).toFixed(1)} MB/s)`,
          `limits: ${limits ? `${limits.how}${limits.cpus && limits.mem ? '' : ' (partly enforced)'}` : 'unknown'}; sha256 ${r.sha256}`,
          'top words:',
          ...topWords(r.counts, 10).map((w, i) => `  ${String(i + 1).padStart(2)}. ${displayWord(w.word).padEnd(24)} ${w.count}`),
        ];
        process.stdout.write(out.join('\n') + '\n');
      }
      return 0;
    } finally {
      uninstall();
      const errors = await sess.close();
      for (const e of errors) process.stderr.write(`isolab: cleanup: ${e}\n`);
    }
  },
};

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
