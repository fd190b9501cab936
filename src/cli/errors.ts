/** A mistake in how isolab was called: bad flag, missing file, unknown backend. Exit code 2. */
export class UsageError extends Error {
  /** Process exit code for this error. */
  readonly exitCode = 2;
}

/** Something failed while doing valid work: an engine error, a failed job. Exit code 1. */
export class RuntimeError extends Error {
  /** Process exit code for this error. */
  readonly exitCode = 1;
}

/** Exit code and one-line message for any thrown value, as the CLI prints it. */
export function describeError(err: unknown): { code: number; message: string } {
  if (err instanceof UsageError || err instanceof RuntimeError) {
    return { code: err.exitCode, message: firstLine(err.message) };
  }
  if (err instanceof Error) return { code: 1, message: firstLine(err.message) };
  return { code: 1, message: firstLine(String(err)) };
}

function firstLine(s: string): string {
  return (s.split('\n')[0] ?? '').trim() || 'unknown error';
}
