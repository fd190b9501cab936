import { describe, expect, it } from 'vitest';
import { TASK_STATES, TRANSITIONS, canTransition, isTerminal } from './task-state.js';

describe('task states', () => {
  it('has exactly four terminal states', () => {
    expect(TASK_STATES.filter(isTerminal)).toEqual(['finished', 'failed', 'killed', 'lost']);
  });

  it('never leaves a terminal state', () => {
    for (const s of TASK_STATES.filter(isTerminal)) {
      for (const t of TASK_STATES) expect(canTransition(s, t)).toBe(false);
    }
  });

  it('only moves forward', () => {
    const rank = (s: string) => TASK_STATES.indexOf(s as never);
    for (const [from, tos] of Object.entries(TRANSITIONS)) {
      for (const to of tos) expect(Math.min(rank(to), 3)).toBeGreaterThan(Math.min(rank(from), 3) - (isTerminal(to) ? 99 : 0));
    }
    expect(canTransition('running', 'starting')).toBe(false);
    expect(canTransition('staging', 'running')).toBe(true);
    expect(canTransition('running', 'lost')).toBe(true);
  });
});
