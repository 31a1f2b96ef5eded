/**
 * A version-2 workout (HAE `id`) re-exported with a corrected `start` is the same workout: its
 * earlier row and series must go, not stay beside it as a second workout. Workouts are keyed
 * (user_id, started_at, workout_id) and partitioned by started_at, so the earlier row is found by
 * its id (index workouts_workout_id_idx) and deleted with its children, before the corrected
 * workout and its series are written. Whether the stored one may be replaced follows the order of
 * imports (writer.ts): a row written by a newer export is kept, and the incoming workout with its
 * series is skipped instead.
 */
import type pg from 'pg';

/** Tables holding a workout's series, keyed by workout_id. */
const CHILD_TABLES = ['workout_routes', 'workout_heart_rate', 'workout_series'] as const;

export interface WorkoutMoves {
  /** Stored at another start by an export not newer than this one: replace. */
  replace: string[];
  /** Stored at another start by a newer export: keep it, skip the incoming one. */
  keepStored: string[];
}

/**
 * Of the incoming v2 workouts (id → start, epoch ms), those stored at another start.
 * @example const m = await findMovedWorkouts(pool, userId, new Map([['W-1', t]]), asOf);
 */
export async function findMovedWorkouts(pool: pg.Pool, userId: number, incoming: Map<string, number>, asOf: number): Promise<WorkoutMoves> {
  const moves: WorkoutMoves = { replace: [], keepStored: [] };
  if (!incoming.size) return moves;
  const { rows } = await pool.query(
    `SELECT w.workout_id, w.started_at, coalesce(r.as_of > $3, false) AS newer
       FROM workouts w LEFT JOIN raw_ingestions r ON r.id = w.ingestion_id AND r.user_id = w.user_id
      WHERE w.user_id = $1 AND w.workout_id = ANY($2)`,
    [userId, [...incoming.keys()], new Date(asOf)],
  );
  const replace = new Set<string>();
  const keep = new Set<string>();
  for (const r of rows as { workout_id: string; started_at: Date; newer: boolean }[]) {
    if (r.started_at.getTime() === incoming.get(r.workout_id)) continue;
    (r.newer ? keep : replace).add(r.workout_id);
  }
  for (const id of keep) replace.delete(id);
  moves.replace = [...replace];
  moves.keepStored = [...keep];
  return moves;
}

/** Deletes the workouts with these ids and their series, in one transaction. Returns workouts deleted. */
export async function deleteWorkouts(pool: pg.Pool, userId: number, ids: string[]): Promise<number> {
  if (!ids.length) return 0;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    for (const t of CHILD_TABLES) await client.query(`DELETE FROM ${t} WHERE user_id = $1 AND workout_id = ANY($2)`, [userId, ids]);
    const { rowCount } = await client.query(`DELETE FROM workouts WHERE user_id = $1 AND workout_id = ANY($2)`, [userId, ids]);
    await client.query('COMMIT');
    return rowCount ?? 0;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
