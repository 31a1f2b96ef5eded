/**
 * Filling the cache ahead of the first reader (`cache warm`, `import --warm`) and keeping it
 * honest after an import (invalidate exactly the touched user's touched summaries; which ones
 * an import touched is src/import/after-import.ts's to say).
 */
import type pg from 'pg';
import type { Cache } from './cache.js';
import { dailyStats, latestValues, recentMetrics, recentWorkouts } from './summary-sql.js';
import { DEFAULT_WORKOUTS_LIMIT, dailyKey, latestKey, workoutsKey } from './summaries.js';

type Queryable = Pick<pg.Pool, 'query'>;

/** The periods `summary --days` is expected to ask for most; warmed for every metric. */
export const DEFAULT_PERIODS: readonly number[] = [7, 30];
/** Without explicit metrics, warm the ones with data in this many recent days. */
export const RECENT_METRIC_DAYS = 30;

export interface WarmOptions {
  /** Metrics whose daily summaries to fill (default: those with data in the last 30 days). */
  metrics?: readonly string[];
  /** Periods in days (default 7 and 30). */
  days?: readonly number[];
  tz?: string;
  now?: Date;
  /** Fill the latest-values key (default true). */
  latest?: boolean;
  /** Fill the recent-workouts key (default true). */
  workouts?: boolean;
  workoutsLimit?: number;
}

/** Fills one user's summaries; returns how many keys were written (0 when there is no usable cache). */
export async function warmUser(db: Queryable, cache: Cache, userId: number, opts: WarmOptions = {}): Promise<number> {
  if (!(await cache.available())) return 0;
  const now = opts.now ?? new Date();
  const tz = opts.tz ?? 'UTC';
  const metrics = opts.metrics ?? (await recentMetrics(db, userId, RECENT_METRIC_DAYS, now));
  const periods = opts.days ?? DEFAULT_PERIODS;
  const limit = opts.workoutsLimit ?? DEFAULT_WORKOUTS_LIMIT;

  // One query at a time: warming must not take the pool away from an import or a server.
  let written = 0;
  const put = async <T>(key: string, ttl: number, load: () => Promise<T>) => {
    if (await cache.fill(key, ttl, load)) written++;
  };
  if (opts.latest ?? true) await put(latestKey(cache, userId), cache.ttls.latest, () => latestValues(db, userId));
  for (const metric of [...new Set(metrics)]) {
    for (const days of periods) {
      await put(dailyKey(cache, userId, metric, days, tz, now), cache.ttls.daily, () =>
        dailyStats(db, userId, metric, days, now, tz),
      );
    }
  }
  if (opts.workouts ?? true) {
    await put(workoutsKey(cache, userId, limit), cache.ttls.workouts, () => recentWorkouts(db, userId, limit));
  }
  return written;
}

export interface RefreshResult {
  /** Keys deleted. */
  invalidated: number;
  /** Keys written again (0 unless warm). */
  warmed: number;
}

/**
 * After an import changed `touched` for `userId`: deletes those summaries (so nobody reads what
 * the import just changed) and, with `warm`, fills them again.
 */
export async function refreshSummaries(
  db: Queryable,
  cache: Cache,
  userId: number,
  touched: { metrics: readonly string[]; workouts: boolean },
  warm: boolean,
  opts: Pick<WarmOptions, 'days' | 'tz' | 'now'> = {},
): Promise<RefreshResult> {
  const { metrics, workouts } = touched;
  if (!metrics.length && !workouts) return { invalidated: 0, warmed: 0 };
  const invalidated = await cache.invalidateUser(userId, [...metrics], { workouts });
  const warmed = warm ? await warmUser(db, cache, userId, { ...opts, metrics, latest: metrics.length > 0, workouts }) : 0;
  return { invalidated, warmed };
}
