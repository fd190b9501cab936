/** One planned piece of work, with a prior estimate of its duration. */
export interface WorkUnit {
  /** Unique id. */
  id: string;
  /** Group whose measured/estimated ratio corrects the other units of the group, e.g. `startup:vm`. */
  kind: string;
  /** What the progress line says while it runs. */
  label: string;
  /** Prior estimate (s). */
  estimateS: number;
}

interface Planned extends WorkUnit {
  state: 'pending' | 'running' | 'done' | 'dropped';
  startedAt?: number;
  tookS?: number;
}

/** Formats seconds as m:ss or h:mm:ss. */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/**
 * Progress of a run on stderr: what is running, n of N, elapsed time and an ETA. The ETA sums the
 * prior estimates of the units left, each scaled by how long units of its kind really took so far
 * (kinds differ too much, a process vs a TCG VM, for one kind's pace to predict another's).
 */
export class Progress {
  private readonly units: Planned[] = [];
  private readonly t0: number;

  constructor(
    private readonly log: (line: string) => void,
    private readonly now: () => number = () => performance.now() / 1000,
  ) {
    this.t0 = now();
  }

  /** Adds units to the plan, in order. */
  plan(units: readonly WorkUnit[]): void {
    for (const u of units) this.units.push({ ...u, state: 'pending' });
  }

  /** Drops the pending units `pred` picks: work that will not happen, e.g. after a failure. */
  drop(pred: (u: WorkUnit) => boolean): void {
    for (const u of this.units) if (u.state === 'pending' && pred(u)) u.state = 'dropped';
  }

  /** Marks a unit as running and prints its line. */
  start(id: string): void {
    const u = this.find(id);
    u.state = 'running';
    u.startedAt = this.now();
    this.log(this.line(u));
  }

  /** Marks a unit as done, recording how long it took. */
  done(id: string): void {
    const u = this.find(id);
    const now = this.now();
    u.tookS = u.startedAt === undefined ? 0 : now - u.startedAt;
    u.state = 'done';
  }

  /** Seconds left by the current estimate. */
  etaSeconds(): number {
    let left = 0;
    const now = this.now();
    for (const u of this.units) {
      if (u.state === 'done' || u.state === 'dropped') continue;
      const r = this.ratio((d) => d.kind === u.kind) ?? 1;
      const est = u.estimateS * r;
      left += u.state === 'running' ? Math.max(0, est - (now - (u.startedAt ?? now))) : est;
    }
    return left;
  }

  /** Number of units planned (dropped ones excluded). */
  get total(): number {
    return this.units.filter((u) => u.state !== 'dropped').length;
  }

  private ratio(pred: (u: Planned) => boolean): number | undefined {
    let est = 0;
    let took = 0;
    for (const u of this.units) {
      if (u.state !== 'done' || !pred(u) || u.estimateS <= 0) continue;
      est += u.estimateS;
      took += u.tookS ?? 0;
    }
    return est > 0 ? took / est : undefined;
  }

  private line(u: Planned): string {
    const live = this.units.filter((x) => x.state !== 'dropped');
    const n = live.indexOf(u) + 1;
    return `isolab: [${n}/${live.length}] ${u.label} · ${clock(this.now() - this.t0)} elapsed · ETA ~${clock(this.etaSeconds())}`;
  }

  private find(id: string): Planned {
    const u = this.units.find((x) => x.id === id);
    if (!u) throw new Error(`no planned unit ${id}`);
    return u;
  }
}
