import pg from 'pg';
import { refreshSql } from './src/rollups/refresh.ts';
import { rollupInput } from './src/rollups/inputs.ts';
const pool = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:5432/he_dash12_ab' });
const t = process.argv[2];
const input = rollupInput(t)!;
const lo = process.argv[3] ?? '2016-05-01T00:00:00Z', hi = process.argv[4] ?? '2016-05-18T00:00:00Z';
const sql = refreshSql(input, { lo, hi });
const params: unknown[] = [1, [input.seriesColumn ? 'step_count' : ''], [lo], [hi]];
const wm = input.seriesColumn ? params : [...params, input.metrics];
const c = await pool.connect();
await c.query('BEGIN');
for (const [name, q, p] of [['deleteQuarters', sql.deleteQuarters, wm], ['insertQuarters', sql.insertQuarters, params], ['deleteDays', sql.deleteDays, wm], ['insertDays', sql.insertDays, wm]] as const) {
  const t0 = Date.now();
  const r = await c.query('EXPLAIN (ANALYZE, COSTS OFF, BUFFERS) ' + q, p as unknown[]);
  console.log(t, name, Date.now() - t0, 'ms', r.rows.map((x) => x['QUERY PLAN']).filter((l: string) => !/never executed/.test(l)).join('\n'));
}
await c.query('ROLLBACK'); c.release();
await pool.end();
