import { contains, formatResources, parseResources, type Resources } from '../../master/resources.js';
import { flag, int, num, parseFlags, str } from '../command.js';
import { RuntimeError, UsageError } from '../errors.js';

function resourcesFlag(v: string | undefined, name: string, dflt?: Resources): Resources | undefined {
  if (v === undefined) return dflt;
  try {
    return parseResources(v);
  } catch (err) {
    throw new UsageError(`--${name}: ${(err as Error).message}`);
  }
}

const r1 = (x: number): number => Math.round(x * 10) / 10;

/** Runs `isolab wordcount` (see `wordcount.ts` for its help). */
export async function runWordcount(argv: string[]): Promise<number> {
  const p = parseFlags(argv, {
    input: { type: 'string' }, backend: { type: 'string' }, parallelism: { type: 'string', short: 'p' },
    output: { type: 'string', short: 'o' }, json: { type: 'boolean' }, resources: { type: 'string' },
    'task-resources': { type: 'string' }, timeout: { type: 'string' }, 'max-retries': { type: 'string' },
    http: { type: 'string' },
  });
  const httpPort = p.values.http === undefined ? undefined : int(p, 'http', 0, 0);
  if (httpPort !== undefined && httpPort > 65535) throw new UsageError(`--http must be a port from 0 to 65535, got ${httpPort}`);
  if (!str(p, 'input')) throw new UsageError('--input FILE is required');
  const requested = int(p, 'parallelism', 1);
  const maxRetries = int(p, 'max-retries', 3, 0);
  const timeoutS = num(p, 'timeout', 600, 0.001);
  const agentFlag = resourcesFlag(str(p, 'resources'), 'resources');
  const taskResources = resourcesFlag(str(p, 'task-resources'), 'task-resources', { cpus: 1, mem: 512 })!;
  const jobModule = import('../../frameworks/wordcount/run-job.js'); // loads while the input and the backend are checked
  jobModule.catch(() => {}); // a usage error may end the command before it is awaited
  const [{ openInputFile, prepareOutput, usableBackend }, { session }, { installSignalCleanup }] = await Promise.all([
    import('../input.js'), import('../../session/session.js'), import('../../session/signals.js'),
  ]);
  const sess = session();
  const abort = new AbortController();
  const uninstall = installSignalCleanup(sess, abort, (l) => process.stderr.write(l + '\n'));
  try {
    const input = openInputFile(str(p, 'input'));
    sess.defer(`input ${input.path}`, () => input.close());
    const parallelism = Math.min(requested, Math.max(1, input.size));
    const { MAX_RANGE_BYTES } = await import('../../workload/limits.js');
    if (Math.ceil(input.size / parallelism) > MAX_RANGE_BYTES) {
      throw new UsageError(`${input.path}: ${input.size} bytes in ${parallelism} map task${parallelism === 1 ? '' : 's'}; one task counts at most ${MAX_RANGE_BYTES} bytes: use --parallelism ${Math.ceil(input.size / MAX_RANGE_BYTES)} or more`);
    }
    const backend = await usableBackend(str(p, 'backend', 'process')!);
    const agentResources = agentFlag ?? (await (await import('../../agent/host-resources.js')).detectHostResources());
    if (!contains(agentResources, taskResources)) {
      throw new UsageError(`--task-resources ${formatResources(taskResources)} do not fit the agent's ${formatResources(agentResources)}: no task could ever start`);
    }
    const outputFlag = str(p, 'output');
    const output = outputFlag ? prepareOutput(outputFlag) : undefined;
    if (output) sess.defer(`temp file ${output.tmp}`, () => output.discard());
    if (parallelism < requested) {
      process.stderr.write(`isolab: --parallelism ${requested} capped to ${parallelism}: the input has ${input.size} byte${input.size === 1 ? '' : 's'} (one map task per byte at most)\n`);
    }
    const { runWordcountJob } = await jobModule;
    const startMs = performance.now();
    const r = await runWordcountJob({
      input: input.taskPath, size: input.size, parallelism, backend, taskResources, agentResources, maxRetries,
      taskTimeoutMs: Math.round(timeoutS * 1000), signal: abort.signal,
      http: httpPort === undefined ? undefined : { port: httpPort },
      onHttp: (url) => process.stderr.write(`isolab: master API on ${url}\n`),
    }).catch((err: unknown) => {
      throw new RuntimeError(`wordcount failed: ${err instanceof Error ? err.message : String(err)}`);
    });
    const w0 = performance.now();
    if (output) {
      try {
        output.commit(r.canonical);
      } catch (err) {
        throw new RuntimeError(`cannot write ${output.path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    }
    const writeMs = performance.now() - w0;
    const finished = r.attempts.filter((a) => a.state === 'finished');
    const limits = finished[0]?.data?.limits;
    if (flag(p, 'json')) {
      const total = performance.now();
      const job = Object.values(r.stagesMs).reduce((a, b) => a + b, 0);
      const stagesMs = { start: r1(startMs), ...Object.fromEntries(Object.entries(r.stagesMs).map(([k, v]) => [k, r1(v)])), write: r1(writeMs) } as Record<string, number>;
      stagesMs.other = r1(total - startMs - job - writeMs);
      stagesMs.total = r1(total);
      process.stdout.write(JSON.stringify({
        words: r.words, distinct: r.distinct, bytes: r.bytes, sha256: r.sha256, backend: backend.name, parallelism,
        seconds: round(r.seconds), mbPerSecond: round(r.bytes / 1e6 / r.seconds), attempts: r.attempts.length,
        retries: r.attempts.length - finished.length, limits: limits ?? null,
        attributes: finished[0]?.data?.attributes ?? {}, session: sess.id, stagesMs,
      }) + '\n');
    } else {
      const { displayWord } = await import('../../workload/counts.js');
      const { topWordsCanonical } = await import('../../workload/canonical.js');
      const out = [
        `${r.words} words, ${r.distinct} distinct, ${r.bytes} bytes in ${r.seconds.toFixed(3)} s on ${backend.name} (P=${parallelism}, ${(r.bytes / 1e6 / r.seconds).toFixed(1)} MB/s)`,
        `limits: ${limits ? `${limits.how}${limits.cpus && limits.mem ? '' : ' (partly enforced)'}` : r.attempts.length === 0 ? 'none (no map task needed)' : 'unknown'}; sha256 ${r.sha256}`,
        'top words:',
        ...topWordsCanonical(r.canonical, 10).map((w, i) => `  ${String(i + 1).padStart(2)}. ${displayWord(w.word).padEnd(24)} ${w.count}`),
      ];
      process.stdout.write(out.join('\n') + '\n');
    }
    return 0;
  } finally {
    uninstall();
    const errors = await sess.close();
    for (const e of errors) process.stderr.write(`isolab: cleanup: ${e}\n`);
  }
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
