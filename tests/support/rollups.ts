/**
 * Every rollup row of a user, for comparing what imports kept with what a rebuild computes.
 * Totals are rounded: float sums may differ in the last bits with the order of addition.
 */
import type pg from 'pg';

export async function rollupSnapshot(pool: pg.Pool, userId: number) {
  const q = await pool.query(
    `SELECT metric, bucket, source, unit, priority, samples, round(total::numeric, 6) AS total, low, high
     FROM rollup_quarters WHERE user_id = $1 ORDER BY metric, bucket, source, unit`,
    [userId],
  );
  const d = await pool.query(
    `SELECT tz, metric, starts_at, unit, day, samples, round(total::numeric, 6) AS total, low, high
     FROM rollup_days WHERE user_id = $1 ORDER BY tz, metric, starts_at, unit`,
    [userId],
  );
  return { quarters: q.rows, days: d.rows };
}
