/**
 * Brings the rollups of some spans of time up to date with the rows stored there, inside the
 * caller's transaction: the quarters of the spans are recomputed from the rows (not adjusted by
 * deltas, so an update that lowers a minimum is right too), then the days that contain them, in
 * UTC and in every zone kept for the user.
 *
 * Recomputing touches only rows in the spans. The writer passes spans that hold just the batch
 * it wrote (a fresh month's rows, or the rows that staging found new or changed), so the cost
 * follows the batch, not the history.
 *
 * Concurrency: batches of one table are written by parallel transactions (load/scheduler.ts),
 * and two of them recomputing the same quarter or day of the same user could each miss the
 * other's uncommitted rows. A transaction-scoped advisory lock per (user, table) taken before
 * recomputing makes the second wait, and in READ COMMITTED its statements then see the first
 * one's rows (each rolled-up metric comes from one table only: inputs.ts). Adding a direct
 * batch's quarters needs no lock: quarters it shares with another batch are upserted, added to
 * whatever version is committed (add-quarters.ts). So that is done before taking it, and the lock
 * is held only while days are recomputed (measured on 1 GB: 30 s of lock waits across 271
 * batches with the quarters added inside it).
 */
import type pg from 'pg';
import { inputRowsSql, insertQuartersSql, type RollupInput } from './inputs.js';
import { spansOfQuarters, type QuarterRows } from './aggregate.js';
import { addQuarterRows, type SourceRankCache } from './add-quarters.js';
import type { Spans } from './spans.js';

type Queryable = Pick<pg.PoolClient, 'query'>;

/** Spans as a CTE `r(series, lo, hi)` from parameters $2..$4. */
const SPANS_CTE = `r AS (SELECT * FROM unnest($2::text[], $3::timestamptz[], $4::timestamptz[]) AS r(series, lo, hi))`;

/**
 * The input rows inside the spans. The literal outer bounds let the planner prune the base
 * table's month partitions when it plans (the span arrays are parameters it cannot see into):
 * 40-110 ms of planning over 130 months otherwise, for every batch.
 */
function spanJoin(input: RollupInput, bounds: Bounds): string {
  const series = input.seriesColumn ? `x.${input.seriesColumn} = r.series AND ` : '';
  const t = `x.${input.timeColumn}`;
  return `JOIN r ON ${series}${t} >= r.lo AND ${t} < r.hi AND ${t} >= '${bounds.lo}' AND ${t} < '${bounds.hi}'`;
}

interface Bounds {
  lo: string;
  hi: string;
}

/** Spans as (metric, lo, hi): the series itself, or each metric of a table without series. */
function metricSpans(input: RollupInput): string {
  return input.seriesColumn
    ? `SELECT r.series AS metric, r.lo, r.hi FROM r`
    : `SELECT mm.metric, r.lo, r.hi FROM r CROSS JOIN unnest($5::text[]) AS mm(metric)`;
}

/** The local days (per kept zone) that the spans touch, with their bounds: CTE `w`. */
function touchedDaysCtes(input: RollupInput): string {
  return `${SPANS_CTE},
    m AS (${metricSpans(input)}),
    z AS (SELECT 'UTC'::text AS tz UNION SELECT tz FROM rollup_zones WHERE user_id = $1),
    d AS (SELECT DISTINCT z.tz, m.metric, g.day
          FROM m CROSS JOIN z CROSS JOIN healthexport_local_days(m.lo, m.hi, z.tz) AS g(day)),
    w AS (SELECT d.tz, d.metric, d.day, d.day::timestamp AT TIME ZONE d.tz AS starts_at,
                 (d.day + 1)::timestamp AT TIME ZONE d.tz AS ends_at,
                 EXISTS (SELECT 1 FROM cumulative_metrics c WHERE c.metric = d.metric) AS cumulative
          FROM d)`;
}

/**
 * Upserts the day rows of CTE `w` (tz, metric, day, starts_at, ends_at, cumulative) from the
 * quarters that count, by the rule of the rollup_counted view (migration 6): for a cumulative
 * metric, in each quarter only the best-ranked (priority, source). Here the rule is a rank over
 * the day's quarters, sorted in memory, instead of the view's two index probes per quarter (is
 * the metric cumulative? has the quarter a better-ranked rival?): measured on a year of
 * step_count (19,676 quarters, 366 days), the whole statement 270 ms against 117 ms. The rebuild still reads the
 * view, and tests/rollups compares the two.
 */
const UPSERT_DAYS_FROM_W = `INSERT INTO rollup_days (user_id, tz, metric, starts_at, unit, day, samples, total, low, high)
    SELECT $1, w.tz, w.metric, w.starts_at, s.unit, w.day, s.samples, s.total, s.low, s.high
    FROM w CROSS JOIN LATERAL (
      SELECT c.unit, sum(c.samples)::int AS samples, sum(c.total) AS total, min(c.low) AS low, max(c.high) AS high
      FROM (
        SELECT q.unit, q.samples, q.total, q.low, q.high,
               rank() OVER (PARTITION BY q.bucket ORDER BY q.priority, q.source) AS place
        FROM rollup_quarters q
        WHERE q.user_id = $1 AND q.metric = w.metric AND q.bucket >= w.starts_at AND q.bucket < w.ends_at
      ) c
      WHERE c.place = 1 OR NOT w.cumulative
      GROUP BY c.unit
    ) s
    ON CONFLICT (user_id, tz, metric, starts_at, unit) DO UPDATE
      SET day = excluded.day, samples = excluded.samples, total = excluded.total, low = excluded.low, high = excluded.high`;

