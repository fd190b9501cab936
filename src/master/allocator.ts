import type { Clock } from './clock.js';
import { NONE, add, contains, isAllocatable, subtract, type Resources } from './resources.js';
import { DrfSorter, type Sorter } from './sorter.js';

/** Resources the allocator decided to offer to one framework on one agent. */
export interface Allocation {
  /** Framework that receives the offer. */
  frameworkId: string;
  /** Agent the resources are on. */
  agentId: string;
  /** The agent's free resources at the time of the run. */
  resources: Resources;
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

interface AgentSlot {
  total: Resources;
  allocated: Resources;
  active: boolean;
}

interface FrameworkSlot {
  suppressed: boolean;
  filters: Map<string, { resources: Resources; until: number }>;
}

/**
 * The hierarchical allocator's core, after Mesos: per run, each agent's free resources go to the
 * first framework in sorter order that is not suppressed and has no filter hiding them.
 * Offered resources count as allocated until declined, rescinded or the tasks using them end.
 */
export class Allocator {
  private readonly clock: Clock;
  private readonly sorter: NonNullable<AllocatorOptions['sorter']>;
  private readonly random: () => number;
  private readonly agents = new Map<string, AgentSlot>();
  private readonly frameworks = new Map<string, FrameworkSlot>();
  private readonly free = new Set<string>();

  constructor(opts: AllocatorOptions) {
    this.clock = opts.clock;
    this.sorter = opts.sorter ?? new DrfSorter();
    this.random = opts.random ?? Math.random;
  }

  /** The sorter in use, for shares and order. */
  get order(): Sorter {
    return this.sorter;
  }

  /** An agent joined with these total resources. */
  addAgent(agentId: string, total: Resources): void {
    if (this.agents.has(agentId)) throw new Error(`agent ${agentId} already known`);
    this.agents.set(agentId, { total: { ...total }, allocated: { ...NONE }, active: true });
    this.sorter.addTotal(total);
    this.touch(agentId);
  }

  /** An agent left; its resources leave the pool. Callers recover its frameworks' allocations first. */
  removeAgent(agentId: string): void {
    const a = this.agents.get(agentId);
    if (!a) return;
    this.agents.delete(agentId);
    this.free.delete(agentId);
    this.sorter.removeTotal(a.total);
    for (const f of this.frameworks.values()) f.filters.delete(agentId);
  }

  /** A framework registered. */
  addFramework(frameworkId: string, weight = 1): void {
    this.frameworks.set(frameworkId, { suppressed: false, filters: new Map() });
    this.sorter.add(frameworkId, weight);
  }

  /** A framework left; callers recover its allocations first. */
  removeFramework(frameworkId: string): void {
    this.frameworks.delete(frameworkId);
    this.sorter.remove(frameworkId);
  }

  /** Stops offers to a framework until revive(). */
  suppress(frameworkId: string): void {
    this.fw(frameworkId).suppressed = true;
  }

  /** Resumes offers to a framework and clears its filters, as Mesos' REVIVE does. */
  revive(frameworkId: string): void {
    const f = this.fw(frameworkId);
    f.suppressed = false;
    f.filters.clear();
  }

  /** True when the framework is suppressed. */
  isSuppressed(frameworkId: string): boolean {
    return this.fw(frameworkId).suppressed;
  }

  /** Hides offers on this agent that fit inside `resources`, for `seconds`. */
  addFilter(frameworkId: string, agentId: string, resources: Resources, seconds: number): void {
    if (!(seconds > 0)) return;
    this.fw(frameworkId).filters.set(agentId, { resources: { ...resources }, until: this.clock.now() + seconds * 1000 });
  }

  /** True when a live filter of the framework hides `resources` on the agent. */
  isFiltered(frameworkId: string, agentId: string, resources: Resources): boolean {
    const f = this.fw(frameworkId).filters.get(agentId);
    if (!f) return false;
    if (this.clock.now() >= f.until) {
      this.fw(frameworkId).filters.delete(agentId);
      return false;
    }
    return contains(f.resources, resources);
  }

  /** Resources allocated to a framework come back (declined, rescinded, unused, or a task ended). */
  recover(frameworkId: string, agentId: string, r: Resources): void {
    if (this.frameworks.has(frameworkId)) this.sorter.unallocated(frameworkId, r);
    const a = this.agents.get(agentId);
    if (!a) return;
    a.allocated = subtract(a.allocated, r);
    this.touch(agentId);
  }

  /** Free resources of an agent. */
  available(agentId: string): Resources {
    const a = this.agents.get(agentId);
    return a ? subtract(a.total, a.allocated) : { ...NONE };
  }

  /** Totals of an agent. */
  totalOf(agentId: string): Resources | undefined {
    const a = this.agents.get(agentId);
    return a ? { ...a.total } : undefined;
  }

  /** Number of agents with free resources that could be offered. */
  get freeAgents(): number {
    return this.free.size;
  }

  /** One allocation run: decides who gets each agent's free resources. */
  allocate(): Allocation[] {
    const out: Allocation[] = [];
    if (this.free.size === 0 || this.frameworks.size === 0) return out;
    const ids = [...this.free];
    for (let i = ids.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      const t = ids[i]!;
      ids[i] = ids[j]!;
      ids[j] = t;
    }
    for (const agentId of ids) {
      const a = this.agents.get(agentId)!;
      const avail = subtract(a.total, a.allocated);
      if (!isAllocatable(avail)) {
        this.free.delete(agentId);
        continue;
      }
      const order = this.sorter.sortedClients ? this.sorter.sortedClients() : this.sorter.sort().map((name) => ({ name }));
      for (const { name } of order) {
        const f = this.frameworks.get(name);
        if (!f || f.suppressed || this.isFiltered(name, agentId, avail)) continue;
        a.allocated = add(a.allocated, avail);
        this.free.delete(agentId);
        this.sorter.allocated(name, avail);
        out.push({ frameworkId: name, agentId, resources: avail });
        break;
      }
    }
    return out;
  }

  private touch(agentId: string): void {
    const a = this.agents.get(agentId);
    if (a && isAllocatable(subtract(a.total, a.allocated))) this.free.add(agentId);
    else this.free.delete(agentId);
  }

  private fw(frameworkId: string): FrameworkSlot {
    const f = this.frameworks.get(frameworkId);
    if (!f) throw new Error(`unknown framework ${frameworkId}`);
    return f;
  }
}
