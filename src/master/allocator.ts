import type { Clock } from './clock.js';
import { DEFAULT_MIN_ALLOCATABLE, formatMinAllocatable, type MinAllocatable, type Resources } from './resources.js';
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
  /** Whatever was attached in addAgent. */
  readonly owner?: unknown;
}

/** What addFramework returns: hand it back instead of the id to save a lookup. */
export interface FrameworkHandle {
  /** Framework id. */
  readonly id: string;
  /** Whatever was attached in addFramework. */
  readonly owner?: unknown;
}

interface AgentSlot extends AgentHandle {
  id: string;
  owner?: unknown;
  /** Index into the typed arrays; -1 once removed. */
  index: number;
}

interface FrameworkSlot extends FrameworkHandle {
  id: string;
  owner?: unknown;
  /** 1-based number stored in filters (0 means "no filter"). */
  num: number;
  suppressed: boolean;
  /** False while the framework is disconnected (Mesos' deactivated framework). */
  active: boolean;
  /** Its min_allocatable_resources, and the index of that value among the distinct ones in use. */
  min: MinAllocatable;
  minKey: string;
  minIndex: number;
  /** Incremented by revive: filters of an older epoch are void. */
  epoch: number;
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

/** Filter slots kept inline per agent; more live filters on one agent go to an overflow list. */
const K = 8;

const round3 = (x: number): number => Math.round(x * 1000) / 1000;
const DEFAULT_KEY = formatMinAllocatable(DEFAULT_MIN_ALLOCATABLE);

/** An overflow filter (when an agent holds more than K live ones). */
interface ExtraFilter {
  fw: number;
  epoch: number;
  cpus: number;
  mem: number;
  until: number;
}

/**
 * The hierarchical allocator's core, after Mesos: per run, each agent's free resources go to the
 * first framework in sorter order that is active, not suppressed, for which they meet its
 * min_allocatable_resources and that has no refusal filter containing them. Offered resources count
 * as allocated until declined, rescinded or the tasks using them end.
 *
 * Built for runs over tens of thousands of agents: only agents whose free resources some framework
 * could take are visited (O(free agents), not O(agents)); an agent's free resources and its refusal
 * filters live in typed arrays indexed by agent, so a run reads a few contiguous bytes per agent
 * instead of chasing objects, and filters are written in place (no garbage per decline). A filter is
 * void once its framework revives (a new epoch) or leaves, so revive is O(1).
 */
export class Allocator {
  private readonly clock: Clock;
  private readonly sorter: NonNullable<AllocatorOptions['sorter']>;
  private readonly random: () => number;
  private readonly intervalMs: number;
  private readonly defaultRefuse: number;
  private readonly agents = new Map<string, AgentSlot>();
  private readonly frameworks = new Map<string, FrameworkSlot>();
  /** Framework slots by their 1-based number (entries stay after removal, marked removed). */
  private readonly fwByNum: (FrameworkSlot | undefined)[] = [undefined];
  private cap = 0;
  private slots: (AgentSlot | undefined)[] = [];
  private reusable: number[] = [];
  private total = new Float64Array(0);
  private freeRes = new Float64Array(0);
  private freePos = new Int32Array(0);
  private freeList = new Int32Array(0);
  private freeCount = 0;
  private fFw = new Int32Array(0);
  private fEpoch = new Int32Array(0);
  private fUntil = new Float64Array(0);
  private fRes = new Float64Array(0);
  private readonly overflow = new Map<number, ExtraFilter[]>();
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

  /** An agent joined with these total resources; `owner` comes back in each allocation of the agent. */
  addAgent(agentId: string, total: Resources, owner?: unknown): AgentHandle {
    if (this.agents.has(agentId)) throw new Error(`agent ${agentId} already known`);
    const i = this.reusable.pop() ?? this.grow();
    const slot: AgentSlot = { id: agentId, owner, index: i };
    this.slots[i] = slot;
    this.agents.set(agentId, slot);
    this.total[2 * i] = total.cpus;
    this.total[2 * i + 1] = total.mem;
    this.freeRes[2 * i] = total.cpus;
    this.freeRes[2 * i + 1] = total.mem;
    this.freePos[i] = -1;
    this.fFw.fill(0, K * i, K * i + K);
    this.overflow.delete(i);
    this.sorter.addTotal(total);
    this.touch(i);
    return slot;
  }

