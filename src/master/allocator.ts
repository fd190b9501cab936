import type { Clock } from './clock.js';
import { DEFAULT_MIN_ALLOCATABLE, NONE, formatMinAllocatable, type MinAllocatable, type Resources } from './resources.js';
import { DrfSorter, type SortedClient, type Sorter } from './sorter.js';

/** Resources the allocator decided to offer to one framework on one agent. */
export interface Allocation {
  /** Framework that receives the offer. */
  frameworkId: string;
  /** Agent the resources are on. */
  agentId: string;
  /** The agent's free resources at the time of the run. */
  resources: Resources;
  /** Whatever the caller attached to the agent in addAgent (saves it a lookup per offer). */
  owner?: unknown;
}

/** How the allocator is built. */
export interface AllocatorOptions {
  /** Time source for filters. */
  clock: Clock;
  /** Order of frameworks; DRF when omitted. */
  sorter?: Sorter & { sortedClients?(): readonly SortedClient[]; setTag?(client: string, tag: unknown): void };
  /** Random source for the agent order of each run; Math.random when omitted. */
  random?: () => number;
  /** Period of allocation runs (ms): a filter lasts at least this long. Default 1000. */
  allocationIntervalMs?: number;
  /** Refuse time of a filter given a negative, non-numeric or missing value (s). Default 5, as in Mesos. */
  defaultRefuseSeconds?: number;
}

/** Longest filter, as Mesos caps refuse_seconds: 365 days (s). */
export const MAX_REFUSE_SECONDS = 365 * 24 * 3600;

/** What addAgent returns: hand it back instead of the id to save a lookup (it stays valid, inert, after removal). */
export interface AgentHandle {
  /** Agent id. */
  readonly id: string;
}

/** What addFramework returns: hand it back instead of the id to save a lookup. */
export interface FrameworkHandle {
  /** Framework id. */
  readonly id: string;
}

/** An agent in the allocator; free resources are kept as plain numbers on the slot (one object per agent to touch). */
interface AgentSlot extends AgentHandle {
  id: string;
  removed: boolean;
  total: Resources;
  freeCpus: number;
  freeMem: number;
  /**
   * Refusal filters on this agent, of any framework, as parallel arrays (so a run scans a short list
   * of pointers, not objects): filterFw[i] is the framework of filter i; filterNum[4i..4i+3] hold its
   * epoch, cpus, mem and expiry. Dead entries (expired, revived, framework gone) are reused.
   */
  filterFw: FrameworkSlot[];
  filterNum: number[];
  owner?: unknown;
  /** Position in the allocator's free list, -1 when not in it. */
  freeIndex: number;
}

// A refusal filter, after Mesos' RefusedOfferFilter, hides resources contained in (cpus, mem) from its
// framework until its expiry. It is void once its framework revives (a new epoch) or leaves; void
// entries are reused lazily, so revive costs O(1) whatever the number of filters.
const F_EPOCH = 0;
const F_CPUS = 1;
const F_MEM = 2;
const F_UNTIL = 3;

interface FrameworkSlot extends FrameworkHandle {
  id: string;
  owner?: unknown;
  suppressed: boolean;
  /** False while the framework is disconnected (Mesos' deactivated framework). */
  active: boolean;
  /** Its min_allocatable_resources, and the index of that value among the distinct ones in use. */
  min: MinAllocatable;
  minKey: string;
  minIndex: number;
  /** Incremented by revive: filters of an older epoch are void. */
  epoch: number;
  /** Set when the framework leaves: its filters are void. */
  removed: boolean;
}

