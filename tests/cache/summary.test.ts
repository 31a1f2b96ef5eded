/**
 * Summaries through the cache against real PostgreSQL (a fresh migrated database) and real
 * Redis (a random key prefix): the cache serves what a user sees, keeps serving it when the
 * rows change behind it, and an import of one user's metric makes exactly that summary fresh.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { openCache, type Cache } from '../../src/cache/cache.js';
import { dailyStats, latestValues, recentMetrics} from '../../src/cache/summary-sql.js';
import { cachedDaily, cachedLatest, cachedWorkouts, dailyKey, latestKey } from '../../src/cache/summaries.js';
import { refreshSummaries, warmUser } from '../../src/cache/warm.js';
import { touchedBy } from '../../src/import/after-import.js';
import { summaryCommand } from '../../src/cli/summary.js';
import type { ImportSummary } from '../../src/import/summary.js';
import { emptyCounts, type Counts } from '../../src/load/outcome.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { userIdByName } from '../../src/db/users.js';
import { rebuildRollups } from '../../src/rollups/rebuild.js';

const redisUrl = inject('redisUrl');
const base = `he-test-${randomBytes(5).toString('hex')}`;
// Every instant is fixed (the CLI test fixes the clock too), so nothing depends on the day it runs.
const NOW = new Date('2025-06-15T12:00:00Z');
// Each test gets its own cache prefix and alice's 2025-06-15 steps back at 2000 (beforeEach),
// so each runs alone or in any order.
let prefix = base;
let tests = 0;

let db: TestDatabase;
let raw: Redis;
let cache: Cache;
let alice: number;
let bob: number;

function summaryOf(metrics: string[], tables: Record<string, Partial<Counts>>): ImportSummary {
  const t: Record<string, Counts> = {};
  for (const [name, c] of Object.entries(tables)) t[name] = { ...emptyCounts(), ...c };
  const totals = emptyCounts();
  for (const c of Object.values(t)) for (const k of Object.keys(totals) as (keyof Counts)[]) totals[k] += c[k];
  return {
    ingestionId: null, userId: null, source: 'test.json', bytes: 0, sha256: null, durationMs: 1, status: 'ok', failure: null, dryRun: false,
    tables: t, totals, unknownMetrics: [], metrics, unknownKeys: [], error: null, errorOffset: null,
    workoutsFlagged: [], workoutsMoved: [], valid: null, asOf: null, unchangedOlder: {},
  };
}

async function setSteps(userId: number, at: string, qty: number): Promise<void> {
  await db.pool.query(
    `INSERT INTO activity_metrics (user_id, metric, recorded_at, qty, unit) VALUES ($1, 'step_count', $2, $3, 'count')
     ON CONFLICT (user_id, metric, recorded_at, source) DO UPDATE SET qty = EXCLUDED.qty`,
    [userId, at, qty],
  );
  // Summaries read the rollups, which imports keep; rows written behind the importer need a rebuild.
  await rebuildRollups(db.pool, userId);
}

beforeAll(async () => {
  db = await createTestDatabase({ migrate: true });
  await db.pool.query(`SELECT healthexport_create_month_partitions('2025-05-01', '2025-06-01')`);
  const { rows } = await db.pool.query(`INSERT INTO users (name) VALUES ('alice'), ('bob'), ('carol'), ('dave') RETURNING id, name`);
  [alice, bob] = [Number(rows[0].id), Number(rows[1].id)];
  const carol = Number(rows[2].id);
  const dave = Number(rows[3].id);

  await setSteps(alice, '2025-06-14T10:00:00Z', 1000);
  await setSteps(alice, '2025-06-14T18:00:00Z', 500);
  await setSteps(alice, '2025-06-15T09:00:00Z', 2000);
  await setSteps(alice, '2025-05-01T09:00:00Z', 99); // outside every window below
  await setSteps(bob, '2025-06-15T08:00:00Z', 42);
  // 23:30 UTC on the 14th is already the 15th in Berlin.
  await setSteps(carol, '2025-06-14T23:30:00Z', 7);
  await setSteps(dave, '2025-06-15T10:00:00Z', 321);
  await db.pool.query(
    `INSERT INTO heart_rate_metrics (user_id, recorded_at, min_bpm, avg_bpm, max_bpm, unit) VALUES
       ($1, '2025-06-15T08:00:00Z', 55, 60, 70, 'count/min'), ($1, '2025-06-15T09:00:00Z', 65, 80, 120, 'count/min')`,
    [alice],
  );
  await db.pool.query(
    `INSERT INTO blood_pressure_metrics (user_id, recorded_at, systolic, diastolic, unit) VALUES
       ($1, '2025-06-13T07:00:00Z', 120, 80, 'mmHg'), ($1, '2025-06-13T19:00:00Z', 130, 90, 'mmHg')`,
    [alice],
  );
  await db.pool.query(
    `INSERT INTO sleep_metrics (user_id, recorded_at, total_sleep, unit) VALUES ($1, '2025-06-15T00:00:00Z', 7.5, 'hr')`,
    [alice],
  );
  await db.pool.query(
    `INSERT INTO workouts (user_id, started_at, workout_id, name, ended_at, duration_s, distance, distance_unit, export_version, id_derived)
     VALUES ($1, '2025-06-14T06:00:00Z', 'w1', 'Outdoor Run', '2025-06-14T06:30:00Z', 1800, 5.2, 'km', 2, false)`,
    [alice],
  );
  await rebuildRollups(db.pool, alice);
  raw = new Redis(redisUrl, { lazyConnect: true });
  await raw.connect();
});

beforeEach(async () => {
  prefix = `${base}-${++tests}`;
  cache = openCache(redisUrl, { prefix });
  await setSteps(alice, '2025-06-15T09:00:00Z', 2000);
});

afterEach(async () => {
  await cache?.close();
});

afterAll(async () => {
  if (raw) {
    let cursor = '0';
    do {
      const [next, keys] = await raw.scan(cursor, 'MATCH', `${base}-*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await raw.del(...keys);
    } while (cursor !== '0');
    await raw.quit();
  }
  await db?.drop();
});

describe('the queries', () => {
  it('find users by name', async () => {
    expect(await userIdByName(db.pool, 'alice')).toBe(alice);
    expect(await userIdByName(db.pool, 'nobody')).toBeNull();
  });

  it('aggregate per day: activity, heart rate, blood pressure, sleep; UTC or a given zone', async () => {
    const steps = await dailyStats(db.pool, alice, 'step_count', 7, NOW);
    expect(steps).toMatchObject({ from: '2025-06-09T00:00:00.000Z', to: '2025-06-16T00:00:00.000Z', tz: 'UTC' });
    expect(steps.rows).toEqual([
      { day: '2025-06-14', unit: 'count', count: 2, min: 500, avg: 750, max: 1000, sum: 1500 },
      { day: '2025-06-15', unit: 'count', count: 1, min: 2000, avg: 2000, max: 2000, sum: 2000 },
    ]);
    expect((await dailyStats(db.pool, alice, 'heart_rate', 1, NOW)).rows).toEqual([
      { day: '2025-06-15', unit: 'count/min', count: 2, min: 55, avg: 70, max: 120, sum: null },
    ]);
    expect((await dailyStats(db.pool, alice, 'blood_pressure', 7, NOW)).rows).toEqual([
      { day: '2025-06-13', unit: 'mmHg', count: 2, min: 120, avg: 125, max: 130, sum: null, diastolic: { min: 80, avg: 85, max: 90 } },
    ]);
    expect((await dailyStats(db.pool, alice, 'sleep_analysis', 7, NOW)).rows).toEqual([
      { day: '2025-06-15', unit: 'hr', count: 1, min: 7.5, avg: 7.5, max: 7.5, sum: 7.5 },
    ]);
    const carol = (await userIdByName(db.pool, 'carol'))!;
    expect((await dailyStats(db.pool, carol, 'step_count', 2, NOW)).rows.map((r) => r.day)).toEqual(['2025-06-14']);
    const berlin = await dailyStats(db.pool, carol, 'step_count', 2, NOW, 'Europe/Berlin');
    expect(berlin.rows.map((r) => [r.day, r.sum])).toEqual([['2025-06-15', 7]]);
    expect(berlin.from).toBe('2025-06-13T22:00:00.000Z');
  });

  it('latest value per metric and recent metrics', async () => {
    const latest = await latestValues(db.pool, alice);
    expect(latest.map((l) => l.metric)).toEqual(['blood_pressure', 'heart_rate', 'sleep_analysis', 'step_count']);
    expect(latest.find((l) => l.metric === 'step_count')).toMatchObject({ value: 2000, recordedAt: '2025-06-15T09:00:00.000Z', unit: 'count' });
    expect(latest.find((l) => l.metric === 'heart_rate')?.parts).toEqual({ min: 65, avg: 80, max: 120 });
    expect(latest.find((l) => l.metric === 'blood_pressure')?.parts).toEqual({ systolic: 130, diastolic: 90 });
    expect(await recentMetrics(db.pool, alice, 30, NOW)).toEqual(['blood_pressure', 'heart_rate', 'sleep_analysis', 'step_count']);
    expect(await recentMetrics(db.pool, bob, 30, NOW)).toEqual(['step_count']);
  });
});

describe('summaries through the cache', () => {
  it('serve the database values, then hits (stats prove it)', async () => {
    const first = await cachedDaily(db.pool, cache, alice, 'step_count', 7, { now: NOW });
    expect(first.source).toBe('miss');
    expect(first.value.rows.map((r) => [r.day, r.sum])).toEqual([['2025-06-14', 1500], ['2025-06-15', 2000]]);
    const second = await cachedDaily(db.pool, cache, alice, 'step_count', 7, { now: NOW });
    expect(second).toEqual({ ...first, source: 'hit' });
    expect(await cache.stats()).toMatchObject({ hits: 1, misses: 1, keys: 1 });

    // Fill bob's, and alice's other summaries, to check later that an import leaves them alone.
    expect((await cachedDaily(db.pool, cache, bob, 'step_count', 7, { now: NOW })).value.rows[0].sum).toBe(42);
    expect((await cachedLatest(db.pool, cache, bob)).source).toBe('miss');
    expect((await cachedDaily(db.pool, cache, alice, 'heart_rate', 7, { now: NOW })).source).toBe('miss');
    expect((await cachedLatest(db.pool, cache, alice)).source).toBe('miss');
    expect((await cachedWorkouts(db.pool, cache, alice)).value.map((w) => w.name)).toEqual(['Outdoor Run']);
  });

  /** What a person has looked at: alice's and bob's summaries, in the cache. */
  async function fillCache(): Promise<void> {
    expect((await cachedDaily(db.pool, cache, alice, 'step_count', 7, { now: NOW })).source).toBe('miss');
    expect((await cachedDaily(db.pool, cache, bob, 'step_count', 7, { now: NOW })).source).toBe('miss');
    expect((await cachedLatest(db.pool, cache, bob)).source).toBe('miss');
    expect((await cachedDaily(db.pool, cache, alice, 'heart_rate', 7, { now: NOW })).source).toBe('miss');
    expect((await cachedLatest(db.pool, cache, alice)).source).toBe('miss');
    expect((await cachedWorkouts(db.pool, cache, alice)).source).toBe('miss');
  }

  it('keep serving the cached value when rows change behind the cache', async () => {
    await fillCache();
    await setSteps(alice, '2025-06-15T09:00:00Z', 3000);
    const r = await cachedDaily(db.pool, cache, alice, 'step_count', 7, { now: NOW });
    expect(r.source).toBe('hit');
    expect(r.value.rows[1].sum).toBe(2000);
  });

  it("refreshSummaries invalidates the importing user's touched summaries only", async () => {
    const bobKeys = [dailyKey(cache, bob, 'step_count', 7, 'UTC', NOW), latestKey(cache, bob)];
    const aliceHr = dailyKey(cache, alice, 'heart_rate', 7, 'UTC', NOW);
    const aliceWorkouts = cache.key(alice, 'workouts', 10);
    await fillCache();
    await setSteps(alice, '2025-06-15T09:00:00Z', 3000);
    const summary = summaryOf(['step_count'], { activity_metrics: { read: 1, updated: 1 } });
    expect(touchedBy(summary)).toEqual({ metrics: ['step_count'], workouts: false });

    const res = await refreshSummaries(db.pool, cache, alice, touchedBy(summary), false);
    expect(res).toEqual({ invalidated: 2, warmed: 0 }); // daily + latest

    const r = await cachedDaily(db.pool, cache, alice, 'step_count', 7, { now: NOW });
    expect(r.source).toBe('miss');
    expect(r.value.rows[1].sum).toBe(3000);
    expect((await cachedLatest(db.pool, cache, alice)).value.find((l) => l.metric === 'step_count')?.value).toBe(3000);
    for (const k of [...bobKeys, aliceHr, aliceWorkouts]) expect(await raw.exists(k), k).toBe(1);
    expect((await cachedDaily(db.pool, cache, bob, 'step_count', 7, { now: NOW })).source).toBe('hit');
  });

  it('an import that changed nothing invalidates nothing; one with --warm fills the summaries again', async () => {
    await fillCache();
    await setSteps(alice, '2025-06-15T09:00:00Z', 4000);
    const unchanged = summaryOf(['step_count'], { activity_metrics: { read: 1, unchanged: 1 } });
    expect(touchedBy(unchanged)).toEqual({ metrics: [], workouts: false });
    expect(await refreshSummaries(db.pool, cache, alice, touchedBy(unchanged), true)).toEqual({ invalidated: 0, warmed: 0 });
    expect((await cachedDaily(db.pool, cache, alice, 'step_count', 7, { now: NOW })).value.rows[1].sum).toBe(2000);

    const changed = summaryOf(['step_count', 'heart_rate'], {
      activity_metrics: { read: 1, updated: 1 },
      heart_rate_metrics: { read: 1, inserted: 1 },
      workouts: { read: 1, inserted: 1 },
    });
    expect(touchedBy(changed)).toEqual({ metrics: ['heart_rate', 'step_count'], workouts: true });
    const res = await refreshSummaries(db.pool, cache, alice, touchedBy(changed), true, { now: NOW });
    // deleted: step_count 7d, heart_rate 7d, latest, workouts; written: latest + 2 metrics x (7d, 30d) + workouts
    expect(res).toEqual({ invalidated: 4, warmed: 6 });
    const r = await cachedDaily(db.pool, cache, alice, 'step_count', 7, { now: NOW });
    expect(r.source).toBe('hit');
    expect(r.value.rows[1].sum).toBe(4000);
    expect((await cachedDaily(db.pool, cache, alice, 'step_count', 30, { now: NOW })).source).toBe('hit');
    expect((await cachedDaily(db.pool, cache, bob, 'step_count', 7, { now: NOW })).source).toBe('hit');
  });

  it('warmUser fills latest, the recent metrics for 7 and 30 days, and workouts', async () => {
    await cache.invalidateUser(bob);
    expect(await warmUser(db.pool, cache, bob, { now: NOW })).toBe(4); // latest, step_count x2, workouts
    expect((await cachedDaily(db.pool, cache, bob, 'step_count', 30, { now: NOW })).source).toBe('hit');
  });

  it('without Redis (no URL) the same values come from PostgreSQL', async () => {
    await setSteps(alice, '2025-06-15T09:00:00Z', 4000);
    const off = openCache('', { prefix });
    expect(off.enabled).toBe(false);
    const r = await cachedDaily(db.pool, off, alice, 'step_count', 7, { now: NOW });
    expect(r).toMatchObject({ source: 'off' });
    expect(r.value.rows[1].sum).toBe(4000);
    expect(await refreshSummaries(db.pool, off, alice, { metrics: ['step_count'], workouts: false }, true)).toMatchObject({
      invalidated: 0,
      warmed: 0,
    });
  });

  it('with Redis unreachable the summary still comes from PostgreSQL, without throwing or hanging', async () => {
    await setSteps(alice, '2025-06-15T09:00:00Z', 4000);
    const warn = vi.fn();
    const down = openCache('redis://127.0.0.1:1', { prefix, warn });
    const t0 = Date.now();
    const r = await cachedDaily(db.pool, down, alice, 'step_count', 7, { now: NOW });
    expect(r.source).toBe('off');
    expect(r.value.rows[1].sum).toBe(4000);
    expect((await cachedLatest(db.pool, down, alice)).value.length).toBe(4);
    expect(await refreshSummaries(db.pool, down, alice, { metrics: ['step_count'], workouts: false }, true)).toMatchObject({
      invalidated: 0,
      warmed: 0,
    });
    await down.close();
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(warn).toHaveBeenCalledTimes(1);
  });
});

