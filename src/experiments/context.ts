import type { Resources } from '../master/resources.js';
import type { Progress } from './progress.js';
import type { ResultsStore } from './results-store.js';
import type { BackendInfo, EnvironmentRef, RowContext } from './types.js';

/** An input file an experiment reads. */
export interface InputFile {
  /** Absolute path. */
  path: string;
  /** Size in bytes. */
  bytes: number;
  /** How the report names it. */
  description: string;
}

/** What every experiment gets from the runner. */
export interface ExperimentContext {
  /** Where results go; saved after each configuration. */
  store: ResultsStore;
  /** Progress lines and ETA. */
  progress: Progress;
  /** The machine, as every row repeats it. */
  env: EnvironmentRef;
  /** Aborted on SIGINT/SIGTERM. */
  signal: AbortSignal;
  /** Resources the embedded agent offers. */
  agentResources: Resources;
  /** The tiny wordcount input of the start-up experiment. */
  startupInput: InputFile;
  /** The throughput input. */
  throughputInput: InputFile;
  /** Extra diagnostics (stderr). */
  log: (line: string) => void;
}

/** A row's context for a backend, before any instance started. */
export function rowContext(b: BackendInfo, env: EnvironmentRef, requested: Resources): RowContext {
  return {
    backend: b.name,
    accelerator: b.accelerator,
    limitsRequested: { ...requested },
    limitsEnforced: null,
    environment: env,
    status: b.usable ? 'partial' : 'skipped',
    ...(b.usable ? {} : { reason: `${b.health}: ${b.description}` }),
  };
}