/** Allocator counters, for metrics. */
export interface AllocatorStats {
  /** Agents known. */
  agents: number;
  /** Agents with free resources some framework could be offered. */
  freeAgents: number;
  /** Frameworks known. */
  frameworks: number;
  /** Suppressed frameworks. */
  suppressed: number;
  /** Live refusal filters. */
  filters: number;
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;
const DEFAULT_KEY = formatMinAllocatable(DEFAULT_MIN_ALLOCATABLE);

/**
 * The hierarchical allocator's core, after Mesos: per run, each agent's free resources go to the
 * first framework in sorter order that is active, not suppressed, for which they meet its
 * min_allocatable_resources and that has no refusal filter containing them.
 * Offered resources count as allocated until declined, rescinded or the tasks using them end.
 * Only agents whose free resources some framework could take are visited, so a run costs
 * O(free agents), not O(agents).
 */
export class Allocator {
  private readonly clock: Clock;
  private readonly sorter: NonNullable<AllocatorOptions['sorter']>;
  private readonly random: () => number;
  private readonly intervalMs: number;
  private readonly defaultRefuse: number;
  private readonly agents = new Map<string, AgentSlot>();
  private readonly frameworks = new Map<string, FrameworkSlot>();
  /** Agents with free resources that meet some framework's minimum; an array with indexes on the slots, so removal is a swap. */
  private readonly free: AgentSlot[] = [];
  /** The distinct min_allocatable values of the registered frameworks (DEFAULT when there are none). */
  private mins: MinAllocatable[] = [DEFAULT_MIN_ALLOCATABLE];
  private minKeys: string[] = [DEFAULT_KEY];
  /** Set when `mins` changed: the free list is rebuilt from every agent at the next run. */
  private rescan = false;
  /** Scratch: per distinct minimum, whether the current agent's free resources meet it. */
  private meets: boolean[] = [true];

  constructor(opts: AllocatorOptions) {
    this.clock = opts.clock;
    this.sorter = opts.sorter ?? new DrfSorter();
    this.random = opts.random ?? Math.random;
    this.intervalMs = opts.allocationIntervalMs ?? 1000;
    this.defaultRefuse = opts.defaultRefuseSeconds ?? 5;
  }

  /** The sorter in use, for shares and order. */
  get order(): Sorter {
    return this.sorter;
  }

  /** An agent joined with these total resources; `owner` comes back in each Allocation of the agent. */
  addAgent(agentId: string, total: Resources, owner?: unknown): AgentHandle {
    if (this.agents.has(agentId)) throw new Error(`agent ${agentId} already known`);
    const slot: AgentSlot = {
      id: agentId, removed: false, total: { cpus: total.cpus, mem: total.mem }, freeCpus: total.cpus, freeMem: total.mem,
      filterFw: [], filterNum: [], owner, freeIndex: -1,
    };
    this.agents.set(agentId, slot);
    this.sorter.addTotal(total);
    this.touch(slot);
    return slot;
  }

  /** An agent left; its resources leave the pool. Callers recover its frameworks' allocations first. */
  removeAgent(agentId: string): void {
    const a = this.agents.get(agentId);
    if (!a) return;
    this.agents.delete(agentId);
    a.removed = true;
    this.unfree(a);
    this.sorter.removeTotal(a.total);
    a.filterFw = [];
    a.filterNum = [];
  }

  /** A framework registered (active, not suppressed); `owner` comes back in each allocation to it. */
  addFramework(frameworkId: string, weight = 1, min: MinAllocatable = DEFAULT_MIN_ALLOCATABLE, owner?: unknown): FrameworkHandle {
    if (this.frameworks.has(frameworkId)) throw new Error(`framework ${frameworkId} already known`);
    const f: FrameworkSlot = {
      id: frameworkId, owner, suppressed: false, active: true, min, minKey: formatMinAllocatable(min), minIndex: 0, epoch: 0, removed: false,
    };
    this.sorter.add(frameworkId, weight);
    this.frameworks.set(frameworkId, f);
    this.sorter.setTag?.(frameworkId, f);
    this.updateMins();
    return f;
  }

  /** A framework left; callers recover its allocations first. */
  removeFramework(frameworkId: string): void {
    const f = this.frameworks.get(frameworkId);
    if (!f) return;
    f.removed = true;
    this.frameworks.delete(frameworkId);
    this.sorter.remove(frameworkId);
    this.updateMins();
  }

  /** True when the allocator knows the framework. */
  hasFramework(frameworkId: string): boolean {
    return this.frameworks.has(frameworkId);
  }

  /** Changes a framework's min_allocatable_resources. */
  setMinAllocatable(frameworkId: string, min: MinAllocatable): void {
    const f = this.fw(frameworkId);
    f.min = min;
    f.minKey = formatMinAllocatable(min);
    this.updateMins();
  }