describe('healthexport summary', () => {
  async function run(args: string[]): Promise<string> {
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => {
      out += a.join(' ') + '\n';
    });
    try {
      await summaryCommand().exitOverride().parseAsync([...args, '--database-url', db.url, '--redis-url', redisUrl], { from: 'user' });
    } finally {
      spy.mockRestore();
      log.mockRestore();
    }
    return out;
  }

  it('prints the days of a metric (JSON and table) through the cache; unknown users fail in one line', async () => {
    vi.stubEnv('HEALTHEXPORT_CACHE_PREFIX', prefix);
    // The command reads the clock: fixed at NOW (only Date; timers stay real for pg and Redis).
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
    try {
      const first = JSON.parse(await run(['--user', 'dave', '--metric', 'step_count', '--days', '1', '--json']));
      expect(first).toMatchObject({ user: 'dave', metric: 'step_count', days: 1, cache: 'miss' });
      expect(first.rows).toEqual([expect.objectContaining({ day: '2025-06-15', count: 1, sum: 321 })]);
      const text = await run(['--user', 'dave', '--metric', 'step_count', '--days', '1']);
      expect(text).toMatch(/step_count of dave, last 1 day \(UTC; cache hit\)/);
      expect(text).toMatch(/2025-06-15\s+1\s+321\s+321\s+321\s+321\s+count/);
      expect(await run(['--user', 'dave'])).toMatch(/latest values of dave \(cache miss\)[\s\S]*step_count\s+321\s+count/);
      await expect(run(['--user', 'nobody', '--metric', 'step_count'])).rejects.toThrow('unknown user "nobody"');
    } finally {
      vi.useRealTimers();
      vi.unstubAllEnvs();
    }
  });
});
