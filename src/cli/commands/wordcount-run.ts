import type { JobResult } from '../../frameworks/wordcount/run-job.js';
import { contains, formatResources, parseResources, type Resources } from '../../master/resources.js';
import type { FrameworkDriver } from '../../master/types.js';
import type { Session } from '../../session/session.js';
import { flag, int, num, parseFlags, str, type Parsed } from '../command.js';
import { RuntimeError, UsageError } from '../errors.js';
import type { OpenInput, PreparedOutput } from '../input.js';

function resourcesFlag(v: string | undefined, name: string, dflt?: Resources): Resources | undefined {
  if (v === undefined) return dflt;
  try {
    return parseResources(v);
  } catch (err) {
    throw new UsageError(`--${name}: ${(err as Error).message}`);
  }
}

const r1 = (x: number): number => Math.round(x * 10) / 10;

/** What both paths (embedded master, master over HTTP) have checked before the job starts. */
interface Prepared {
  input: OpenInput;
  parallelism: number;
}

/** Runs `isolab wordcount` (see `wordcount.ts` for its help). */
export async function runWordcount(argv: string[]): Promise<number> {
  const p = parseFlags(argv, {
    input: { type: 'string' }, backend: { type: 'string' }, parallelism: { type: 'string', short: 'p' },
    output: { type: 'string', short: 'o' }, json: { type: 'boolean' }, resources: { type: 'string' },
    'task-resources': { type: 'string' }, timeout: { type: 'string' }, 'max-retries': { type: 'string' },
    http: { type: 'string' }, master: { type: 'string' }, credentials: { type: 'string' }, 'failover-timeout': { type: 'string' },
    'serve-input': { type: 'string' },
  });
  const masterUrl = str(p, 'master');
  if (masterUrl === undefined) {
    for (const f of ['credentials', 'failover-timeout', 'serve-input']) if (p.values[f] !== undefined) throw new UsageError(`--${f} needs --master URL`);
  } else {
    for (const f of ['resources', 'http']) {
      if (p.values[f] !== undefined) throw new UsageError(`--${f} applies to the embedded master; with --master the master's agents have their own`);
    }
  }
  const httpPort = p.values.http === undefined ? undefined : int(p, 'http', 0, 0);
  if (httpPort !== undefined && httpPort > 65535) throw new UsageError(`--http must be a port from 0 to 65535, got ${httpPort}`);
  if (!str(p, 'input')) throw new UsageError('--input FILE is required');
  const requested = int(p, 'parallelism', 1);
  const maxRetries = int(p, 'max-retries', 3, 0);
  const timeoutS = num(p, 'timeout', 600, 0.001);
  const failoverTimeout = num(p, 'failover-timeout', 10, 0);
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
  /** Opens the input, checks the range size and the output, notes a capped parallelism. */
  const prepare = async (): Promise<Prepared> => {
    const input = openInputFile(str(p, 'input'));
    sess.defer(`input ${input.path}`, () => input.close());
    const parallelism = Math.min(requested, Math.max(1, input.size));
    const { MAX_RANGE_BYTES } = await import('../../workload/limits.js');
    if (Math.ceil(input.size / parallelism) > MAX_RANGE_BYTES) {
      throw new UsageError(`${input.path}: ${input.size} bytes in ${parallelism} map task${parallelism === 1 ? '' : 's'}; one task counts at most ${MAX_RANGE_BYTES} bytes: use --parallelism ${Math.ceil(input.size / MAX_RANGE_BYTES)} or more`);
    }
    return { input, parallelism };
  };
  const prepareOut = (): PreparedOutput | undefined => {
    const outputFlag = str(p, 'output');
    const output = outputFlag ? prepareOutput(outputFlag) : undefined;
    if (output) sess.defer(`temp file ${output.tmp}`, () => output.discard());
    return output;
  };
  const noteCap = (input: OpenInput, parallelism: number): void => {
    if (parallelism < requested) {
      process.stderr.write(`isolab: --parallelism ${requested} capped to ${parallelism}: the input has ${input.size} byte${input.size === 1 ? '' : 's'} (one map task per byte at most)\n`);
    }
  };
  const failed = (err: unknown): never => {
    throw new RuntimeError(`wordcount failed: ${err instanceof Error ? err.message : String(err)}`);
  };
  try {
    const { input, parallelism } = await prepare();
    const common = { input: input.taskPath, size: input.size, parallelism, taskResources, maxRetries, taskTimeoutMs: Math.round(timeoutS * 1000), signal: abort.signal };
    if (masterUrl !== undefined) {
      const backendName = str(p, 'backend', 'process')!;
      const { isBackendName, backendNames } = await import('../../backends/registry.js');
      if (!isBackendName(backendName)) throw new UsageError(`unknown backend "${backendName}" (known: ${backendNames().join(', ')})`);
      const conn = await connect(masterUrl, str(p, 'credentials'));
      let driver: FrameworkDriver | undefined;
      // On a signal, tear the framework down (the master kills its tasks) before the process exits.
      sess.defer(`framework on ${conn.where}`, async () => {
        driver?.teardown();
        await conn.close(5000);
      });
      const output = prepareOut();
      noteCap(input, parallelism);
      let inputUrl: string | undefined;
      const serve = str(p, 'serve-input');
      if (serve !== undefined) {
        const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s]+)(?::(\d{1,5}))?$/.exec(serve);
        if (!m || (m[2] !== undefined && Number(m[2]) > 65535)) throw new UsageError(`--serve-input: expected ADDR or ADDR:PORT, got "${serve.slice(0, 60)}"`);
        const { serveInput } = await import('../../frameworks/input-server.js');
        const server = await serveInput({ path: input.taskPath, size: input.size, host: m[1]!.replace(/^\[|\]$/g, ''), port: m[2] === undefined ? 0 : Number(m[2]) })
          .catch((err: NodeJS.ErrnoException) => {
            throw new RuntimeError(`--serve-input: cannot listen on ${serve}: ${err.code ?? err.message}`);
          });
        sess.defer('input server', () => server.close());
        inputUrl = server.url;
      }
      const { runWordcountOnMaster } = await jobModule;
      const startMs = performance.now();
      // The master's agents open the input by its path: a task must outlive this process (failover).
      const r = await runWordcountOnMaster({
        ...common, input: inputUrl ?? input.path, backend: backendName, master: conn, failoverTimeoutSeconds: failoverTimeout, onRegistered: (d) => (driver = d),
        onWaiting: (line) => process.stderr.write(line + '\n'),
      }).catch(failed);
      await printResult(p, r, backendName, parallelism, startMs, output, sess);
      return 0;
    }
    const backend = await usableBackend(str(p, 'backend', 'process')!);
    const agentResources = agentFlag ?? (await (await import('../../agent/host-resources.js')).detectHostResources());
    if (!contains(agentResources, taskResources)) {
      throw new UsageError(`--task-resources ${formatResources(taskResources)} do not fit the agent's ${formatResources(agentResources)}: no task could ever start`);
    }
    const output = prepareOut();
    noteCap(input, parallelism);
    const { runWordcountJob } = await jobModule;
    const startMs = performance.now();
    const r = await runWordcountJob({
      ...common, backend, agentResources,
      http: httpPort === undefined ? undefined : { port: httpPort },
      onHttp: (url) => process.stderr.write(`isolab: master API on ${url}\n`),
    }).catch(failed);
    await printResult(p, r, backend.name, parallelism, startMs, output, sess);
    return 0;
  } finally {
    uninstall();
    const errors = await sess.close();
    for (const e of errors) process.stderr.write(`isolab: cleanup: ${e}\n`);
  }
}