  /** A framework's min_allocatable_resources. */
  minAllocatable(frameworkId: string): MinAllocatable {
    return this.fw(frameworkId).min;
  }

  /** Stops offers to a framework until revive(); it leaves the sorter's order, so runs skip it at no cost. */
  suppress(frameworkId: string): void {
    const f = this.fw(frameworkId);
    if (f.suppressed) return;
    f.suppressed = true;
    if (f.active) this.sorter.deactivate(frameworkId);
  }

  /** Resumes offers to a framework and clears its filters, as Mesos' REVIVE does. */
  revive(frameworkId: string): void {
    const f = this.fw(frameworkId);
    f.epoch++;
    if (!f.suppressed) return;
    f.suppressed = false;
    if (f.active) this.sorter.activate(frameworkId);
  }

  /** A disconnected framework gets no offers until activated again; its allocation stays. */
  deactivate(frameworkId: string): void {
    const f = this.fw(frameworkId);
    if (!f.active) return;
    f.active = false;
    if (!f.suppressed) this.sorter.deactivate(frameworkId);
  }

  /** A framework (re)connected. */
  activate(frameworkId: string): void {
    const f = this.fw(frameworkId);
    if (f.active) return;
    f.active = true;
    if (!f.suppressed) this.sorter.activate(frameworkId);
  }

  /** True when the framework is suppressed. */
  isSuppressed(frameworkId: string): boolean {
    return this.fw(frameworkId).suppressed;
  }

  /** Changes a framework's weight (weighted DRF). */
  setWeight(frameworkId: string, weight: number): void {
    this.fw(frameworkId);
    this.sorter.setWeight(frameworkId, weight);
  }

  /** The filter length Mesos would use for a refuse_seconds value (s): default, 0, or capped. */
  refuseSeconds(requested: number | undefined): number {
    if (requested === undefined || typeof requested !== 'number' || Number.isNaN(requested) || requested < 0) return this.defaultRefuse;
    return Math.min(requested, MAX_REFUSE_SECONDS);
  }

  /**
   * Hides offers on this agent whose resources are contained in `resources` from the framework, for
   * refuseSeconds (Mesos' semantics: see refuseSeconds(); 0 adds no filter). The filter lasts at least
   * one allocation interval. Every filter is kept until it expires: a later one does not replace it.
   * Returns true when a filter was added.
   */
  addFilter(framework: string | FrameworkHandle, agent: string | AgentHandle, resources: Resources, refuseSeconds?: number): boolean {
    const seconds = this.refuseSeconds(refuseSeconds);
    if (seconds === 0) return false;
    const f = this.fwSlot(framework);
    const a = this.agentSlot(agent);
    if (!f || !a) return false;
    const now = this.clock.now();
    const until = now + Math.max(seconds * 1000, this.intervalMs);
    const fws = a.filterFw;
    const num = a.filterNum;
    let i = 0;
    while (i < fws.length && live(fws[i]!, num, i, now)) i++;
    fws[i] = f;
    const k = 4 * i;
    num[k + F_EPOCH] = f.epoch;
    num[k + F_CPUS] = resources.cpus;
    num[k + F_MEM] = resources.mem;
    num[k + F_UNTIL] = until;
    return true;
  }

  /** True when a live filter of the framework hides `resources` on the agent; expired filters are dropped. */
  isFiltered(frameworkId: string, agentId: string, resources: Resources): boolean {
    const a = this.agents.get(agentId);
    if (!a) return false;
    return this.filtered(a, this.fw(frameworkId), resources.cpus, resources.mem, this.clock.now());
  }

  /** Live filters per (framework, agent), for views and tests: `[frameworkId, agentId, resources, until]`. */
  filterList(): [string, string, Resources, number][] {
    const out: [string, string, Resources, number][] = [];
    const now = this.clock.now();
    for (const a of this.agents.values()) {
      const n = a.filterNum;
      a.filterFw.forEach((f, i) => {
        if (live(f, n, i, now)) out.push([f.id, a.id, { cpus: n[4 * i + F_CPUS]!, mem: n[4 * i + F_MEM]! }, n[4 * i + F_UNTIL]!]);
      });
    }
    return out;
  }

