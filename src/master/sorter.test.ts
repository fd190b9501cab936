import { describe, expect, it } from 'vitest';
import { add, contains, type Resources } from './resources.js';
import { DrfSorter } from './sorter.js';

/** Progressive filling: repeatedly give one task to the lowest-share client whose task still fits. */
function progressiveFill(sorter: DrfSorter, total: Resources, demands: Record<string, Resources>): Record<string, number> {
  let used: Resources = { cpus: 0, mem: 0 };
  const tasks: Record<string, number> = Object.fromEntries(Object.keys(demands).map((k) => [k, 0]));
  for (;;) {
    const next = sorter.sort().find((c) => contains(total, add(used, demands[c]!)));
    if (!next) return tasks;
    sorter.allocated(next, demands[next]!);
    used = add(used, demands[next]!);
    tasks[next]!++;
  }
}

describe('DrfSorter', () => {
  it("reproduces the DRF paper's example: 9 CPUs, 18 GB; A <1 CPU, 4 GB>, B <3 CPU, 1 GB>", () => {
    const s = new DrfSorter();
    s.addTotal({ cpus: 9, mem: 18 * 1024 });
    s.add('A');
    s.add('B');
    const tasks = progressiveFill(s, { cpus: 9, mem: 18 * 1024 }, { A: { cpus: 1, mem: 4096 }, B: { cpus: 3, mem: 1024 } });
    // A: 3 tasks = <3 CPU, 12 GB>: cpu 3/9 = 1/3, mem 12/18 = 2/3 -> dominant share 2/3 (memory)
    // B: 2 tasks = <6 CPU, 2 GB>:  cpu 6/9 = 2/3, mem 2/18 = 1/9 -> dominant share 2/3 (cpu)
    expect(tasks).toEqual({ A: 3, B: 2 });
    expect(s.share('A')).toBeCloseTo(2 / 3, 9);
    expect(s.share('B')).toBeCloseTo(2 / 3, 9);
  });

  it('orders by dominant share, lowest first, ties by name', () => {
    const s = new DrfSorter();
    s.addTotal({ cpus: 10, mem: 1000 });
    s.add('x');
    s.add('y');
    s.add('z');
    s.allocated('x', { cpus: 2, mem: 100 }); // x: max(2/10, 100/1000) = 0.2
    s.allocated('y', { cpus: 1, mem: 300 }); // y: max(0.1, 0.3) = 0.3
    // z: 0
    expect(s.sort()).toEqual(['z', 'x', 'y']);
    s.allocated('z', { cpus: 2, mem: 200 }); // z: 0.2, ties with x -> by name
    expect(s.sort()).toEqual(['x', 'z', 'y']);
    s.unallocated('y', { cpus: 1, mem: 300 }); // y: 0
    expect(s.sort()).toEqual(['y', 'x', 'z']);
  });

  it('divides the share by the weight', () => {
    const s = new DrfSorter();
    s.addTotal({ cpus: 10, mem: 1000 });
    s.add('a', 1);
    s.add('b', 2);
    s.allocated('a', { cpus: 3, mem: 0 }); // a: 0.3 / 1 = 0.3
    s.allocated('b', { cpus: 4, mem: 0 }); // b: 0.4 / 2 = 0.2
    expect(s.share('a')).toBeCloseTo(0.3);
    expect(s.share('b')).toBeCloseTo(0.2);
    expect(s.sort()).toEqual(['b', 'a']);
  });

  it('recomputes every share when the pool changes', () => {
    const s = new DrfSorter();
    s.addTotal({ cpus: 4, mem: 400 });
    s.add('a');
    s.add('b');
    s.allocated('a', { cpus: 2, mem: 0 }); // a: 2/4 = 0.5
    s.allocated('b', { cpus: 0, mem: 100 }); // b: 100/400 = 0.25
    expect(s.sort()).toEqual(['b', 'a']);
    s.addTotal({ cpus: 4, mem: 0 }); // a: 2/8 = 0.25; b: 100/400 = 0.25 -> tie, by name
    expect(s.sort()).toEqual(['a', 'b']);
  });

  it('leaves inactive clients out of the order', () => {
    const s = new DrfSorter();
    s.addTotal({ cpus: 1, mem: 1 });
    s.add('a');
    s.add('b');
    s.deactivate('a');
    expect(s.sort()).toEqual(['b']);
    s.activate('a');
    expect(s.sort()).toEqual(['a', 'b']);
  });
});
