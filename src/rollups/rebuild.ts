/**
 * Whole-user rollup work: recompute everything from the stored rows (`rollups rebuild`), keep
 * days for another zone (`rollups zones add`), and change a user's source priority (`sources
 * priority`), which re-ranks the quarters and recounts the days.
 *
 * The days here are computed set-based (one GROUP BY over the user's quarters) while the
 * importer recomputes them day by day: two forms of one definition, which the tests hold equal.
 */
import type pg from 'pg';
import { inputRowsSql, insertQuartersSql, rollupInputs } from './inputs.js';

/** Days of every quarter of user $1 in the zones of CTE `z(tz)`, from rollup_counted. */
const INSERT_ALL_DAYS = `INSERT INTO rollup_days (user_id, tz, metric, starts_at, unit, day, samples, total, low, high)
  SELECT $1, g.tz, g.metric, g.day::timestamp AT TIME ZONE g.tz, g.unit, g.day, g.samples, g.total, g.low, g.high
  FROM (
    SELECT z.tz, c.metric, (c.bucket AT TIME ZONE z.tz)::date AS day, c.unit,
           sum(c.samples)::int AS samples, sum(c.total) AS total, min(c.low) AS low, max(c.high) AS high
    FROM rollup_counted c CROSS JOIN z
    WHERE c.user_id = $1
    GROUP BY 1, 2, 3, 4
  ) g`;

const ZONES_OF_USER = `z AS (SELECT 'UTC'::text AS tz UNION SELECT tz FROM rollup_zones WHERE user_id = $1)`;

async function inTransaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const r = await fn(client);
    await client.query('COMMIT');
    return r;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

/** Waits for imports of this user that are refreshing rollups, and keeps new ones out until commit. */
async function lockUser(client: pg.PoolClient, userId: number): Promise<void> {
  for (const input of rollupInputs()) {
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('rollups:${input.table}:' || $1::bigint))`, [userId]);
  }
}

export interface RebuildResult {
  userId: number;
  quarters: number;
  days: number;
  ms: number;
}

/** Recomputes all rollups of one user from the stored rows, in one transaction. */
export async function rebuildRollups(pool: pg.Pool, userId: number): Promise<RebuildResult> {
  const started = Date.now();
  return inTransaction(pool, async (client) => {
    await client.query('SET LOCAL jit = off');
    await lockUser(client, userId);
    await client.query('DELETE FROM rollup_quarters WHERE user_id = $1', [userId]);
    await client.query('DELETE FROM rollup_days WHERE user_id = $1', [userId]);
    let quarters = 0;
    for (const input of rollupInputs()) {
      quarters += (await client.query(insertQuartersSql(inputRowsSql(input)), [userId])).rowCount ?? 0;
    }
    const days = (await client.query(`WITH ${ZONES_OF_USER} ${INSERT_ALL_DAYS}`, [userId])).rowCount ?? 0;
    return { userId, quarters, days, ms: Date.now() - started };
  });
}

/** Keeps days in `tz` for the user from now on, computing the ones already due. */
export async function addZone(pool: pg.Pool, userId: number, tz: string): Promise<number> {
  return inTransaction(pool, async (client) => {
    await lockUser(client, userId);
    const added = await client.query(
      `INSERT INTO rollup_zones (user_id, tz) SELECT $1, $2 WHERE $2 <> 'UTC' ON CONFLICT DO NOTHING`,
      [userId, tz],
    );
    if (!added.rowCount) return 0;
    const r = await client.query(`WITH z AS (SELECT $2::text AS tz) ${INSERT_ALL_DAYS}`, [userId, tz]);
    return r.rowCount ?? 0;
  });
}

export async function removeZone(pool: pg.Pool, userId: number, tz: string): Promise<boolean> {
  return inTransaction(pool, async (client) => {
    await lockUser(client, userId);
    const r = await client.query('DELETE FROM rollup_zones WHERE user_id = $1 AND tz = $2', [userId, tz]);
    await client.query('DELETE FROM rollup_days WHERE user_id = $1 AND tz = $2', [userId, tz]);
    return (r.rowCount ?? 0) > 0;
  });
}

export async function listZones(db: Pick<pg.Pool, 'query'>, userId: number): Promise<string[]> {
  const { rows } = await db.query(
    `SELECT 'UTC' AS tz UNION SELECT tz FROM rollup_zones WHERE user_id = $1 ORDER BY 1`,
    [userId],
  );
  return rows.map((r) => r.tz as string);
}

export const DEFAULT_PRIORITY: readonly string[] = ['Watch', 'iPhone'];

export async function sourcePriority(db: Pick<pg.Pool, 'query'>, userId: number): Promise<string[]> {
  const { rows } = await db.query('SELECT healthexport_source_patterns($1) AS p', [userId]);
  return rows[0].p as string[];
}

/**
 * Sets the user's source priority (null: back to the default) and recounts: quarters are
 * re-ranked in place, days recomputed. Returns the quarters whose rank changed.
 */
export async function setSourcePriority(pool: pg.Pool, userId: number, patterns: readonly string[] | null): Promise<number> {
  return inTransaction(pool, async (client) => {
    await client.query('SET LOCAL jit = off');
    await lockUser(client, userId);
    if (patterns) {
      await client.query(
        `INSERT INTO source_priorities (user_id, patterns) VALUES ($1, $2)
         ON CONFLICT (user_id) DO UPDATE SET patterns = excluded.patterns, updated_at = now()`,
        [userId, patterns],
      );
    } else {
      await client.query('DELETE FROM source_priorities WHERE user_id = $1', [userId]);
    }
    const moved = await client.query(
      `UPDATE rollup_quarters SET priority = healthexport_source_rank(healthexport_source_patterns($1), source)
       WHERE user_id = $1 AND priority <> healthexport_source_rank(healthexport_source_patterns($1), source)`,
      [userId],
    );
    await client.query('DELETE FROM rollup_days WHERE user_id = $1', [userId]);
    await client.query(`WITH ${ZONES_OF_USER} ${INSERT_ALL_DAYS}`, [userId]);
    return moved.rowCount ?? 0;
  });
}

/**
 * After `partitions drop`: the quarters of the dropped months go with their rows; the days stay
 * (a day's totals outlive the raw months, until `rollups rebuild` computes everything from the
 * rows). Kept, a quarter would only turn wrong: importing its month again adds the same samples
 * to it a second time. Returns how many quarter rows went.
 */
export async function forgetQuartersBefore(pool: pg.Pool, before: Date): Promise<number> {
  const { rowCount } = await pool.query('DELETE FROM rollup_quarters WHERE bucket < $1', [before]);
  return rowCount ?? 0;
}