export interface RefreshSql {
  lock: string;
  deleteQuarters: string;
  insertQuarters: string;
  days: string;
}

export function refreshSql(input: RollupInput, bounds: Bounds): RefreshSql {
  const metricMatch = input.seriesColumn ? 'q.metric = r.series' : 'q.metric = ANY ($5::text[])';
  return {
    lock: `SELECT pg_advisory_xact_lock(hashtext('rollups:${input.table}:' || $1::bigint))`,
    deleteQuarters: `WITH ${SPANS_CTE}
      DELETE FROM rollup_quarters q USING r
      WHERE q.user_id = $1 AND ${metricMatch} AND q.bucket >= r.lo AND q.bucket < r.hi`,
    insertQuarters: `WITH ${SPANS_CTE} ${insertQuartersSql(inputRowsSql(input, spanJoin(input, bounds)))}`,
    // Days are upserted in place, and in the same statement the touched days' rows of a unit
    // that is no longer counted there (an update changed a unit) deleted: every row the upsert
    // did not return. The DELETE sees the table as it was before the statement, so it never
    // meets a row the upsert wrote. Asking rollup_counted instead whether each such unit still
    // counts planned an index scan over every quarter of the metric per touched day, with the
    // view's priority subplan on each: 14 s for one batch of a year of steps, 85 backend-s for
    // the 100 MB import against 6 s without rollups.
    // The rows to delete are found by one probe of the primary key per touched day, in a
    // subquery of the select list, which the planner cannot turn into a join: as a join, while
    // rollup_days had no statistics (a first import ends before autovacuum analyzes it), it read
    // every day row of the user and hashed them against the touched days, a cost that grows with
    // the user's history batch after batch (10,559 rows read for one month of heart rate after
    // the Apple bench import: 11.5 ms, against 6.8 ms analyzed and 6.7 ms this way).
    days: `WITH ${touchedDaysCtes(input)},
      kept AS (${UPSERT_DAYS_FROM_W} RETURNING tz, metric, starts_at, unit),
      gone AS (
        SELECT unnest(ARRAY(
          SELECT t.ctid FROM rollup_days t
          WHERE t.user_id = $1 AND t.tz = w.tz AND t.metric = w.metric AND t.starts_at = w.starts_at
            AND (t.tz, t.metric, t.starts_at, t.unit) NOT IN (SELECT k.tz, k.metric, k.starts_at, k.unit FROM kept k)
        )) AS tid
        FROM w)
      DELETE FROM rollup_days t WHERE t.ctid = ANY (ARRAY(SELECT tid FROM gone))`,
  };
}

/**
 * Recomputes the quarters and days of `spans` for one user from the stored rows. Runs on the
 * caller's client, inside its transaction.
 */
export async function refreshSpans(db: Queryable, userId: number, input: RollupInput, spans: Spans): Promise<void> {
  if (!spans.series.length) return;
  const sql = refreshSql(input, boundsOf(spans));
  const params: unknown[] = [userId, spans.series, spans.lo.map(iso), spans.hi.map(iso)];
  await db.query(NO_JIT);
  await db.query(sql.lock, [userId]);
  await db.query(sql.deleteQuarters, withMetrics(input, params));
  await db.query(sql.insertQuarters, params);
  await refreshDays(db, sql, input, params);
}

/** Adds a batch's quarter aggregates of new rows (a direct COPY), then recomputes its days. */
export async function addQuarters(db: pg.PoolClient, userId: number, input: RollupInput, rows: QuarterRows, ranks: SourceRankCache): Promise<void> {
  if (!rows.bucket.length) return;
  const spans = spansOfQuarters(rows, input.seriesColumn !== null);
  const sql = refreshSql(input, boundsOf(spans));
  await addQuarterRows(db, userId, rows, ranks); // turns JIT off too
  await db.query(sql.lock, [userId]);
  await refreshDays(db, sql, input, [userId, spans.series, spans.lo.map(iso), spans.hi.map(iso)]);
}

/** A day touched by many batches is rewritten in place, not deleted and inserted each time. */
async function refreshDays(db: Queryable, sql: RefreshSql, input: RollupInput, params: unknown[]): Promise<void> {
  await db.query(sql.days, withMetrics(input, params));
}

// These statements touch a few thousand rows, but their estimates (the view over all of a
// user's quarters) pass jit_above_cost: compiling cost more than running them. Measured on
// 100 MB, per-batch upkeep with JIT: 87 s of PostgreSQL CPU against 11 s for the import alone.
const NO_JIT = 'SET LOCAL jit = off';

const withMetrics = (input: RollupInput, params: unknown[]) => (input.seriesColumn ? params : [...params, input.metrics]);

const boundsOf = (spans: Spans): Bounds => ({
  lo: iso(spans.lo.reduce((a, b) => Math.min(a, b))),
  hi: iso(spans.hi.reduce((a, b) => Math.max(a, b))),
});

const iso = (ms: number): string => new Date(ms).toISOString();
