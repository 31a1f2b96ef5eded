import { describe, expect, it } from 'vitest';
import { InstantSeq } from '../../src/records/instant-seq.js';

describe('InstantSeq', () => {
  it('ranks points at one instant 0, 1, 2 in order; a new instant starts at 0', () => {
    const s = new InstantSeq();
    expect([5, 5, 5, 6, 7, 7].map((t) => s.next(t))).toEqual([0, 1, 2, 0, 0, 1]);
  });

  it('a point out of order that repeats an earlier instant gets the next rank for it, not 0', () => {
    const s = new InstantSeq();
    expect([1, 2, 2, 3, 2, 1, 4, 3].map((t) => s.next(t))).toEqual([0, 0, 1, 0, 2, 1, 0, 1]);
  });

  it('same input, same ranks (a re-import gives the same keys)', () => {
    const times = [10, 10, 12, 11, 10, 12, 13];
    const a = new InstantSeq();
    const b = new InstantSeq();
    expect(times.map((t) => a.next(t))).toEqual(times.map((t) => b.next(t)));
  });
});
