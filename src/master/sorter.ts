import type { Resources } from './resources.js';

/**
 * Decides the order in which clients (frameworks) are offered resources. It knows allocations
 * and the pool's total, nothing about agents, offers or filters: that is the allocator's job.
 */
export interface Sorter {
  /** Adds a client with a weight (default 1); it starts active. */
  add(client: string, weight?: number): void;
  /** Removes a client and its allocation. */
  remove(client: string): void;
  /** Changes a client's weight. */
  setWeight(client: string, weight: number): void;
  /** Includes the client in sort(). */
  activate(client: string): void;
  /** Leaves the client out of sort() but keeps its allocation. */
  deactivate(client: string): void;
  /** Adds resources to the pool (an agent joined). */
  addTotal(r: Resources): void;
  /** Removes resources from the pool (an agent left). */
  removeTotal(r: Resources): void;
  /** Records resources allocated (offered or used) to a client. */
  allocated(client: string, r: Resources): void;
  /** Records resources a client gave back. */
  unallocated(client: string, r: Resources): void;
  /** What the client holds now. */
  allocation(client: string): Resources;
  /** The client's current share, as this sorter defines it. */
  share(client: string): number;
  /** Active clients, the most deserving first. */
  sort(): readonly string[];
}

interface Client {
  name: string;
  weight: number;
  allocCpus: number;
  allocMem: number;
  active: boolean;
  share: number;
  /** Whatever the caller attached with setTag (the allocator's framework record). */
  tag: unknown;
}

/** A sorted client as the allocator's hot loop reads it. */
export interface SortedClient {
  /** Client name. */
  readonly name: string;
  /** What setTag attached. */
  readonly tag: unknown;
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/**
 * Dominant Resource Fairness (Ghodsi et al., NSDI'11): a client's dominant share is the maximum over
 * resources of allocated/total, divided by its weight. Lowest share first; ties by name.
 *
 * Like Mesos' sorter, the order is kept lazily: changes that come in bulk between allocation runs
 * (resources given back, totals changing) only mark it stale, and the next sort() sorts once. An
 * allocation during a run moves only that client, by binary search, and only when its share changed
 * (offering spare memory to a CPU-dominant framework does not change its share).
 */
export class DrfSorter implements Sorter {
  private readonly clients = new Map<string, Client>();
  private totalCpus = 0;
  private totalMem = 0;
  private order: Client[] = [];
  private stale = false;

  add(client: string, weight = 1): void {
    if (this.clients.has(client)) throw new Error(`client ${client} already in sorter`);
    if (!(weight > 0) || !Number.isFinite(weight)) throw new Error(`weight must be a finite number > 0, got ${weight}`);
    const c: Client = { name: client, weight, allocCpus: 0, allocMem: 0, active: true, share: 0, tag: undefined };
    this.clients.set(client, c);
    this.insert(c);
  }

  remove(client: string): void {
    const c = this.clients.get(client);
    if (!c) return;
    this.clients.delete(client);
    this.detach(c);
  }

  setWeight(client: string, weight: number): void {
    if (!(weight > 0) || !Number.isFinite(weight)) throw new Error(`weight must be a finite number > 0, got ${weight}`);
    const c = this.get(client);
    c.weight = weight;
    this.reposition(c);
  }

  /** Attaches a value to a client, returned by sortedClients() (saves the caller a lookup per client). */
  setTag(client: string, tag: unknown): void {
    this.get(client).tag = tag;
  }

  activate(client: string): void {
    const c = this.get(client);
    if (c.active) return;
    c.active = true;
    this.insert(c);
  }

  deactivate(client: string): void {
    const c = this.get(client);
    if (!c.active) return;
    this.detach(c);
    c.active = false;
  }

  addTotal(r: Resources): void {
    this.totalCpus = round3(this.totalCpus + r.cpus);
    this.totalMem = round3(this.totalMem + r.mem);
    this.stale = true;
  }

  removeTotal(r: Resources): void {
    this.totalCpus = Math.max(0, round3(this.totalCpus - r.cpus));
    this.totalMem = Math.max(0, round3(this.totalMem - r.mem));
    this.stale = true;
  }

  allocated(client: string, r: Resources): void {
    const c = this.get(client);
    c.allocCpus = round3(c.allocCpus + r.cpus);
    c.allocMem = round3(c.allocMem + r.mem);
    this.reposition(c);
  }

  /** Only marks the order stale: resources come back one task at a time between runs, so one sort per run is cheaper. */
  unallocated(client: string, r: Resources): void {
    const c = this.get(client);
    c.allocCpus = Math.max(0, round3(c.allocCpus - r.cpus));
    c.allocMem = Math.max(0, round3(c.allocMem - r.mem));
    this.stale = true;
  }

  allocation(client: string): Resources {
    const c = this.get(client);
    return { cpus: c.allocCpus, mem: c.allocMem };
  }

  /** The pool's total. */
  total(): Resources {
    return { cpus: this.totalCpus, mem: this.totalMem };
  }

  share(client: string): number {
    return this.compute(this.get(client));
  }

  sort(): readonly string[] {
    return this.sortedClients().map((c) => c.name);
  }

  /** Active clients in order, without copying: for the allocator's hot loop. Do not keep the array. */
  sortedClients(): readonly SortedClient[] {
    if (this.stale) {
      for (const c of this.order) c.share = this.compute(c);
      this.order.sort(cmp);
      this.stale = false;
    }
    return this.order;
  }

  private compute(c: Client): number {
    const cpu = this.totalCpus > 0 ? c.allocCpus / this.totalCpus : 0;
    const mem = this.totalMem > 0 ? c.allocMem / this.totalMem : 0;
    return Math.max(cpu, mem) / c.weight;
  }

  private get(client: string): Client {
    const c = this.clients.get(client);
    if (!c) throw new Error(`unknown sorter client ${client}`);
    return c;
  }

  private reposition(c: Client): void {
    if (!c.active || this.stale) return;
    const share = this.compute(c);
    if (share === c.share) return;
    this.detach(c);
    this.insert(c);
  }

  private detach(c: Client): void {
    if (!c.active) return;
    const i = this.stale ? this.order.indexOf(c) : this.find(c);
    if (i >= 0) this.order.splice(i, 1);
  }

  /** Index of c in the sorted order (binary search on its recorded share, then a scan among ties). */
  private find(c: Client): number {
    const order = this.order;
    let lo = 0;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cmp(order[mid]!, c) < 0) lo = mid + 1;
      else hi = mid;
    }
    if (order[lo] === c) return lo;
    return order.indexOf(c);
  }

  private insert(c: Client): void {
    c.share = this.compute(c);
    if (this.stale) {
      this.order.push(c);
      return;
    }
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cmp(this.order[mid]!, c) <= 0) lo = mid + 1;
      else hi = mid;
    }
    this.order.splice(lo, 0, c);
  }
}

function cmp(a: Client, b: Client): number {
  if (a.share !== b.share) return a.share - b.share;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