  /** Resources allocated to a framework come back (declined, rescinded, unused, or a task ended). */
  recover(framework: string | FrameworkHandle, agent: string | AgentHandle, r: Resources): void {
    const f = this.fwSlot(framework);
    if (f) this.sorter.unallocated(f.id, r);
    const a = this.agentSlot(agent);
    if (!a) return;
    a.freeCpus = Math.min(a.total.cpus, round3(a.freeCpus + r.cpus));
    a.freeMem = Math.min(a.total.mem, round3(a.freeMem + r.mem));
    this.touch(a);
  }

  /**
   * Charges resources already in use on an agent to a framework (a task adopted when its agent
   * re-registers). Returns false, changing nothing, when the agent has not that much free.
   */
  allocateUsed(frameworkId: string, agentId: string, r: Resources): boolean {
    const a = this.agents.get(agentId);
    if (!a || !this.frameworks.has(frameworkId)) return false;
    if (r.cpus > a.freeCpus + 1e-9 || r.mem > a.freeMem + 1e-9) return false;
    a.freeCpus = Math.max(0, round3(a.freeCpus - r.cpus));
    a.freeMem = Math.max(0, round3(a.freeMem - r.mem));
    this.touch(a);
    this.sorter.allocated(frameworkId, r);
    return true;
  }

  /** Free resources of an agent. */
  available(agentId: string): Resources {
    const a = this.agents.get(agentId);
    return a ? { cpus: a.freeCpus, mem: a.freeMem } : { ...NONE };
  }

  /** Totals of an agent. */
  totalOf(agentId: string): Resources | undefined {
    const a = this.agents.get(agentId);
    return a ? { ...a.total } : undefined;
  }

  /** Number of agents with free resources that could be offered. */
  get freeAgents(): number {
    if (this.rescan) this.rebuildFree();
    return this.free.length;
  }

  /** Counts for metrics. */
  stats(): AllocatorStats {
    let suppressed = 0;
    for (const f of this.frameworks.values()) if (f.suppressed) suppressed++;
    let filters = 0;
    const now = this.clock.now();
    for (const a of this.agents.values()) for (let i = 0; i < a.filterFw.length; i++) if (live(a.filterFw[i]!, a.filterNum, i, now)) filters++;
    return { agents: this.agents.size, freeAgents: this.freeAgents, frameworks: this.frameworks.size, suppressed, filters };
  }

  /**
   * One allocation run: decides who gets each free agent's resources, visiting agents in random order.
   * With `each`, every allocation is handed to it as it is made (no list is built) and [] is returned.
   */
  allocate(each?: (framework: { readonly id: string; readonly owner?: unknown }, agent: { readonly id: string; readonly owner?: unknown }, resources: Resources) => void): Allocation[] {
    const out: Allocation[] = [];
    if (this.rescan) this.rebuildFree();
    if (this.free.length === 0 || this.frameworks.size === 0) return out;
    const slots = this.free.slice();
    for (let i = slots.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      const t = slots[i]!;
      slots[i] = slots[j]!;
      slots[j] = t;
    }
    const sorter = this.sorter;
    const sorted = sorter.sortedClients ? () => sorter.sortedClients!() : () => sorter.sort().map((name) => ({ name, tag: undefined }));
    const now = this.clock.now();
    const mins = this.mins;
    const meets = this.meets;
    const single = mins.length === 1;
    for (const a of slots) {
      const cpus = a.freeCpus;
      const mem = a.freeMem;
      let any: boolean;
      if (single) any = meetsQ(cpus, mem, mins[0]!);
      else {
        any = false;
        for (let i = 0; i < mins.length; i++) any = (meets[i] = meetsQ(cpus, mem, mins[i]!)) || any;
      }
      if (!any) {
        this.unfree(a);
        continue;
      }
      const hasFilters = a.filterFw.length > 0;
      for (const c of sorted()) {
        const name = c.name;
        const f = (c.tag as FrameworkSlot | undefined) ?? this.frameworks.get(name);
        if (!f || f.suppressed || !f.active) continue;
        if (!single && !meets[f.minIndex]) continue;
        if (hasFilters && this.filtered(a, f, cpus, mem, now)) continue;
        const avail: Resources = { cpus, mem };
        a.freeCpus = 0;
        a.freeMem = 0;
        this.unfree(a);
        sorter.allocated(name, avail);
        if (each) each(f, a, avail);
        else out.push({ frameworkId: name, agentId: a.id, resources: avail, owner: a.owner });
        break;
      }
    }
    return out;
  }