/** An HTTP connection to the master at `url`, with the credential of `credentialsFile` if given. */
async function connect(url: string, credentialsFile: string | undefined) {
  const [{ HttpMasterConnection }, { loadCredentials, CredentialsError }] = await Promise.all([
    import('../../frameworks/http-connection.js'), import('../../http/auth.js'),
  ]);
  let credential;
  if (credentialsFile !== undefined) {
    try {
      credential = loadCredentials(credentialsFile)[0];
    } catch (err) {
      if (err instanceof CredentialsError) throw new UsageError(`--credentials ${err.message}`);
      throw err;
    }
  }
  try {
    return new HttpMasterConnection(url, { credential });
  } catch (err) {
    throw new UsageError(`--master: ${(err as Error).message}`);
  }
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/** Writes the canonical counts (with --output) and prints the summary or the JSON line. */
async function printResult(p: Parsed, r: JobResult, backendName: string, parallelism: number, startMs: number, output: PreparedOutput | undefined, sess: Session): Promise<void> {
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
      words: r.words, distinct: r.distinct, bytes: r.bytes, sha256: r.sha256, backend: backendName, parallelism,
      seconds: round(r.seconds), mbPerSecond: round(r.bytes / 1e6 / r.seconds), attempts: r.attempts.length,
      retries: r.attempts.length - finished.length, limits: limits ?? null,
      attributes: finished[0]?.data?.attributes ?? {}, session: sess.id, stagesMs,
    }) + '\n');
    return;
  }
  const { displayWord } = await import('../../workload/counts.js');
  const { topWordsCanonical } = await import('../../workload/canonical.js');
  const out = [
    `${r.words} words, ${r.distinct} distinct, ${r.bytes} bytes in ${r.seconds.toFixed(3)} s on ${backendName} (P=${parallelism}, ${(r.bytes / 1e6 / r.seconds).toFixed(1)} MB/s)`,
    `limits: ${limits ? `${limits.how}${limits.cpus && limits.mem ? '' : ' (partly enforced)'}` : r.attempts.length === 0 ? 'none (no map task needed)' : 'unknown'}; sha256 ${r.sha256}`,
    'top words:',
    ...topWordsCanonical(r.canonical, 10).map((w, i) => `  ${String(i + 1).padStart(2)}. ${displayWord(w.word).padEnd(24)} ${w.count}`),
  ];
  process.stdout.write(out.join('\n') + '\n');
}
