import type { Clock } from './clock.js';
import { NONE, contains, isAllocatable, type Resources } from './resources.js';
import { DrfSorter, type Sorter } from './sorter.js';

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
  sorter?: Sorter & { sortedClients?(): readonly { readonly name: string }[] };
  /** Random source for the agent order of each run; Math.random when omitted. */
  random?: () => number;
}

/** An agent in the allocator; free resources are kept as plain numbers on the slot (one object per agent to touch). */
interface AgentSlot {
  id: string;
  total: Resources;
  freeCpus: number;
  freeMem: number;
  /** Decline filters on this agent, one per framework at most: kept with the agent, so a run checks them in cache. */
  filters: Filter[];
  owner?: unknown;
  /** Position in the allocator's free list, -1 when not in it. */
  freeIndex: number;
}

/** A decline filter, after Mesos' RefusedOfferFilter: hides resources contained in `resources` until `until`. */
interface Filter {
  framework: FrameworkSlot;
  resources: Resources;
  until: number;
}

interface FrameworkSlot {
  id: string;
  suppressed: boolean;
  /** Agents holding a filter of this framework (for revive and removal). */
  filtered: Set<AgentSlot>;
}

/** Allocator counters, for metrics. */
export interface AllocatorStats {
  /** Agents known. */
  agents: number;
  /** Agents with allocatable free resources. */
  freeAgents: number;
  /** Frameworks known. */
  frameworks: number;
  /** Suppressed frameworks. */
  suppressed: number;
  /** Decline filters held (live or not yet seen expired). */
  filters: number;
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** isAllocatable() without building a Resources object. */
const allocatable = (cpus: number, mem: number): boolean => isAllocatable({ cpus, mem });

/**
 * The hierarchical allocator's core, after Mesos: per run, each agent's free resources go to the
 * first framework in sorter order that is not suppressed and has no filter hiding them.
 * Offered resources count as allocated until declined, rescinded or the tasks using them end.
 * Only agents with free resources are visited, so a run costs O(free agents), not O(agents).
 */
export class Allocator {
  private readonly clock: Clock;
  private readonly sorter: NonNullable<AllocatorOptions['sorter']>;
  private readonly random: () => number;
  private readonly agents = new Map<string, AgentSlot>();
  private readonly frameworks = new Map<string, FrameworkSlot>();
  /** Agents with allocatable free resources; an array with indexes on the slots, so removal is a swap. */
  private readonly free: AgentSlot[] = [];
  private filterCount = 0;

  constructor(opts: AllocatorOptions) {
    this.clock = opts.clock;
    this.sorter = opts.sorter ?? new DrfSorter();
    this.random = opts.random ?? Math.random;
  }

  /** The sorter in use, for shares and order. */
  get order(): Sorter {
    return this.sorter;
  }

  /** An agent joined with these total resources; `owner` comes back in each Allocation of the agent. */
  addAgent(agentId: string, total: Resources, owner?: unknown): void {
    if (this.agents.has(agentId)) throw new Error(`agent ${agentId} already known`);
    const slot: AgentSlot = { id: agentId, total: { ...total }, freeCpus: total.cpus, freeMem: total.mem, filters: [], owner, freeIndex: -1 };
    this.agents.set(agentId, slot);
    this.sorter.addTotal(total);
    this.touch(slot);
  }

  /** An agent left; its resources leave the pool. Callers recover its frameworks' allocations first. */
  removeAgent(agentId: string): void {
    const a = this.agents.get(agentId);
    if (!a) return;
    this.agents.delete(agentId);
    this.unfree(a);
    this.sorter.removeTotal(a.total);
    for (const filter of a.filters) filter.framework.filtered.delete(a);
    this.filterCount -= a.filters.length;
    a.filters = [];
  }

  /** A framework registered. */
  addFramework(frameworkId: string, weight = 1): void {
    if (this.frameworks.has(frameworkId)) throw new Error(`framework ${frameworkId} already known`);
    this.frameworks.set(frameworkId, { id: frameworkId, suppressed: false, filtered: new Set() });
    this.sorter.add(frameworkId, weight);
  }

  /** A framework left; callers recover its allocations first. */
  removeFramework(frameworkId: string): void {
    const f = this.frameworks.get(frameworkId);
    if (!f) return;
    this.clearFilters(f);
    this.frameworks.delete(frameworkId);
    this.sorter.remove(frameworkId);
  }

  /** Stops offers to a framework until revive(); it leaves the sorter's order, so runs skip it at no cost. */
  suppress(frameworkId: string): void {
    const f = this.fw(frameworkId);
    if (f.suppressed) return;
    f.suppressed = true;
    this.sorter.deactivate(frameworkId);
  }