  /** An agent left; its resources leave the pool. Callers recover its frameworks' allocations first. */
  removeAgent(agentId: string): void {
    const a = this.agents.get(agentId);
    if (!a) return;
    const i = a.index;
    this.agents.delete(agentId);
    this.unfree(i);
    this.sorter.removeTotal({ cpus: this.total[2 * i]!, mem: this.total[2 * i + 1]! });
    this.fFw.fill(0, K * i, K * i + K);
    this.overflow.delete(i);
    this.slots[i] = undefined;
    a.index = -1;
    this.reusable.push(i);
  }

  /** A framework registered (active, not suppressed); `owner` comes back in each allocation to it. */
  addFramework(frameworkId: string, weight = 1, min: MinAllocatable = DEFAULT_MIN_ALLOCATABLE, owner?: unknown): FrameworkHandle {
    if (this.frameworks.has(frameworkId)) throw new Error(`framework ${frameworkId} already known`);
    const f: FrameworkSlot = {
      id: frameworkId, owner, num: this.fwByNum.length, suppressed: false, active: true, min, minKey: formatMinAllocatable(min), minIndex: 0,
      epoch: 0, removed: false,
    };
    this.sorter.add(frameworkId, weight);
    this.frameworks.set(frameworkId, f);
    this.fwByNum.push(f);
    this.sorter.setTag?.(frameworkId, f);
    this.updateMins();
    return f;
  }

  /** A framework left; callers recover its allocations first. Its filters are void from now on. */
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
    const i = this.agentIndex(agent);
    if (!f || i < 0) return false;
    const now = this.clock.now();
    const until = now + Math.max(seconds * 1000, this.intervalMs);
    const base = K * i;
    for (let k = base; k < base + K; k++) {
      if (this.fFw[k] === 0 || !this.liveAt(k, now)) {
        this.fFw[k] = f.num;
        this.fEpoch[k] = f.epoch;
        this.fUntil[k] = until;
        this.fRes[2 * k] = resources.cpus;
        this.fRes[2 * k + 1] = resources.mem;
        return true;
      }
    }
    let extra = this.overflow.get(i);
    if (!extra) this.overflow.set(i, (extra = []));
    else extra.splice(0, extra.length, ...extra.filter((x) => this.liveExtra(x, now)));
    extra.push({ fw: f.num, epoch: f.epoch, cpus: resources.cpus, mem: resources.mem, until });
    return true;
  }

  /** True when a live filter of the framework hides `resources` on the agent. */
  isFiltered(frameworkId: string, agentId: string, resources: Resources): boolean {
    const a = this.agents.get(agentId);
    if (!a) return false;
    return this.filtered(a.index, this.fw(frameworkId), resources.cpus, resources.mem, this.clock.now());
  }

  /** Live filters, for views and tests: `[frameworkId, agentId, resources, until]`. */
  filterList(): [string, string, Resources, number][] {
    const out: [string, string, Resources, number][] = [];
    const now = this.clock.now();
    for (const a of this.agents.values()) {
      const i = a.index;
      for (let k = K * i; k < K * i + K; k++) {
        if (this.fFw[k] !== 0 && this.liveAt(k, now)) {
          out.push([this.fwByNum[this.fFw[k]!]!.id, a.id, { cpus: this.fRes[2 * k]!, mem: this.fRes[2 * k + 1]! }, this.fUntil[k]!]);
        }
      }
      for (const x of this.overflow.get(i) ?? []) {
        if (this.liveExtra(x, now)) out.push([this.fwByNum[x.fw]!.id, a.id, { cpus: x.cpus, mem: x.mem }, x.until]);
      }
    }
    return out;
  }

  /** Resources allocated to a framework come back (declined, rescinded, unused, or a task ended). */
  recover(framework: string | FrameworkHandle, agent: string | AgentHandle, r: Resources): void {
    const f = this.fwSlot(framework);
    if (f) this.sorter.unallocated(f.id, r);
    const i = this.agentIndex(agent);
    if (i < 0) return;
    const fr = this.freeRes;
    const t = this.total;
    fr[2 * i] = Math.min(t[2 * i]!, round3(fr[2 * i]! + r.cpus));
    fr[2 * i + 1] = Math.min(t[2 * i + 1]!, round3(fr[2 * i + 1]! + r.mem));
    this.touch(i);
  }

