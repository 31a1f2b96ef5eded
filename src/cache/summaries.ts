/**
 * The summaries as a user sees them, read through the cache: the key for each summary, its TTL,
 * and the query that fills it. `summary` (CLI), `cache warm` and the import's invalidation all
 * go through here, so what is warmed is exactly what is read.
 */
import type pg from 'pg';
import type { Cache, CacheSource } from './cache.js';
import {
  dailyStats,
  dayIn,
  latestValues,
  recentWorkouts,
  type DailyStats,
  type LatestValue,
  type WorkoutSummary,
} from './summary-sql.js';

type Queryable = Pick<pg.Pool, 'query'>;

export interface Cached<T> {
  value: T;
  source: CacheSource;
}

export const DEFAULT_WORKOUTS_LIMIT = 10;

export function latestKey(cache: Cache, userId: number): string {
  return cache.key(userId, 'latest');
}

/** The last day of the window is part of the key: at midnight (in tz) a new window starts. */
export function dailyKey(cache: Cache, userId: number, metric: string, days: number, tz: string, now: Date): string {
  return cache.key(userId, 'daily', metric, `${days}d`, tz, dayIn(now, tz));
}

export function workoutsKey(cache: Cache, userId: number, limit: number): string {
  return cache.key(userId, 'workouts', limit);
}

export function cachedLatest(db: Queryable, cache: Cache, userId: number): Promise<Cached<LatestValue[]>> {
  return cache.lookup(latestKey(cache, userId), cache.ttls.latest, () => latestValues(db, userId));
}

export function cachedDaily(
  db: Queryable,
  cache: Cache,
  userId: number,
  metric: string,
  days: number,
  opts: { tz?: string; now?: Date } = {},
): Promise<Cached<DailyStats>> {
  const tz = opts.tz ?? 'UTC';
  const now = opts.now ?? new Date();
  return cache.lookup(dailyKey(cache, userId, metric, days, tz, now), cache.ttls.daily, () =>
    dailyStats(db, userId, metric, days, now, tz),
  );
}

export function cachedWorkouts(
  db: Queryable,
  cache: Cache,
  userId: number,
  limit = DEFAULT_WORKOUTS_LIMIT,
): Promise<Cached<WorkoutSummary[]>> {
  return cache.lookup(workoutsKey(cache, userId, limit), cache.ttls.workouts, () => recentWorkouts(db, userId, limit));
}
