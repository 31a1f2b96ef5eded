/**
 * A version-2 workout (HAE `id`) re-exported with a corrected `start` is the same workout: its
 * earlier row and series must go, not stay beside it as a second workout. Workouts are keyed
 * (user_id, started_at, workout_id) and partitioned by started_at, so the earlier row is found by
 * its id among the user's stored workouts (read once per run: StoredWorkouts) and deleted by id
 * (index workouts_workout_id_idx) with its children, before the corrected workout and its series
 * are written. Whether the stored one may be replaced follows the order of
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

interface Stored {
  startedAt: number;
  /** The storing export's "as of" instant, epoch ms; null when its run is unknown. */
  asOf: number | null;
}

/**
 * The user's stored workouts (id -> start, and the "as of" instant of the export that stored
 * each), read once per run when its first v2 workout arrives. A lookup by id cannot prune the
 * month partitions of `workouts` (they are by start): over the 656 months of the 5 GB bench
 * (1970-2026) one lookup took 0.73 s, 0.45 s of it planning, and a run made one for every reader
 * batch holding workouts (about one per workout with a long route).
 *
 * Workouts the run deletes are forgotten; the ones it writes are not added, so an id listed
 * twice in one file at two starts keeps both rows (as it did before whenever the first was not
 * committed yet at the second's lookup).
 */
export class StoredWorkouts {
  private stored: Promise<Map<string, Stored[]>> | null = null;

  constructor(
    private readonly pool: pg.Pool,
    private readonly userId: number,
  ) {}

  /**
   * Of the incoming v2 workouts (id -> start, epoch ms), those stored at another start.
   * @example const m = await new StoredWorkouts(pool, userId).moves(new Map([['W-1', t]]), asOf);
   */
  async moves(incoming: Map<string, number>, asOf: number): Promise<WorkoutMoves> {
    const moves: WorkoutMoves = { replace: [], keepStored: [] };
    if (!incoming.size) return moves;
    // A failed read is not kept: the next batch tries again.
    const stored = await (this.stored ??= this.load().catch((err) => {
      this.stored = null;
      throw err;
    }));
    for (const [id, start] of incoming) {
      let replace = false;
      let keep = false;
      for (const s of stored.get(id) ?? []) {
        if (s.startedAt === start) continue;
        if (s.asOf !== null && s.asOf > asOf) keep = true;
        else replace = true;
      }
      if (keep) moves.keepStored.push(id);
      else if (replace) moves.replace.push(id);
    }
    return moves;
  }

  /** The run deleted these (deleteWorkouts). */
  async forget(ids: readonly string[]): Promise<void> {
    const stored = await this.stored;
    for (const id of ids) stored?.delete(id);
  }

  private async load(): Promise<Map<string, Stored[]>> {
    const { rows } = await this.pool.query<{ workout_id: string; started_at: Date; as_of: Date | null }>(
      `SELECT w.workout_id, w.started_at, r.as_of
         FROM workouts w LEFT JOIN raw_ingestions r ON r.id = w.ingestion_id AND r.user_id = w.user_id
        WHERE w.user_id = $1`,
      [this.userId],
    );
    // An id can be stored at two starts (two runs that met it before a move was detected).
    const byId = new Map<string, Stored[]>();
    for (const r of rows) {
      const list = byId.get(r.workout_id) ?? [];
      list.push({ startedAt: r.started_at.getTime(), asOf: r.as_of === null ? null : r.as_of.getTime() });
      byId.set(r.workout_id, list);
    }
    return byId;
  }
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