  /** True when a live filter of `f` on agent `a` contains (cpus, mem). */
  private filtered(a: AgentSlot, f: FrameworkSlot, cpus: number, mem: number, now: number): boolean {
    const fws = a.filterFw;
    for (let i = 0; i < fws.length; i++) {
      if (fws[i] !== f) continue;
      const n = a.filterNum;
      const k = 4 * i;
      if (now < n[k + F_UNTIL]! && n[k + F_EPOCH] === f.epoch && cpus <= n[k + F_CPUS]! + 1e-9 && mem <= n[k + F_MEM]! + 1e-9) return true;
    }
    return false;
  }

  /** Recomputes the distinct minimums of the registered frameworks. */
  private updateMins(): void {
    const keys: string[] = [];
    const mins: MinAllocatable[] = [];
    for (const f of this.frameworks.values()) {
      let i = keys.indexOf(f.minKey);
      if (i < 0) {
        i = keys.length;
        keys.push(f.minKey);
        mins.push(f.min);
      }
      f.minIndex = i;
    }
    if (mins.length === 0) {
      keys.push(DEFAULT_KEY);
      mins.push(DEFAULT_MIN_ALLOCATABLE);
    }
    const same = keys.length === this.minKeys.length && keys.every((k, i) => k === this.minKeys[i]);
    this.mins = mins;
    this.minKeys = keys;
    this.meets = mins.map(() => true);
    if (!same) this.rescan = true;
  }

  private rebuildFree(): void {
    this.rescan = false;
    for (const a of this.agents.values()) this.touch(a);
  }

  /** Puts the agent in the free list, or takes it out, by whether some framework's minimum accepts its free resources. */
  private touch(a: AgentSlot): void {
    let ok = false;
    for (const m of this.mins) if (meetsQ(a.freeCpus, a.freeMem, m)) ok = true;
    if (!ok) this.unfree(a);
    else if (a.freeIndex < 0) {
      a.freeIndex = this.free.length;
      this.free.push(a);
    }
  }

  private unfree(a: AgentSlot): void {
    const i = a.freeIndex;
    if (i < 0) return;
    const last = this.free.pop()!;
    if (last !== a) {
      this.free[i] = last;
      last.freeIndex = i;
    }
    a.freeIndex = -1;
  }

  private agentSlot(agent: string | AgentHandle): AgentSlot | undefined {
    if (typeof agent === 'string') return this.agents.get(agent);
    const a = agent as AgentSlot;
    return a.removed ? undefined : a;
  }

  private fwSlot(framework: string | FrameworkHandle): FrameworkSlot | undefined {
    if (typeof framework === 'string') return this.frameworks.get(framework);
    const f = framework as FrameworkSlot;
    return f.removed ? undefined : f;
  }

  private fw(frameworkId: string): FrameworkSlot {
    const f = this.frameworks.get(frameworkId);
    if (!f) throw new Error(`unknown framework ${frameworkId}`);
    return f;
  }
}

/** meetsMinimum() on plain numbers. */
function meetsQ(cpus: number, mem: number, min: MinAllocatable): boolean {
  if (!(cpus > 0 || mem > 0)) return false;
  if (min.length === 0) return true;
  for (const q of min) if (cpus + 1e-9 >= q.cpus && mem + 1e-9 >= q.mem) return true;
  return false;
}

/** True while filter i (of framework f, numbers in n) hides something: not expired, f registered and not revived since. */
function live(f: FrameworkSlot, n: readonly number[], i: number, now: number): boolean {
  return now < n[4 * i + F_UNTIL]! && !f.removed && n[4 * i + F_EPOCH] === f.epoch;
}
