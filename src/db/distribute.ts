/**
 * The Citus steps of `healthexport db distribute` (docs/scale-out.md): which tables are spread
 * over the workers by user_id, which are copied to every node, and the SQL that does it.
 *
 * Every table holding people's data has user_id and every key of it leads with user_id, so one
 * person's rows of every table land in the same shard group and every query the program runs
 * (each filters on user_id) goes to one worker. The small shared tables (users, the metric list,
 * the migration bookkeeping) become reference tables. The lists are written out on purpose: a
 * new table must be placed here, and a test fails until it is.
 *
 * Citus could not be installed where this was written (no package for it in the registries the
 * project can reach), so the SQL is checked against the schema, not run against Citus.
 */
import type pg from 'pg';
import { USER_DATA_TABLES } from './user-tables.js';

/** Copied whole to every node (small, joined by everything, keyed by something else than user_id). */
export const REFERENCE_TABLES: readonly string[] = [
  'users',
  'cumulative_metrics',
  'healthexport_partitioned_tables',
  'healthexport_features',
  'healthexport_migrations',
];

/** Sharded by user_id, all co-located with the first (partitioned parents carry their partitions). */
export const DISTRIBUTED_TABLES: readonly string[] = [
  ...USER_DATA_TABLES,
  'api_keys',
  'rollup_quarters',
  'rollup_days',
  'rollup_zones',
  'source_priorities',
];

/** Functions the workers evaluate inside pushed-down queries. */
const DISTRIBUTED_FUNCTIONS: readonly string[] = ['healthexport_source_rank(text[], text)'];

/** The statements, in order: reference tables first (the distributed ones reference users). */
export function distributeSql(): string[] {
  const [first, ...rest] = DISTRIBUTED_TABLES;
  return [
    ...REFERENCE_TABLES.map((t) => `SELECT create_reference_table('${t}')`),
    `SELECT create_distributed_table('${first}', 'user_id')`,
    ...rest.map((t) => `SELECT create_distributed_table('${t}', 'user_id', colocate_with => '${first}')`),
    ...DISTRIBUTED_FUNCTIONS.map((f) => `SELECT create_distributed_function('${f}')`),
  ];
}

export interface CitusState {
  installed: string | null;
  available: boolean;
}

export async function citusState(db: Pick<pg.Pool, 'query'>): Promise<CitusState> {
  const { rows } = await db.query(`SELECT (SELECT extversion FROM pg_extension WHERE extname = 'citus') AS installed,
      EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'citus') AS available`);
  return { installed: rows[0].installed ?? null, available: rows[0].available };
}

/**
 * Tables of the schema, for the coverage check: partitions excluded (they follow their parent),
 * and tables of extensions (PostGIS's spatial_ref_sys: Citus handles those itself).
 */
export async function schemaTables(db: Pick<pg.Pool, 'query'>): Promise<string[]> {
  const { rows } = await db.query(
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
     ORDER BY 1`,
  );
  return rows.map((r) => r.relname as string);
}

/** Runs the statements in one transaction (Citus requires its extension on this node). */
export async function distribute(pool: pg.Pool): Promise<string[]> {
  const sql = distributeSql();
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    for (const s of sql) await client.query(s);
    await client.query('COMMIT');
    return sql;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