  /**
   * Charges resources already in use on an agent to a framework (a task adopted when its agent
   * re-registers). Returns false, changing nothing, when the agent has not that much free.
   */
  allocateUsed(frameworkId: string, agentId: string, r: Resources): boolean {
    const a = this.agents.get(agentId);
    if (!a || !this.frameworks.has(frameworkId)) return false;
    const i = a.index;
    const fr = this.freeRes;
    if (r.cpus > fr[2 * i]! + 1e-9 || r.mem > fr[2 * i + 1]! + 1e-9) return false;
    fr[2 * i] = Math.max(0, round3(fr[2 * i]! - r.cpus));
    fr[2 * i + 1] = Math.max(0, round3(fr[2 * i + 1]! - r.mem));
    this.touch(i);
    this.sorter.allocated(frameworkId, r);
    return true;
  }

  /** Free resources of an agent. */
  available(agentId: string): Resources {
    const a = this.agents.get(agentId);
    return a ? { cpus: this.freeRes[2 * a.index]!, mem: this.freeRes[2 * a.index + 1]! } : { cpus: 0, mem: 0 };
  }

  /** Totals of an agent. */
  totalOf(agentId: string): Resources | undefined {
    const a = this.agents.get(agentId);
    return a ? { cpus: this.total[2 * a.index]!, mem: this.total[2 * a.index + 1]! } : undefined;
  }

  /** Number of agents with free resources that could be offered. */
  get freeAgents(): number {
    if (this.rescan) this.rebuildFree();
    return this.freeCount;
  }

  /** Counts for metrics. */
  stats(): AllocatorStats {
    let suppressed = 0;
    for (const f of this.frameworks.values()) if (f.suppressed) suppressed++;
    const now = this.clock.now();
    let filters = 0;
    for (let k = 0; k < K * this.cap; k++) if (this.fFw[k] !== 0 && this.slots[Math.floor(k / K)] && this.liveAt(k, now)) filters++;
    for (const list of this.overflow.values()) for (const x of list) if (this.liveExtra(x, now)) filters++;
    return { agents: this.agents.size, freeAgents: this.freeAgents, frameworks: this.frameworks.size, suppressed, filters };
  }

  /**
   * One allocation run: decides who gets each free agent's resources, visiting agents in random order.
   * With `each`, every allocation is handed to it as it is made (no list is built) and [] is returned.
   */
  allocate(each?: (framework: FrameworkHandle, agent: AgentHandle, resources: Resources) => void): Allocation[] {
    const out: Allocation[] = [];
    if (this.rescan) this.rebuildFree();
    const n = this.freeCount;
    if (n === 0 || this.frameworks.size === 0) return out;
    const order = this.freeList.slice(0, n);
    for (let j = n - 1; j > 0; j--) {
      const r = Math.floor(this.random() * (j + 1));
      const t = order[j]!;
      order[j] = order[r]!;
      order[r] = t;
    }
    const sorter = this.sorter;
    const sorted = sorter.sortedClients ? () => sorter.sortedClients!() : () => sorter.sort().map((name) => ({ name, tag: undefined }));
    const now = this.clock.now();
    const mins = this.mins;
    const meets = this.meets;
    const single = mins.length === 1;
    const fr = this.freeRes;
    const fFw = this.fFw;
    for (let o = 0; o < n; o++) {
      const i = order[o]!;
      const cpus = fr[2 * i]!;
      const mem = fr[2 * i + 1]!;
      let any: boolean;
      if (single) any = meetsQ(cpus, mem, mins[0]!);
      else {
        any = false;
        for (let m = 0; m < mins.length; m++) any = (meets[m] = meetsQ(cpus, mem, mins[m]!)) || any;
      }
      if (!any) {
        this.unfree(i);
        continue;
      }
      const base = K * i;
      const hasFilters = fFw[base] !== 0 || fFw[base + 1] !== 0 || fFw[base + 2] !== 0 || fFw[base + 3] !== 0
        || fFw[base + 4] !== 0 || fFw[base + 5] !== 0 || fFw[base + 6] !== 0 || fFw[base + 7] !== 0 || this.overflow.size > 0;
      for (const c of sorted()) {
        const f = (c.tag as FrameworkSlot | undefined) ?? this.frameworks.get(c.name);
        if (!f || f.suppressed || !f.active) continue;
        if (!single && !meets[f.minIndex]) continue;
        if (hasFilters && this.filtered(i, f, cpus, mem, now)) continue;
        const avail: Resources = { cpus, mem };
        fr[2 * i] = 0;
        fr[2 * i + 1] = 0;
        this.unfree(i);
        sorter.allocated(f.id, avail);
        const slot = this.slots[i]!;
        if (each) each(f, slot, avail);
        else out.push({ frameworkId: f.id, agentId: slot.id, resources: avail, owner: slot.owner });
        break;
      }
    }
    return out;
  }

