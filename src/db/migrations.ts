/**
 * Versioned, reversible migrations: `migrations/NNNN_name.up.sql` and `.down.sql`, applied in
 * order, each in its own transaction, recorded in `healthexport_migrations`. A failed migration
 * rolls back whole, leaving the schema at the previous version.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { ConfigError, errorMessage } from '../errors.js';
import { withClient } from './client.js';
import { dropAllPartitions } from './partitions.js';

// src/db and dist/db are both two levels below the package root.
export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');

export interface Migration {
  version: number;
  name: string;
  up: string;
  down: string;
  checksum: string;
}

export interface AppliedMigration {
  version: number;
  name: string;
  appliedAt: Date;
  checksum: string;
}

export type PostgisMode = 'auto' | 'require' | 'off';

const FILE_RE = /^(\d{4})_([a-z0-9_]+)\.(up|down)\.sql$/;
// Any constant works; it only has to be the same in every healthexport process.
const MIGRATION_LOCK = 0x6865616c; // "heal"

export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const byVersion = new Map<number, Partial<Migration>>();
  for (const file of readdirSync(dir).sort()) {
    const m = FILE_RE.exec(file);
    if (!m) continue;
    const version = Number(m[1]);
    const entry = byVersion.get(version) ?? { version, name: m[2] };
    entry[m[3] as 'up' | 'down'] = readFileSync(path.join(dir, file), 'utf8');
    byVersion.set(version, entry);
  }
  const list = [...byVersion.values()].sort((a, b) => a.version! - b.version!);
  list.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migrations: expected version ${i + 1}, found ${m.version}`);
    if (m.up === undefined || m.down === undefined) {
      throw new Error(`migration ${m.version}_${m.name} needs both .up.sql and .down.sql`);
    }
    m.checksum = createHash('sha256').update(m.up).digest('hex').slice(0, 16);
  });
  return list as Migration[];
}

async function ensureTable(client: pg.PoolClient): Promise<void> {
  await client.query(`CREATE TABLE IF NOT EXISTS healthexport_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`);
}

export async function appliedMigrations(pool: pg.Pool): Promise<AppliedMigration[]> {
  const exists = await pool.query(`SELECT to_regclass('healthexport_migrations') IS NOT NULL AS ok`);
  if (!exists.rows[0].ok) return [];
  const { rows } = await pool.query(
    'SELECT version, name, checksum, applied_at FROM healthexport_migrations ORDER BY version',
  );
  return rows.map((r) => ({ version: r.version, name: r.name, checksum: r.checksum, appliedAt: r.applied_at }));
}

export async function currentVersion(pool: pg.Pool): Promise<number> {
  const applied = await appliedMigrations(pool);
  return applied.length ? applied[applied.length - 1].version : 0;
}

export interface MigrateResult {
  from: number;
  to: number;
  applied: { version: number; name: string; direction: 'up' | 'down'; ms: number }[];
}

/**
 * Moves the schema to `target` (default: latest), up or down. Holds a session advisory lock so
 * two processes never migrate at once.
 */
export async function migrate(
  pool: pg.Pool,
  opts: { target?: number; postgis?: PostgisMode; migrations?: Migration[] } = {},
): Promise<MigrateResult> {
  const migrations = opts.migrations ?? loadMigrations();
  const latest = migrations.length;
  const target = opts.target ?? latest;
  if (!Number.isInteger(target) || target < 0 || target > latest) {
    throw new ConfigError(`migration target must be between 0 and ${latest}, got ${target}`);
  }
  return withClient(pool, async (client) => {
    try {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      await ensureTable(client);
      const { rows } = await client.query('SELECT version, checksum FROM healthexport_migrations ORDER BY version');
      const from = rows.length ? rows[rows.length - 1].version : 0;
      for (const r of rows) {
        const known = migrations[r.version - 1];
        if (known && known.checksum !== r.checksum) {
          // An edited migration that already ran means the database and the code disagree.
          process.emitWarning(`migration ${r.version} changed since it was applied (checksum ${r.checksum} -> ${known.checksum})`);
        }
      }
      const result: MigrateResult = { from, to: from, applied: [] };
      const steps =
        target >= from
          ? migrations.slice(from, target).map((m) => ({ m, direction: 'up' as const }))
          : migrations.slice(target, from).reverse().map((m) => ({ m, direction: 'down' as const }));
      for (const { m, direction } of steps) {
        const started = Date.now();
        try {
          if (direction === 'down') await dropPartitionsFirst(client, m.down);
          await client.query('BEGIN');
          await client.query(`SELECT set_config('healthexport.postgis', $1, true)`, [opts.postgis ?? 'auto']);
          await client.query(direction === 'up' ? m.up : m.down);
          if (direction === 'up') {
            await client.query('INSERT INTO healthexport_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
              m.version,
              m.name,
              m.checksum,
            ]);
          } else {
            await client.query('DELETE FROM healthexport_migrations WHERE version = $1', [m.version]);
          }
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => {});
          throw new ConfigError(
            `migration ${m.version}_${m.name} (${direction}) failed, schema left at version ${result.to}: ${errorMessage(err)}`,
          );
        }
        result.to = direction === 'up' ? m.version : m.version - 1;
        result.applied.push({ version: m.version, name: m.name, direction, ms: Date.now() - started });
      }
      return result;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
    }
  });
}

/**
 * The partitions of every month-partitioned table a down migration drops, dropped first, one per
 * transaction: DROP TABLE of a parent with a decade of partitions would lock them all (and their
 * indexes) in the migration's transaction, more than PostgreSQL's shared lock table holds
 * (see MONTHS_PER_TRANSACTION in ./partitions.ts). Their rows are what the down migration
 * deletes anyway.
 */
async function dropPartitionsFirst(client: pg.PoolClient, downSql: string): Promise<void> {
  const { rows } = await client.query(`SELECT to_regclass('healthexport_partitioned_tables') IS NOT NULL AS ok`);
  if (!rows[0].ok) return;
  const dropped = new Set([...downSql.matchAll(/DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?"?(\w+)"?/gi)].map((x) => x[1].toLowerCase()));
  const { rows: tables } = await client.query('SELECT table_name FROM healthexport_partitioned_tables');
  for (const { table_name: t } of tables) if (dropped.has(t)) await dropAllPartitions(client, t);
}

/**
 * For commands that only read: they never change the schema, so a database behind this version
 * (a fresh one, or one after an upgrade) is an error that names the command that applies it.
 */
export async function requireCurrentSchema(pool: pg.Pool): Promise<void> {
  const latest = loadMigrations().length;
  const current = await currentVersion(pool);
  if (current >= latest) return;
  throw new ConfigError(
    current === 0
      ? `this database has no healthexport schema yet: run \`healthexport migrate up\` (or import something: import and serve apply migrations)`
      : `the database schema is behind this version of healthexport (${current} of ${latest} migrations applied): run \`healthexport migrate up\``,
  );
}

/** Commands that write (import, serve, users, keys, partitions create) call this so a newcomer never has to run migrations by hand. */
export async function ensureMigrated(pool: pg.Pool, postgis: PostgisMode = 'auto'): Promise<MigrateResult | null> {
  const latest = loadMigrations().length;
  if ((await currentVersion(pool)) >= latest) return null;
  return migrate(pool, { postgis });
}
