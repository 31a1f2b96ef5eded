/**
 * The SQL behind the summaries people ask for (and the cache keeps): latest value per metric,
 * daily min/avg/max/sum per metric over the last N days, recent workouts.
 *
 * Every query leads with `user_id = $1` (the first column of every primary key) and the
 * daily/period queries bound the partition column with a range computed from parameters only
 * (no `now()`), so the planner prunes the month partitions at plan time and walks the
 * (user_id, [metric,] recorded_at, ...) primary-key index of the few that remain. "Latest"
 * has no time bound on purpose (a metric last measured years ago still has a latest value):
 * it orders by the partition key with LIMIT 1, which PostgreSQL turns into an ordered Append
 * that stops at the newest partition holding a row.
 *
 * Days are calendar days in a time zone: UTC unless the caller passes another IANA zone
 * (`--tz Europe/Berlin`); the bounds are midnights in that zone, so a day never straddles two.
 *
 * Results are plain JSON-safe objects (ISO strings for instants) because the cache stores them
 * as JSON.
 */
import type pg from 'pg';

type Queryable = Pick<pg.Pool, 'query'>;

/** Metric names with their own table; every other name is a row set of activity_metrics. */
export const HEART_RATE = 'heart_rate';
export const BLOOD_PRESSURE = 'blood_pressure';
export const SLEEP = 'sleep_analysis';

export interface LatestValue {
  metric: string;
  /** ISO instant of the sample. */
  recordedAt: string;
  /** activity: qty; heart_rate: avg bpm; blood_pressure: systolic; sleep_analysis: total sleep. */
  value: number | null;
  /** Category samples carry text instead of a number. */
  text: string | null;
  unit: string | null;
  source: string;
  /** The parts of a multi-valued metric (heart_rate: min/avg/max; blood_pressure: systolic/diastolic). */
  parts?: Record<string, number | null>;
}

export interface DailyRow {
  /** YYYY-MM-DD in the requested time zone. */
  day: string;
  unit: string | null;
  /** Samples that day (with a numeric value). */
  count: number;
  min: number | null;
  avg: number | null;
  max: number | null;
  /** Null where a sum means nothing (heart rate, blood pressure). */
  sum: number | null;
  /** blood_pressure only: the row's min/avg/max are systolic; these are diastolic. */
  diastolic?: { min: number | null; avg: number | null; max: number | null };
}

export interface DailyStats {
  metric: string;
  days: number;
  tz: string;
  /** The window: [from, to) as ISO instants (midnights in `tz`). */
  from: string;
  to: string;
  /** Days with at least one sample, oldest first; a day with samples in two units has two rows. */
  rows: DailyRow[];
}

export interface WorkoutSummary {
  workoutId: string;
  name: string;
  startedAt: string;
  endedAt: string;
  durationS: number | null;
  location: string | null;
  activeEnergy: number | null;
  activeEnergyUnit: string | null;
  distance: number | null;
  distanceUnit: string | null;
}

const iso = (d: Date | string | null): string => (d instanceof Date ? d.toISOString() : new Date(d ?? NaN).toISOString());
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/**
 * Latest value of every metric of one user. Activity metrics: a skip scan over the
 * (user_id, metric, ...) primary key finds each metric name (one index probe per metric
 * instead of reading every row), then the newest row per metric by a backward index scan.
 */
const LATEST_SQL = `
WITH RECURSIVE names(metric) AS (
  (SELECT metric FROM activity_metrics WHERE user_id = $1 ORDER BY metric LIMIT 1)
  UNION ALL
  SELECT (SELECT a.metric FROM activity_metrics a
          WHERE a.user_id = $1 AND a.metric > names.metric ORDER BY a.metric LIMIT 1)
  FROM names WHERE names.metric IS NOT NULL
)
SELECT l.metric, l.recorded_at, l.qty, l.text_value, l.unit, l.source,
       NULL::float8 AS p1, NULL::float8 AS p2, NULL::float8 AS p3
FROM names CROSS JOIN LATERAL (
  SELECT a.metric, a.recorded_at, a.qty, a.text_value, a.unit, a.source
  FROM activity_metrics a
  WHERE a.user_id = $1 AND a.metric = names.metric
  ORDER BY a.recorded_at DESC, a.source DESC LIMIT 1
) l
WHERE names.metric IS NOT NULL
UNION ALL
(SELECT '${HEART_RATE}', recorded_at, avg_bpm::float8, NULL, unit, source, min_bpm::float8, avg_bpm::float8, max_bpm::float8
 FROM heart_rate_metrics WHERE user_id = $1 ORDER BY recorded_at DESC, source DESC LIMIT 1)
UNION ALL
(SELECT '${BLOOD_PRESSURE}', recorded_at, systolic::float8, NULL, unit, source, systolic::float8, diastolic::float8, NULL
 FROM blood_pressure_metrics WHERE user_id = $1 ORDER BY recorded_at DESC, source DESC LIMIT 1)
UNION ALL
(SELECT '${SLEEP}', recorded_at, total_sleep::float8, NULL, unit, source, NULL, NULL, NULL
 FROM sleep_metrics WHERE user_id = $1 AND total_sleep IS NOT NULL ORDER BY recorded_at DESC, source DESC LIMIT 1)`;