  /** True when a live filter of `f` on agent i contains (cpus, mem). */
  private filtered(i: number, f: FrameworkSlot, cpus: number, mem: number, now: number): boolean {
    const fFw = this.fFw;
    const num = f.num;
    for (let k = K * i; k < K * i + K; k++) {
      if (fFw[k] !== num) continue;
      if (now < this.fUntil[k]! && this.fEpoch[k] === f.epoch && cpus <= this.fRes[2 * k]! + 1e-9 && mem <= this.fRes[2 * k + 1]! + 1e-9) return true;
    }
    if (this.overflow.size > 0) {
      for (const x of this.overflow.get(i) ?? []) {
        if (x.fw === num && now < x.until && x.epoch === f.epoch && cpus <= x.cpus + 1e-9 && mem <= x.mem + 1e-9) return true;
      }
    }
    return false;
  }

  /** True while filter slot k hides something: not expired, its framework registered and not revived since. */
  private liveAt(k: number, now: number): boolean {
    const f = this.fwByNum[this.fFw[k]!];
    return f !== undefined && now < this.fUntil[k]! && !f.removed && this.fEpoch[k] === f.epoch;
  }

  private liveExtra(x: ExtraFilter, now: number): boolean {
    const f = this.fwByNum[x.fw];
    return f !== undefined && now < x.until && !f.removed && x.epoch === f.epoch;
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
    for (const a of this.agents.values()) this.touch(a.index);
  }

  /** Puts agent i in the free list, or takes it out, by whether some framework's minimum accepts its free resources. */
  private touch(i: number): void {
    const cpus = this.freeRes[2 * i]!;
    const mem = this.freeRes[2 * i + 1]!;
    let ok = false;
    for (const m of this.mins) if (meetsQ(cpus, mem, m)) ok = true;
    if (!ok) this.unfree(i);
    else if (this.freePos[i]! < 0) {
      this.freePos[i] = this.freeCount;
      this.freeList[this.freeCount++] = i;
    }
  }

  private unfree(i: number): void {
    const p = this.freePos[i]!;
    if (p < 0) return;
    const last = this.freeList[--this.freeCount]!;
    if (last !== i) {
      this.freeList[p] = last;
      this.freePos[last] = p;
    }
    this.freePos[i] = -1;
  }

  /** Adds room for one more agent; returns its index. */
  private grow(): number {
    const i = this.cap;
    if (i >= this.freePos.length) {
      const cap = Math.max(64, this.freePos.length * 2);
      const f64 = (old: Float64Array<ArrayBuffer>, n: number): Float64Array<ArrayBuffer> => {
        const a = new Float64Array(n);
        a.set(old);
        return a;
      };
      const i32 = (old: Int32Array<ArrayBuffer>, n: number): Int32Array<ArrayBuffer> => {
        const a = new Int32Array(n);
        a.set(old);
        return a;
      };
      this.total = f64(this.total, 2 * cap);
      this.freeRes = f64(this.freeRes, 2 * cap);
      this.freePos = i32(this.freePos, cap);
      this.freeList = i32(this.freeList, cap);
      this.fFw = i32(this.fFw, K * cap);
      this.fEpoch = i32(this.fEpoch, K * cap);
      this.fUntil = f64(this.fUntil, K * cap);
      this.fRes = f64(this.fRes, 2 * K * cap);
    }
    this.cap++;
    this.slots.push(undefined);
    return i;
  }

  private agentIndex(agent: string | AgentHandle): number {
    if (typeof agent === 'string') return this.agents.get(agent)?.index ?? -1;
    return (agent as AgentSlot).index;
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
