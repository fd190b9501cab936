import { loadScenario, ScenarioError, type Scenario } from '../../simulate/scenario.js';
import { formatSimulation } from '../../simulate/format.js';
import { simulate } from '../../simulate/simulator.js';
import { flag, parseFlags, type Command } from '../command.js';
import { UsageError } from '../errors.js';

const HELP = `Usage: isolab simulate SCENARIO.json [--json]

Runs a cluster scenario on virtual time (no sleeping): the real master, allocator and DRF
sorter, with simulated agents whose tasks are timers. Each framework launches as many of
its pending tasks as fit in each offer and declines the rest.

Scenario (JSON):
  {"agents": [{"resources": "cpus:9;mem:18432", "count": 1}],
   "frameworks": [{"name": "a", "task": "cpus:1;mem:4096", "taskSeconds": [5, 15],
                   "tasks": 1000, "weight": 1, "startSeconds": 0,
                   "minAllocatableResources": "task"}],
   "seconds": 600, "allocationIntervalSeconds": 1, "seed": 1,
   "offerTimeoutSeconds": 30, "refuseSeconds": 5, "minAllocatableResources": "cpus:0.01|mem:32"}
  taskSeconds is a number or [min, max], drawn uniformly with the seed. weight (default 1),
  startSeconds (default 0), allocationIntervalSeconds (default 1), seed (default 1),
  refuseSeconds (default 5) and offerTimeoutSeconds (default: no timeout) are optional.
  minAllocatableResources (Mesos >= 1.9; per framework, or at the top for all frameworks):
  no offer smaller than it goes to the framework; alternatives separated by |, or "task" for
  the framework's own task size. Default cpus:0.01|mem:32, Mesos' default.

Output: per framework launched, finished, running (at the end), meanRunning (time-weighted,
second half of the simulated time), dominantShare (at the end); allocator runs, allocation
run time in real ms (median, p99, max), offers, declined, rescinded; wall seconds. An
allocation run's time covers the allocator's decisions and building the offers, not the
frameworks' answers to them (in Mesos those run in other processes).

Options:
  --json        print one JSON object
  --progress    print a progress line on stderr every 60 simulated seconds
  -h, --help    show this help

Exit status: 0 done, 2 bad usage (missing file, invalid scenario).`;

export const simulateCommand: Command = {
  name: 'simulate',
  summary: 'run a cluster scenario on virtual time through the real allocator',
  help: HELP,
  async run(argv) {
    const p = parseFlags(argv, { json: { type: 'boolean' }, progress: { type: 'boolean' } }, true);
    if (p.positionals.length !== 1) throw new UsageError(p.positionals.length === 0 ? 'a SCENARIO.json file is required' : 'give exactly one SCENARIO.json');
    const path = p.positionals[0]!;
    let scenario: Scenario;
    try {
      scenario = loadScenario(path);
    } catch (err) {
      if (err instanceof ScenarioError) throw new UsageError(err.message);
      const code = (err as NodeJS.ErrnoException).code;
      throw new UsageError(`${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder' : code === 'EACCES' ? 'permission denied' : 'cannot read'}`);
    }
    const onProgress = flag(p, 'progress')
      ? (sim: number, wall: number) => process.stderr.write(`isolab: simulated ${sim} s of ${scenario.seconds} in ${wall.toFixed(1)} s\n`)
      : undefined;
    const result = simulate(scenario, { onProgress });
    process.stdout.write(flag(p, 'json') ? JSON.stringify(result) + '\n' : formatSimulation(result));
    return 0;
  },
};