  /** Resumes offers to a framework and clears its filters, as Mesos' REVIVE does. */
  revive(frameworkId: string): void {
    const f = this.fw(frameworkId);
    this.clearFilters(f);
    if (!f.suppressed) return;
    f.suppressed = false;
    this.sorter.activate(frameworkId);
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

  /**
   * Hides offers on this agent whose resources fit inside `resources`, for `seconds`. As in Mesos,
   * a later offer with more (e.g. after a task on the agent ended) is not hidden.
   */
  addFilter(frameworkId: string, agentId: string, resources: Resources, seconds: number): void {
    if (!(seconds > 0)) return;
    const f = this.fw(frameworkId);
    const a = this.agents.get(agentId);
    if (!a) return;
    const until = this.clock.now() + seconds * 1000;
    for (const filter of a.filters) {
      if (filter.framework !== f) continue;
      filter.resources = { ...resources };
      filter.until = until;
      return;
    }
    a.filters.push({ framework: f, resources: { ...resources }, until });
    f.filtered.add(a);
    this.filterCount++;
  }

  /** True when a live filter of the framework hides `resources` on the agent; expired filters are dropped. */
  isFiltered(frameworkId: string, agentId: string, resources: Resources): boolean {
    const a = this.agents.get(agentId);
    if (!a) return false;
    this.dropExpired(a, this.clock.now());
    return this.filtered(a, this.fw(frameworkId), resources);
  }

  /** Resources allocated to a framework come back (declined, rescinded, unused, or a task ended). */
  recover(frameworkId: string, agentId: string, r: Resources): void {
    if (this.frameworks.has(frameworkId)) this.sorter.unallocated(frameworkId, r);
    const a = this.agents.get(agentId);
    if (!a) return;
    a.freeCpus = Math.min(a.total.cpus, round3(a.freeCpus + r.cpus));
    a.freeMem = Math.min(a.total.mem, round3(a.freeMem + r.mem));
    this.touch(a);
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
    return this.free.length;
  }

  /** Counts for metrics. */
  stats(): AllocatorStats {
    let suppressed = 0;
    for (const f of this.frameworks.values()) if (f.suppressed) suppressed++;
    return { agents: this.agents.size, freeAgents: this.free.length, frameworks: this.frameworks.size, suppressed, filters: this.filterCount };
  }

  /** One allocation run: decides who gets each free agent's resources, visiting agents in random order. */
  allocate(): Allocation[] {
    const out: Allocation[] = [];
    if (this.free.length === 0 || this.frameworks.size === 0) return out;
    const slots = this.free.slice();
    for (let i = slots.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      const t = slots[i]!;
      slots[i] = slots[j]!;
      slots[j] = t;
    }
    const sorted = this.sorter.sortedClients ? () => this.sorter.sortedClients!() : () => this.sorter.sort().map((name) => ({ name }));
    const now = this.clock.now();
    for (const a of slots) {
      if (!allocatable(a.freeCpus, a.freeMem)) {
        this.unfree(a);
        continue;
      }
      const avail: Resources = { cpus: a.freeCpus, mem: a.freeMem };
      if (a.filters.length > 0) this.dropExpired(a, now);
      for (const { name } of sorted()) {
        const f = this.frameworks.get(name);
        if (!f || f.suppressed) continue;
        if (a.filters.length > 0 && this.filtered(a, f, avail)) continue;
        a.freeCpus = 0;
        a.freeMem = 0;
        this.unfree(a);
        this.sorter.allocated(name, avail);
        out.push({ frameworkId: name, agentId: a.id, resources: avail, owner: a.owner });
        break;
      }
    }
    return out;
  }

  /** True when a (live) filter of `f` on agent `a` contains `resources`. */
  private filtered(a: AgentSlot, f: FrameworkSlot, resources: Resources): boolean {
    for (const filter of a.filters) if (filter.framework === f) return contains(filter.resources, resources);
    return false;
  }

  private dropExpired(a: AgentSlot, now: number): void {
    const list = a.filters;
    let j = 0;
    for (let i = 0; i < list.length; i++) {
      const filter = list[i]!;
      if (now >= filter.until) {
        filter.framework.filtered.delete(a);
        this.filterCount--;
      } else list[j++] = filter;
    }
    list.length = j;
  }

  private clearFilters(f: FrameworkSlot): void {
    for (const a of f.filtered) {
      const before = a.filters.length;
      a.filters = a.filters.filter((x) => x.framework !== f);
      this.filterCount -= before - a.filters.length;
    }
    f.filtered.clear();
  }

  private touch(a: AgentSlot): void {
    if (!allocatable(a.freeCpus, a.freeMem)) this.unfree(a);
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

  private fw(frameworkId: string): FrameworkSlot {
    const f = this.frameworks.get(frameworkId);
    if (!f) throw new Error(`unknown framework ${frameworkId}`);
    return f;
  }
}
