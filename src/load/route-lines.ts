/**
 * With PostGIS, each workout gets its route as one LineString built from its stored points, so
 * maps and distance queries need no aggregation. Without PostGIS this does nothing: the points
 * are all there as latitude/longitude.
 */
import type pg from 'pg';

export async function postgisEnabled(pool: pg.Pool): Promise<boolean> {
  const { rows } = await pool.query(
    `SELECT to_regclass('healthexport_features') IS NOT NULL
        AND EXISTS (SELECT 1 FROM healthexport_features WHERE feature = 'postgis' AND enabled) AS ok`,
  );
  return rows[0].ok;
}

export async function buildRouteLines(pool: pg.Pool, userId: number, workoutIds: string[]): Promise<number> {
  if (!workoutIds.length || !(await postgisEnabled(pool))) return 0;
  const { rowCount } = await pool.query(
    `UPDATE workouts w SET route = l.line
       FROM (SELECT workout_id, ST_MakeLine(geom ORDER BY recorded_at, seq) AS line
               FROM workout_routes WHERE user_id = $1 AND workout_id = ANY($2)
              GROUP BY workout_id HAVING count(*) > 1) l
      WHERE w.user_id = $1 AND w.workout_id = l.workout_id
        AND w.route IS DISTINCT FROM l.line`,
    [userId, workoutIds],
  );
  return rowCount ?? 0;
}
