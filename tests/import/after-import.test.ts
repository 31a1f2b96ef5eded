/**
 * The step after every import, against real PostgreSQL and Redis: the cached summaries of what
 * an import touched are dropped, also when the import FAILED (batches committed before the
 * failure may not be in its counts), and only then.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { openCache, type Cache } from '../../src/cache/cache.js';
import { cachedDaily, cachedLatest, cachedWorkouts } from '../../src/cache/summaries.js';
import { ensureUser } from '../../src/db/users.js';
import { afterImport, touchedBy } from '../../src/import/after-import.js';
import type { ImportSummary } from '../../src/import/summary.js';
import { emptyCounts, type Counts } from '../../src/load/outcome.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

const NOW = new Date('2025-06-15T12:00:00Z');

function summaryOf(p: Partial<Omit<ImportSummary, 'tables'>> & { tables: Record<string, Partial<Counts>> }): ImportSummary {
  const tables: Record<string, Counts> = {};
  const totals = emptyCounts();
  for (const [name, c] of Object.entries(p.tables)) {
    tables[name] = { ...emptyCounts(), ...c };
    for (const k of Object.keys(totals) as (keyof Counts)[]) totals[k] += tables[name][k];
  }
  return {
    ingestionId: null, userId: null, source: 'test.json', bytes: 0, sha256: null, durationMs: 1, status: 'ok', failure: null,
    dryRun: false, totals, unknownMetrics: [], metrics: [], unknownKeys: [], error: null, errorOffset: null, workoutsFlagged: [],
    valid: null, asOf: null, unchangedOlder: {}, workoutsMoved: [], ...p, tables,
  };
}

describe('touchedBy', () => {
  it('a failed run counts every table it read as touched, even with nothing counted as stored', () => {
    const read = { activity_metrics: { read: 5 }, heart_rate_metrics: { read: 2 }, workouts: { read: 1 } };
    expect(touchedBy(summaryOf({ status: 'failed', failure: 'database', metrics: ['step_count'], tables: read }))).toEqual({
      metrics: ['heart_rate', 'step_count'],
      workouts: true,
    });
    // The same counts from a run that ended well changed nothing.
    expect(touchedBy(summaryOf({ status: 'ok', metrics: ['step_count'], tables: read }))).toEqual({ metrics: [], workouts: false });
    // A failed run that read nothing, or a dry run, touched nothing.
    expect(touchedBy(summaryOf({ status: 'failed', failure: 'input', tables: { activity_metrics: { read: 0 } } }))).toEqual({ metrics: [], workouts: false });
    expect(touchedBy(summaryOf({ status: 'failed', dryRun: true, metrics: ['step_count'], tables: read }))).toEqual({ metrics: [], workouts: false });
  });

  it('blood pressure and sleep map onto their summary names; unchanged-only tables stay out', () => {
    const s = summaryOf({
      metrics: ['blood_pressure', 'sleep_analysis'],
      tables: {
        blood_pressure_metrics: { read: 2, updated: 1, unchanged: 1 },
        sleep_metrics: { read: 1, inserted: 1 },
        heart_rate_metrics: { read: 4, unchanged: 4 },
      },
    });
    expect(touchedBy(s)).toEqual({ metrics: ['blood_pressure', 'sleep_analysis'], workouts: false });
  });
});

describe('afterImport and the cache', () => {
  let db: TestDatabase;
  let cache: Cache;
  let userId: number;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: true });
  });
  beforeEach(async () => {
    cache = openCache(inject('redisUrl'), { prefix: `he-test-${randomBytes(5).toString('hex')}` });
    userId = await ensureUser(db.pool, `after-${randomBytes(4).toString('hex')}`);
    // What a person looked at: now in the cache.
    await cachedDaily(db.pool, cache, userId, 'step_count', 7, { now: NOW });
    await cachedLatest(db.pool, cache, userId);
    await cachedWorkouts(db.pool, cache, userId);
    expect((await cache.stats()).keys).toBe(3);
  });
  afterEach(async () => {
    await cache.clear();
    await cache.close();
  });
  afterAll(async () => db?.drop());

  const failed = () =>
    summaryOf({ userId, status: 'failed', failure: 'database', metrics: ['step_count'], tables: { activity_metrics: { read: 5 } } });

  it('a FAILED import drops the cached summaries of what it read', async () => {
    await afterImport(failed(), { pool: db.pool, cache });
    expect((await cache.stats()).keys).toBe(1); // workouts: not read by this run
    expect((await cachedDaily(db.pool, cache, userId, 'step_count', 7, { now: NOW })).source).toBe('miss');
    expect((await cachedWorkouts(db.pool, cache, userId)).source).toBe('hit');
  });

  it('an import that stored nothing new leaves the cache alone; a dry run too', async () => {
    await afterImport({ ...failed(), status: 'ok', failure: null }, { pool: db.pool, cache });
    await afterImport({ ...failed(), dryRun: true }, { pool: db.pool, cache });
    expect((await cache.stats()).keys).toBe(3);
    expect((await cachedDaily(db.pool, cache, userId, 'step_count', 7, { now: NOW })).source).toBe('hit');
  });

  it("another user's import leaves this user's summaries alone", async () => {
    const other = await ensureUser(db.pool, `other-${randomBytes(4).toString('hex')}`);
    await afterImport({ ...failed(), userId: other }, { pool: db.pool, cache });
    expect((await cache.stats()).keys).toBe(3);
  });
});
