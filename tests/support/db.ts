/**
 * A fresh database per test file on the real server chosen by global-setup, dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { migrate } from '../../src/db/migrations.js';

export interface TestDatabase {
  url: string;
  pool: pg.Pool;
  hasPostgis(): Promise<boolean>;
  drop(): Promise<void>;
}

export function adminUrl(): string {
  return inject('adminDatabaseUrl');
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function createTestDatabase(opts: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const name = `he_test_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = withDatabase(adminUrl(), name);
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on('error', () => {});
  if (opts.migrate) await migrate(pool);
  return {
    url,
    pool,
    async hasPostgis() {
      const { rows } = await pool.query(`SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'postgis') AS ok`);
      return rows[0].ok as boolean;
    },
    async drop() {
      await pool.end();
      const a = new pg.Client({ connectionString: adminUrl() });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

export async function postgisAvailable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: adminUrl() });
  await c.connect();
  try {
    const { rows } = await c.query(`SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'postgis') AS ok`);
    return rows[0].ok as boolean;
  } finally {
    await c.end();
  }
}
