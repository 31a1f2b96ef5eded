/**
 * The schema's readiness for Citus (docs/scale-out.md), checked on the real catalog: every key of
 * every data table leads with user_id, `db distribute` names every table exactly once, and on a
 * server without Citus it refuses in one line and changes nothing. (Citus itself is not
 * installable here, so the distribution is not run.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DISTRIBUTED_TABLES, REFERENCE_TABLES, distributeSql, schemaTables } from '../../src/db/distribute.js';
import { runCli } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase({ migrate: true });
});
afterAll(async () => {
  await db?.drop();
});

describe('every key leads with user_id', () => {
  it('holds for every primary key and unique constraint or index of every distributed table', async () => {
    const { rows } = await db.pool.query(
      `SELECT t.relname AS table, i.relname AS index,
              (SELECT a.attname FROM pg_attribute a WHERE a.attrelid = t.oid AND a.attnum = x.indkey[0]) AS first
       FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
       WHERE (x.indisunique OR x.indisprimary) AND t.relname = ANY ($1) AND NOT t.relispartition`,
      [DISTRIBUTED_TABLES],
    );
    expect(new Set(rows.map((r) => r.table))).toEqual(new Set(DISTRIBUTED_TABLES)); // each has a key
    expect(rows.filter((r) => r.first !== 'user_id').map((r) => `${r.table}.${r.index}`)).toEqual([]);
  });

  it('every table with a user_id column is distributed, and no reference table has one', async () => {
    const { rows } = await db.pool.query(
      `SELECT c.relname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'user_id'
       JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition`,
    );
    expect(rows.map((r) => r.relname).sort()).toEqual([...DISTRIBUTED_TABLES].sort());
  });
});

describe('healthexport db distribute', () => {
  it('its SQL names every table of the schema exactly once', async () => {
    const tables = await schemaTables(db.pool);
    expect([...REFERENCE_TABLES, ...DISTRIBUTED_TABLES].sort()).toEqual(tables);
    const sql = distributeSql();
    for (const t of tables) {
      const naming = sql.filter((s) => new RegExp(`\\('${t}'`).test(s));
      expect(naming, t).toHaveLength(1);
    }
    // Reference tables first: distributed tables reference users.
    expect(sql.findIndex((s) => s.includes('create_distributed_table'))).toBe(REFERENCE_TABLES.length);
  });

  it('refuses without the citus extension, in one line, changing nothing; --print shows the SQL', async () => {
    const before = await schemaTables(db.pool);
    const r = await runCli(['db', 'distribute', '--database-url', db.url]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/citus/i);
    expect(r.stderr).toMatch(/nothing was changed/);
    expect(await schemaTables(db.pool)).toEqual(before);
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM pg_extension WHERE extname = 'citus'`);
    expect(rows[0].n).toBe(0);

    const p = await runCli(['db', 'distribute', '--print']);
    expect(p.code).toBe(0);
    expect(p.stdout.trim().split('\n')).toEqual(distributeSql().map((s) => `${s};`));
  });
});
