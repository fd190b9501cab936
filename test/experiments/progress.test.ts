import { describe, expect, it } from 'vitest';
import { clock, Progress } from '../../src/experiments/progress.js';

describe('Progress', () => {
  it('prints n of N, elapsed and an ETA corrected by what units of the same kind really took', () => {
    let now = 0;
    const lines: string[] = [];
    const p = new Progress((l) => lines.push(l), () => now);
    p.plan([
      { id: 'a1', kind: 'a', label: 'a one', estimateS: 10 },
      { id: 'a2', kind: 'a', label: 'a two', estimateS: 10 },
      { id: 'b1', kind: 'b', label: 'b one', estimateS: 5 },
    ]);
    expect(p.etaSeconds()).toBe(25);
    p.start('a1');
    expect(lines[0]).toBe('isolab: [1/3] a one · 0:00 elapsed · ETA ~0:25');
    now = 20; // a1 took twice its estimate: a2 is now expected to take 20 s; b, not seen yet, keeps its prior
    p.done('a1');
    expect(p.etaSeconds()).toBe(20 + 5);
    p.start('a2');
    expect(lines[1]).toBe('isolab: [2/3] a two · 0:20 elapsed · ETA ~0:25');
    now = 25;
    expect(p.etaSeconds()).toBe(15 + 5);
    p.done('a2');
    p.drop((u) => u.kind === 'b');
    expect(p.total).toBe(2);
    expect(p.etaSeconds()).toBe(0);
  });

  it('formats clocks', () => {
    expect(clock(0)).toBe('0:00');
    expect(clock(61.4)).toBe('1:01');
    expect(clock(3725)).toBe('1:02:05');
    expect(clock(-3)).toBe('0:00');
  });

  it('refuses a unit it never planned', () => {
    const p = new Progress(() => {});
    expect(() => p.start('nope')).toThrow(/no planned unit/);
  });
});
