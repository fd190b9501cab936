import { readFileSync } from 'node:fs';
import { DEFAULT_MIN_ALLOCATABLE, parseMinAllocatable, parseResources, type MinAllocatable, type Resources } from '../master/resources.js';

/** A group of identical agents in a scenario. */
export interface AgentGroup {
  /** Resources of each agent. */
  resources: Resources;
  /** Number of agents. */
  count: number;
}

/** A framework in a scenario: it launches `tasks` tasks of one shape, as many per offer as fit. */
export interface FrameworkSpec {
  /** Unique name; the output is keyed by it. */
  name: string;
  /** Resources of each task. */
  task: Resources;
  /** Task duration in seconds: fixed, or drawn uniformly from [min, max] with the scenario's seed. */
  taskSeconds: number | [number, number];
  /** Number of tasks the framework wants to run in all. */
  tasks: number;
  /** DRF weight. Default 1. */
  weight: number;
  /** Simulated second at which the framework registers. Default 0. */
  startSeconds: number;
  /** Its min_allocatable_resources (Mesos >= 1.9): smaller offers are not made to it. Default cpus:0.01|mem:32. */
  minAllocatableResources: MinAllocatable;
}

/** A simulation scenario, validated. */
export interface Scenario {
  /** Agent groups. */
  agents: AgentGroup[];
  /** Frameworks, in registration order. */
  frameworks: FrameworkSpec[];
  /** Simulated seconds to run. */
  seconds: number;
  /** Period of allocation runs (s). Default 1. */
  allocationIntervalSeconds: number;
  /** Seed of every random draw (task durations, agent order). Default 1. */
  seed: number;
  /** Offers not answered within this many seconds are rescinded. Off when omitted. */
  offerTimeoutSeconds?: number;
  /** Refuse time frameworks put on what they decline (s). Default 5, as in Mesos. */
  refuseSeconds: number;
}

/** What a scenario's `minAllocatableResources` may say: Mesos' flag syntax, or "task" for the framework's own task size. */
export const MIN_ALLOCATABLE_HELP = 'resources like "cpus:0.01|mem:32" (alternatives separated by |), or "task" for the framework\'s task size';

/** A scenario that does not validate; the message names the bad field, e.g. `scenario.frameworks[0].task: ...`. */
export class ScenarioError extends Error {}

const TOP = new Set(['agents', 'frameworks', 'seconds', 'allocationIntervalSeconds', 'seed', 'offerTimeoutSeconds', 'refuseSeconds', 'minAllocatableResources']);
const AGENT = new Set(['resources', 'count']);
const FRAMEWORK = new Set(['name', 'task', 'taskSeconds', 'tasks', 'weight', 'startSeconds', 'minAllocatableResources']);

/** Most agents a scenario may ask for. */
export const MAX_AGENTS = 1_000_000;

/** Reads and validates a scenario file; throws ScenarioError (bad content) or an Error with `code` ENOENT etc. */
export function loadScenario(path: string): Scenario {
  const text = readFileSync(path, 'utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ScenarioError(`scenario: not valid JSON (${(err as Error).message})`);
  }
  return parseScenario(raw);
}

