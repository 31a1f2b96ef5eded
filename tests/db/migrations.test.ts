import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appliedMigrations, currentVersion, loadMigrations, migrate, type Migration } from '../../src/db/migrations.js';
import { createTestDatabase, postgisAvailable, type TestDatabase } from '../support/db.js';

/** Everything in the public schema that a migration can create, in a comparable form. */
async function catalog(db: TestDatabase): Promise<string[]> {
  const { rows } = await db.pool.query(`
    SELECT 'rel ' || c.relname || ' ' || c.relkind::text AS item FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'
    UNION ALL
    SELECT 'col ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT 'con ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
     WHERE connamespace = 'public'::regnamespace
    UNION ALL
    SELECT 'idx ' || indexrelid::regclass || ' ' || pg_get_indexdef(indexrelid) FROM pg_index i
      JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'
    UNION ALL
    SELECT 'fn ' || p.oid::regprocedure FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
    UNION ALL
    SELECT 'ext ' || extname FROM pg_extension
    ORDER BY 1`);
  return rows.map((r) => r.item as string).filter((i) => !i.includes('healthexport_migrations'));
}

describe('migrations', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db?.drop());

  it('are numbered 1..n, each with an up and a down', () => {
    const list = loadMigrations();
    expect(list.length).toBeGreaterThanOrEqual(2);
    list.forEach((m, i) => {
      expect(m.version).toBe(i + 1);
      expect(m.up.length).toBeGreaterThan(0);
      expect(m.down.length).toBeGreaterThan(0);
    });
  });

  it('go up, down to zero and up again to the same catalog', async () => {
    const empty = await catalog(db);
    const up = await migrate(db.pool);
    expect(up.to).toBe(loadMigrations().length);
    const first = await catalog(db);
    expect(first.some((i) => i.startsWith('rel heart_rate_metrics p'))).toBe(true);

    const down = await migrate(db.pool, { target: 0 });
    expect(down.to).toBe(0);
    expect(await catalog(db)).toEqual(empty);

    await migrate(db.pool);
    expect(await catalog(db)).toEqual(first);
    expect((await appliedMigrations(db.pool)).map((a) => a.version)).toEqual(loadMigrations().map((m) => m.version));
  });

  it('turn JIT off for new sessions of the database, and back on when undone', async () => {
    const jit = async () => {
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      try {
        return (await c.query('SHOW jit')).rows[0].jit as string;
      } finally {
        await c.end();
      }
    };
    await migrate(db.pool);
    expect(await jit()).toBe('off');
    await migrate(db.pool, { target: 8 });
    expect(await jit()).toBe('on');
    await migrate(db.pool);
    expect(await jit()).toBe('off');
  });

  it('is a no-op when already up to date', async () => {
    await migrate(db.pool);
    const r = await migrate(db.pool);
    expect(r.applied).toEqual([]);
  });

  it('rolls a failing migration back whole and stays at the previous version', async () => {
    await migrate(db.pool); // up to date whatever ran before (each test runs alone)
    const real = loadMigrations();
    const broken: Migration = {
      version: real.length + 1,
      name: 'broken',
      up: 'CREATE TABLE half_done (id int); SELECT no_such_function();',
      down: 'DROP TABLE half_done;',
      checksum: 'x',
    };
    await expect(migrate(db.pool, { migrations: [...real, broken] })).rejects.toThrow(
      new RegExp(`migration ${broken.version}_broken \\(up\\) failed, schema left at version ${real.length}`),
    );
    expect(await currentVersion(db.pool)).toBe(real.length);
    const { rows } = await db.pool.query(`SELECT to_regclass('half_done') AS t`);
    expect(rows[0].t).toBeNull();
  });

  it('every primary key of a partitioned table starts with user_id and includes the partition column', async () => {
    await migrate(db.pool); // up to date whatever ran before (each test runs alone)
    const { rows } = await db.pool.query(`
      SELECT t.table_name, t.time_column,
             (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM pg_constraint c
                CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY k(attnum, ord)
                JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
               WHERE c.conrelid = t.table_name::regclass AND c.contype = 'p') AS pk,
             (SELECT count(*) FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam
               WHERE i.indrelid = t.table_name::regclass AND am.amname = 'brin') AS brin
        FROM healthexport_partitioned_tables t`);
    expect(rows.length).toBeGreaterThanOrEqual(8);
    for (const r of rows) {
      expect(r.pk[0], r.table_name).toBe('user_id');
      expect(r.pk, r.table_name).toContain(r.time_column);
      expect(Number(r.brin), `${r.table_name} has a BRIN index`).toBe(1);
    }
  });

  it('rejects physically impossible values in the database too', async () => {
    await migrate(db.pool); // up to date whatever ran before (each test runs alone)
    await db.pool.query(`SELECT healthexport_create_month_partitions('2024-01-01', '2024-01-01')`);
    await expect(
      db.pool.query(`INSERT INTO heart_rate_metrics (user_id, recorded_at, avg_bpm) VALUES (1, '2024-01-05', 900)`),
    ).rejects.toThrow(/check constraint/);
    await expect(
      db.pool.query(`INSERT INTO workout_routes (user_id, workout_id, recorded_at, latitude, longitude) VALUES (1, 'w', '2024-01-05', 123, 0)`),
    ).rejects.toThrow(/check constraint/);
    // A month without a partition has nowhere to go: no default partition swallows it.
    await expect(
      db.pool.query(`INSERT INTO heart_rate_metrics (user_id, recorded_at, avg_bpm) VALUES (1, '1999-01-05', 60)`),
    ).rejects.toThrow(/no partition/);
  });
});

describe('PostGIS', () => {
  it('adds route geometry when the server has PostGIS', async (ctx) => {
    if (!(await postgisAvailable())) {
      console.warn('skipped: this PostgreSQL has no postgis extension (CI installs postgresql-15-postgis-3)');
      ctx.skip();
    }
    const db = await createTestDatabase({ migrate: true });
    try {
      expect(await db.hasPostgis()).toBe(true);
      await db.pool.query(`SELECT healthexport_create_month_partitions('2024-01-01', '2024-01-01')`);
      await db.pool.query(
        `INSERT INTO workout_routes (user_id, workout_id, recorded_at, latitude, longitude, altitude) VALUES (1, 'w', '2024-01-05', 47.5, -122.3, 20)`,
      );
      const { rows } = await db.pool.query(`SELECT ST_AsText(geom) AS g, ST_SRID(geom) AS srid FROM workout_routes`);
      expect(rows[0]).toEqual({ g: 'POINT Z (-122.3 47.5 20)', srid: 4326 });
    } finally {
      await db.drop();
    }
  });

  it('can be turned off: points are stored without geometry', async () => {
    const db = await createTestDatabase();
    try {
      await migrate(db.pool, { postgis: 'off' });
      const { rows } = await db.pool.query(
        `SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'workout_routes' AND column_name = 'geom'`,
      );
      expect(rows[0].n).toBe(0);
      await db.pool.query(`SELECT healthexport_create_month_partitions('2024-01-01', '2024-01-01')`);
      await db.pool.query(
        `INSERT INTO workout_routes (user_id, workout_id, recorded_at, latitude, longitude) VALUES (1, 'w', '2024-01-05', 47.5, -122.3)`,
      );
      const feature = await db.pool.query(`SELECT enabled, detail FROM healthexport_features WHERE feature = 'postgis'`);
      expect(feature.rows[0]).toEqual({ enabled: false, detail: 'disabled by --postgis off' });
    } finally {
      await db.drop();
    }
  });
});
