import { NONE, add, subtract, type Resources } from './resources.js';

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
  alloc: Resources;
  active: boolean;
  share: number;
}

/**
 * Dominant Resource Fairness (Ghodsi et al., NSDI'11): a client's dominant share is the maximum over
 * resources of allocated/total, divided by its weight. Lowest share first; ties by name.
 */
export class DrfSorter implements Sorter {
  private readonly clients = new Map<string, Client>();
  private total: Resources = { ...NONE };
  private order: Client[] = [];
  private stale = false;

  add(client: string, weight = 1): void {
    if (this.clients.has(client)) throw new Error(`client ${client} already in sorter`);
    if (!(weight > 0)) throw new Error(`weight must be > 0, got ${weight}`);
    const c: Client = { name: client, weight, alloc: { ...NONE }, active: true, share: 0 };
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
    if (!(weight > 0)) throw new Error(`weight must be > 0, got ${weight}`);
    const c = this.get(client);
    c.weight = weight;
    this.reposition(c);
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
    this.total = add(this.total, r);
    this.stale = true;
  }

  removeTotal(r: Resources): void {
    this.total = subtract(this.total, r);
    this.stale = true;
  }

  allocated(client: string, r: Resources): void {
    const c = this.get(client);
    c.alloc = add(c.alloc, r);
    this.reposition(c);
  }

  /** Only marks the order stale: resources come back one task at a time between runs, so one sort per run is cheaper. */
  unallocated(client: string, r: Resources): void {
    const c = this.get(client);
    c.alloc = subtract(c.alloc, r);
    this.stale = true;
  }

  allocation(client: string): Resources {
    return { ...this.get(client).alloc };
  }

  share(client: string): number {
    return this.compute(this.get(client));
  }

  sort(): readonly string[] {
    return this.sortedClients().map((c) => c.name);
  }

  /** Active clients in order, without copying names: for the allocator's hot loop. */
  sortedClients(): readonly { readonly name: string }[] {
    if (this.stale) {
      for (const c of this.order) c.share = this.compute(c);
      this.order.sort(cmp);
      this.stale = false;
    }
    return this.order;
  }

  private compute(c: Client): number {
    const cpu = this.total.cpus > 0 ? c.alloc.cpus / this.total.cpus : 0;
    const mem = this.total.mem > 0 ? c.alloc.mem / this.total.mem : 0;
    return Math.max(cpu, mem) / c.weight;
  }

  private get(client: string): Client {
    const c = this.clients.get(client);
    if (!c) throw new Error(`unknown sorter client ${client}`);
    return c;
  }

  private reposition(c: Client): void {
    if (!c.active) return;
    if (this.stale) return;
    this.detach(c);
    this.insert(c);
  }

  private detach(c: Client): void {
    if (!c.active) return;
    const i = this.order.indexOf(c);
    if (i >= 0) this.order.splice(i, 1);
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