export async function latestValues(db: Queryable, userId: number): Promise<LatestValue[]> {
  const { rows } = await db.query(LATEST_SQL, [userId]);
  const out: LatestValue[] = rows.map((r) => {
    const v: LatestValue = {
      metric: r.metric,
      recordedAt: iso(r.recorded_at),
      value: num(r.qty),
      text: r.text_value ?? null,
      unit: r.unit ?? null,
      source: r.source,
    };
    if (r.metric === HEART_RATE) v.parts = { min: num(r.p1), avg: num(r.p2), max: num(r.p3) };
    if (r.metric === BLOOD_PRESSURE) v.parts = { systolic: num(r.p1), diastolic: num(r.p2) };
    return v;
  });
  return out.sort((a, b) => (a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : 0));
}

/** The window bounds, midnights in $tz: from = start of (today - (days - 1)), to = start of tomorrow. */
const BOUNDS = {
  from: `(date_trunc('day', $3::timestamptz AT TIME ZONE $5::text) - make_interval(days => $4::int - 1)) AT TIME ZONE $5::text`,
  to: `(date_trunc('day', $3::timestamptz AT TIME ZONE $5::text) + interval '1 day') AT TIME ZONE $5::text`,
};
/**
 * Days come from the rollups, never from the raw rows: rollup_days when the zone is kept for the
 * user (UTC always; others after `rollups zones add`), else the same days computed from the
 * 15-minute rollup_counted (exact in every zone, slower over years). Either way cumulative
 * metrics count each 15 minutes once, from the best-ranked source (migration 0006).
 * The gate is an uncorrelated scalar subquery, so PostgreSQL evaluates it once and runs one
 * branch; as a subquery it is not folded to a constant for UTC, which would leave the planner
 * costing a scan of every quarter in the dead branch and JIT-compiling for it (~2 s, measured).
 */
const KEPT = `(SELECT $5::text = 'UTC' OR EXISTS (SELECT 1 FROM rollup_zones z WHERE z.user_id = $1 AND z.tz = $5::text))`;
const ROLLED_DAYS = `
  SELECT d.day, d.metric, d.unit, d.samples, d.total, d.low, d.high
  FROM rollup_days d
  WHERE ${KEPT} AND d.user_id = $1 AND d.tz = $5::text AND d.metric = ANY ($2::text[])
    AND d.starts_at >= ${BOUNDS.from} AND d.starts_at < ${BOUNDS.to}
  UNION ALL
  SELECT (c.bucket AT TIME ZONE $5::text)::date, c.metric, c.unit, sum(c.samples)::int, sum(c.total), min(c.low), max(c.high)
  FROM rollup_counted c
  WHERE NOT ${KEPT} AND c.user_id = $1 AND c.metric = ANY ($2::text[])
    AND c.bucket >= ${BOUNDS.from} AND c.bucket < ${BOUNDS.to}
  GROUP BY 1, 2, 3`;

/** Rollup metric names behind a summary metric (blood pressure is two). */
function rollupMetrics(metric: string): string[] {
  return metric === BLOOD_PRESSURE ? ['blood_pressure_systolic', 'blood_pressure_diastolic'] : [metric];
}

function dailySql(metric: string): string {
  const sum = metric === HEART_RATE || metric === BLOOD_PRESSURE ? 'NULL::float8' : 'x.total';
  if (metric === BLOOD_PRESSURE) {
    // One pass over the days, systolic and diastolic side by side (each appears once per day and
    // unit). A self-join of the two rescanned the days per day: 98-139 ms over ten years.
    const sys = `FILTER (WHERE x.metric = 'blood_pressure_systolic')`;
    const dia = `FILTER (WHERE x.metric = 'blood_pressure_diastolic')`;
    return `SELECT to_char(x.day, 'YYYY-MM-DD') AS day, x.unit, max(x.samples) ${sys} AS count,
              max(x.low) ${sys} AS min, max(x.total / x.samples) ${sys} AS avg, max(x.high) ${sys} AS max, NULL::float8 AS sum,
              max(x.low) ${dia} AS dmin, max(x.total / x.samples) ${dia} AS davg, max(x.high) ${dia} AS dmax
            FROM (${ROLLED_DAYS}) x
            GROUP BY x.day, x.unit
            HAVING bool_or(x.metric = 'blood_pressure_systolic')
            ORDER BY 1, 2`;
  }
  return `SELECT to_char(x.day, 'YYYY-MM-DD') AS day, x.unit, x.samples AS count,
            x.low AS min, x.total / x.samples AS avg, x.high AS max, ${sum} AS sum
          FROM (${ROLLED_DAYS}) x ORDER BY 1, 2`;
}

