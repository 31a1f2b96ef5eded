/**
 * StoredWorkouts: a run reads the user's stored workouts once, however many batches of
 * workouts it meets (a lookup by id cannot prune the month partitions), and answers as the
 * per-batch lookup did: another start stored by an older export is replaced, by a newer one kept.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { importSource } from '../../src/import/run-import.js';
import { StoredWorkouts } from '../../src/load/workout-moves.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { hae, stringSource } from '../support/inputs.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase({ migrate: true });
});
afterAll(async () => {
  await db?.drop();
});

/** The pool, counting the queries made through it. */
function counting(pool: pg.Pool): { pool: pg.Pool; count: () => number } {
  let n = 0;
  const proxy = new Proxy(pool, {
    get(target, prop, receiver) {
      if (prop === 'query') return (...args: unknown[]) => ((n++, (target.query as (...a: unknown[]) => unknown)(...args)));
      return Reflect.get(target, prop, receiver);
    },
  });
  return { pool: proxy, count: () => n };
}

describe('StoredWorkouts', () => {
  it('reads once per run and tells replaced from kept by the storing export', async () => {
    const doc = hae({
      workouts: ['A', 'B'].map((id, k) => ({ id, name: 'Walk', start: `2024-03-1${k} 07:00:00 +0000`, end: `2024-03-1${k} 07:30:00 +0000` })),
    });
    const s = await importSource(stringSource(doc, 'HealthAutoExport-2024-03-20.json'), { pool: db.pool, user: 'moves' });
    expect(s.totals.inserted).toBe(2);
    const startOf = (k: number, hour = 7) => Date.parse(`2024-03-1${k}T0${hour}:00:00Z`);
    const asOfStored = Date.parse('2024-03-20T00:00:00Z');
    const { pool, count } = counting(db.pool);
    const w = new StoredWorkouts(pool, s.userId!);

    // A at another start, B at its own, C unknown; this export newer than the stored one.
    const later = await w.moves(new Map([['A', startOf(0, 8)], ['B', startOf(1)], ['C', startOf(2)]]), asOfStored + 86_400_000);
    expect(later).toEqual({ replace: ['A'], keepStored: [] });
    // The same from an older export: the stored A wins.
    const older = await w.moves(new Map([['A', startOf(0, 8)]]), asOfStored - 86_400_000);
    expect(older).toEqual({ replace: [], keepStored: ['A'] });
    // Deleted by the run: no longer stored.
    await w.forget(['A']);
    expect(await w.moves(new Map([['A', startOf(0, 9)]]), asOfStored + 86_400_000)).toEqual({ replace: [], keepStored: [] });
    expect(count()).toBe(1);
  });
});