/** Validates a parsed scenario object. */
export function parseScenario(raw: unknown): Scenario {
  const top = object(raw, 'scenario');
  unknownKeys(top, TOP, 'scenario');
  const agentsRaw = array(top.agents, 'scenario.agents');
  let totalAgents = 0;
  const agents = agentsRaw.map((a, i) => {
    const at = `scenario.agents[${i}]`;
    const o = object(a, at);
    unknownKeys(o, AGENT, at);
    const resources = resourcesField(o.resources, `${at}.resources`);
    if (resources.cpus <= 0 && resources.mem <= 0) throw new ScenarioError(`${at}.resources: an agent needs some resources`);
    const count = integer(o.count, `${at}.count`, 1, MAX_AGENTS);
    totalAgents += count;
    return { resources, count };
  });
  if (totalAgents > MAX_AGENTS) throw new ScenarioError(`scenario.agents: ${totalAgents} agents in all, at most ${MAX_AGENTS}`);
  const names = new Set<string>();
  const defaultMin = top.minAllocatableResources === undefined ? undefined : minField(top.minAllocatableResources, 'scenario.minAllocatableResources');
  const frameworks = array(top.frameworks, 'scenario.frameworks').map((f, i): FrameworkSpec => {
    const at = `scenario.frameworks[${i}]`;
    const o = object(f, at);
    unknownKeys(o, FRAMEWORK, at);
    if (typeof o.name !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(o.name)) {
      throw new ScenarioError(`${at}.name: expected 1-64 letters, digits or _ . : -, got ${show(o.name)}`);
    }
    if (names.has(o.name)) throw new ScenarioError(`${at}.name: "${o.name}" is used twice`);
    names.add(o.name);
    const task = resourcesField(o.task, `${at}.task`);
    if (task.cpus <= 0 && task.mem <= 0) throw new ScenarioError(`${at}.task: a task needs some resources`);
    if (!agents.some((a) => a.resources.cpus >= task.cpus && a.resources.mem >= task.mem)) {
      throw new ScenarioError(`${at}.task: "${fmt(task)}" fits on no agent`);
    }
    const min = o.minAllocatableResources === undefined ? defaultMin : minField(o.minAllocatableResources, `${at}.minAllocatableResources`);
    return {
      name: o.name, task, taskSeconds: duration(o.taskSeconds, `${at}.taskSeconds`), tasks: integer(o.tasks, `${at}.tasks`, 0, 1e12),
      weight: o.weight === undefined ? 1 : number(o.weight, `${at}.weight`, 0, false),
      startSeconds: o.startSeconds === undefined ? 0 : number(o.startSeconds, `${at}.startSeconds`, 0, true),
      minAllocatableResources: min === 'task' ? [task] : min ?? DEFAULT_MIN_ALLOCATABLE,
    };
  });
  const seconds = number(top.seconds, 'scenario.seconds', 0, false);
  if (seconds > 1e7) throw new ScenarioError(`scenario.seconds: at most 10000000, got ${seconds}`);
  const interval = top.allocationIntervalSeconds === undefined ? 1 : number(top.allocationIntervalSeconds, 'scenario.allocationIntervalSeconds', 0, false);
  if (seconds / interval > 1e7) throw new ScenarioError('scenario.allocationIntervalSeconds: more than 10000000 allocation runs');
  const out: Scenario = {
    agents, frameworks, seconds, allocationIntervalSeconds: interval,
    seed: top.seed === undefined ? 1 : integer(top.seed, 'scenario.seed', 0, 2 ** 32 - 1),
    refuseSeconds: top.refuseSeconds === undefined ? 5 : number(top.refuseSeconds, 'scenario.refuseSeconds', 0, true),
  };
  if (top.offerTimeoutSeconds !== undefined) out.offerTimeoutSeconds = number(top.offerTimeoutSeconds, 'scenario.offerTimeoutSeconds', 0, false);
  return out;
}

function object(v: unknown, at: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ScenarioError(`${at}: expected an object, got ${show(v)}`);
  return v as Record<string, unknown>;
}

function array(v: unknown, at: string): unknown[] {
  if (!Array.isArray(v)) throw new ScenarioError(`${at}: expected an array, got ${show(v)}`);
  if (v.length === 0) throw new ScenarioError(`${at}: must not be empty`);
  return v;
}

function unknownKeys(o: Record<string, unknown>, known: Set<string>, at: string): void {
  for (const k of Object.keys(o)) if (!known.has(k)) throw new ScenarioError(`${at}.${k}: unknown field (known: ${[...known].join(', ')})`);
}

function number(v: unknown, at: string, min: number, inclusive: boolean): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || (inclusive ? v < min : v <= min)) {
    throw new ScenarioError(`${at}: expected a number ${inclusive ? '>=' : '>'} ${min}, got ${show(v)}`);
  }
  return v;
}

function integer(v: unknown, at: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new ScenarioError(`${at}: expected an integer from ${min} to ${max}, got ${show(v)}`);
  }
  return v;
}

function duration(v: unknown, at: string): number | [number, number] {
  if (typeof v === 'number') return number(v, at, 0, false);
  if (Array.isArray(v) && v.length === 2) {
    const lo = number(v[0], `${at}[0]`, 0, false);
    const hi = number(v[1], `${at}[1]`, 0, false);
    if (hi < lo) throw new ScenarioError(`${at}: [min, max] with max < min: ${show(v)}`);
    return [lo, hi];
  }
  throw new ScenarioError(`${at}: expected seconds or [min, max], got ${show(v)}`);
}

function resourcesField(v: unknown, at: string): Resources {
  if (typeof v !== 'string') throw new ScenarioError(`${at}: expected resources like "cpus:1;mem:1024", got ${show(v)}`);
  try {
    return parseResources(v);
  } catch (err) {
    const inner = (err as Error).message;
    throw new ScenarioError(inner.startsWith('bad resource') ? `${at}: ${inner}` : `${at}: bad resource "${v}": ${inner}`);
  }
}

function minField(v: unknown, at: string): MinAllocatable | 'task' {
  if (v === 'task') return 'task';
  if (typeof v !== 'string') throw new ScenarioError(`${at}: expected ${MIN_ALLOCATABLE_HELP}, got ${show(v)}`);
  try {
    return parseMinAllocatable(v);
  } catch (err) {
    throw new ScenarioError(`${at}: ${(err as Error).message}`);
  }
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

function fmt(r: Resources): string {
  return `cpus:${r.cpus};mem:${r.mem}`;
}