export const MAX_DAYS = 3660;

/** Throws RangeError for a zone neither Intl nor (therefore, usually) PostgreSQL knows. */
export function checkTimeZone(tz: string): string {
  new Intl.DateTimeFormat('en-US', { timeZone: tz });
  return tz;
}

/** The calendar day of `now` in `tz` (YYYY-MM-DD): the window's last day. */
export function dayIn(now: Date, tz: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

/**
 * Per-day aggregates of one metric over the last `days` calendar days (today included) in `tz`,
 * read from the rollups (see ROLLED_DAYS). heart_rate: min of min_bpm, avg of avg_bpm, max of
 * max_bpm; blood_pressure: systolic in min/avg/max plus `diastolic`; sleep_analysis:
 * sleep_metrics.total_sleep; any other name: activity_metrics.qty of that metric. For cumulative
 * metrics (steps, energy, distance, ...) count/min/avg/max/sum are over the counted source only.
 */
export async function dailyStats(
  db: Queryable,
  userId: number,
  metric: string,
  days: number,
  now: Date = new Date(),
  tz = 'UTC',
): Promise<DailyStats> {
  if (!Number.isInteger(days) || days < 1 || days > MAX_DAYS) throw new RangeError(`days must be 1..${MAX_DAYS}, got ${days}`);
  const params = [userId, rollupMetrics(metric), now.toISOString(), days, tz];
  const [bounds, { rows }] = await Promise.all([
    db.query(`SELECT ${BOUNDS.from} AS "from", ${BOUNDS.to} AS "to" FROM (SELECT $1::bigint, $2::text[]) p`, params),
    db.query(dailySql(metric), params),
  ]);
  return {
    metric,
    days,
    tz,
    from: iso(bounds.rows[0].from),
    to: iso(bounds.rows[0].to),
    rows: rows.map((r) => {
      const row: DailyRow = {
        day: r.day,
        unit: r.unit === '' ? null : (r.unit ?? null),
        count: Number(r.count),
        min: num(r.min),
        avg: num(r.avg),
        max: num(r.max),
        sum: num(r.sum),
      };
      if (metric === BLOOD_PRESSURE) row.diastolic = { min: num(r.dmin), avg: num(r.davg), max: num(r.dmax) };
      return row;
    }),
  };
}

export async function recentWorkouts(db: Queryable, userId: number, limit = 10): Promise<WorkoutSummary[]> {
  const { rows } = await db.query(
    `SELECT workout_id, name, started_at, ended_at, duration_s, location, active_energy, active_energy_unit, distance, distance_unit
     FROM workouts WHERE user_id = $1 ORDER BY started_at DESC, workout_id DESC LIMIT $2`,
    [userId, limit],
  );
  return rows.map((r) => ({
    workoutId: r.workout_id,
    name: r.name,
    startedAt: iso(r.started_at),
    endedAt: iso(r.ended_at),
    durationS: num(r.duration_s),
    location: r.location ?? null,
    activeEnergy: num(r.active_energy),
    activeEnergyUnit: r.active_energy_unit ?? null,
    distance: num(r.distance),
    distanceUnit: r.distance_unit ?? null,
  }));
}

/**
 * Metric names (as `dailyStats` takes them) with data in the `days` before `now`: what
 * `cache warm` fills when not told which metrics. Time-bounded, so only recent partitions are read.
 */
export async function recentMetrics(db: Queryable, userId: number, days = 30, now: Date = new Date()): Promise<string[]> {
  const lo = `$2::timestamptz - make_interval(days => $3::int)`;
  const hi = `$2::timestamptz + interval '1 day'`;
  const window = `user_id = $1 AND recorded_at >= ${lo} AND recorded_at < ${hi}`;
  const { rows } = await db.query(
    `SELECT DISTINCT metric FROM activity_metrics WHERE ${window} AND qty IS NOT NULL
     UNION ALL SELECT '${HEART_RATE}' WHERE EXISTS (SELECT 1 FROM heart_rate_metrics WHERE ${window})
     UNION ALL SELECT '${BLOOD_PRESSURE}' WHERE EXISTS (SELECT 1 FROM blood_pressure_metrics WHERE ${window})
     UNION ALL SELECT '${SLEEP}' WHERE EXISTS (SELECT 1 FROM sleep_metrics WHERE ${window} AND total_sleep IS NOT NULL)`,
    [userId, now.toISOString(), days],
  );
  return rows.map((r) => r.metric as string).sort();
}
