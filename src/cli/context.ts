/**
 * What the command files share: the connection options and a helper that opens the database,
 * brings the schema up to date (commands that write) or checks it is (commands that only read:
 * they never migrate), runs the command and always closes (which also stops an embedded server
 * this process started); the user, cache and number options; JSON output.
 * Command files import from here, never from each other.
 */
import { Command, Option } from 'commander';
import type pg from 'pg';
import { openCache, type Cache, type CacheOptions } from '../cache/cache.js';
import { MAX_DAYS, checkTimeZone } from '../cache/summary-sql.js';
import { openDatabase, type Database } from '../db/connection.js';
import { ensureMigrated, requireCurrentSchema, type PostgisMode } from '../db/migrations.js';
import { userIdByName } from '../db/users.js';
import { ConfigError } from '../errors.js';
import { log } from './log.js';

export interface DbOptions {
  databaseUrl?: string;
  dataDir?: string;
  postgis?: PostgisMode;
}

export function addDbOptions(cmd: Command): Command {
  return cmd
    .option(
      '--database-url <url>',
      'PostgreSQL URL, or libpq keywords ("host=db dbname=health", "service=NAME") (default: $DATABASE_URL, then PG* variables incl. PGSERVICE, then the embedded server)',
    )
    .option('--data-dir <dir>', 'data directory of the embedded PostgreSQL (default: $HEALTHEXPORT_DATA_DIR or ~/.local/share/healthexport)')
    .addOption(
      new Option('--postgis <mode>', 'route geometry: auto (use PostGIS if the server has it), require, off')
        .choices(['auto', 'require', 'off'])
        .default('auto'),
    );
}

/**
 * `readOnly`: the command only reads; it refuses a schema behind this version instead of
 * migrating it. `migrateFirst: false`: neither (migrate, db info look at the schema itself).
 */
export async function withDatabase<T>(
  opts: DbOptions,
  fn: (db: Database) => Promise<T>,
  { migrateFirst = true, readOnly = false, poolMax }: { migrateFirst?: boolean; readOnly?: boolean; poolMax?: number } = {},
): Promise<T> {
  const db = await openDatabase({ databaseUrl: opts.databaseUrl, dataDir: opts.dataDir, poolMax });
  try {
    log.debug('database', { at: db.description, kind: db.kind });
    if (readOnly) await requireCurrentSchema(db.pool);
    else if (migrateFirst) {
      const applied = await ensureMigrated(db.pool, opts.postgis ?? 'auto');
      // Said under --verbose; by default a cron import that succeeds prints nothing on stderr.
      if (applied?.applied.length) log.debug(`applied migrations ${applied.from} -> ${applied.to}`, { from: applied.from, to: applied.to });
    }
    return await fn(db);
  } finally {
    await db.close();
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** `--user`'s default: $HEALTHEXPORT_USER, else "default". */
export function defaultUser(): string {
  return process.env.HEALTHEXPORT_USER || 'default';
}

/** The id of an existing user; a name nobody imported under is a usage error. */
export async function resolveUser(pool: pg.Pool, name: string): Promise<number> {
  const id = await userIdByName(pool, name);
  if (id === null) throw new ConfigError(`unknown user "${name}" (users are created by their first import)`);
  return id;
}

/** A commander parser for a whole number from 1 to `max`. */
export function positiveInt(name: string, max = Number.MAX_SAFE_INTEGER) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > max) {
      throw new ConfigError(max === Number.MAX_SAFE_INTEGER ? `${name} must be a positive whole number, got "${v}"` : `${name} must be a whole number from 1 to ${max}, got "${v}"`);
    }
    return n;
  };
}

export interface CacheFlags {
  redisUrl?: string;
}

export function addRedisOption(cmd: Command): Command {
  return cmd.option('--redis-url <url>', 'Redis for the summary cache (default: $REDIS_URL; unset: no cache)');
}

/** Opens the cache of a command; prints the "cache off" notice once. */
export function openCommandCache(o: CacheFlags, opts: CacheOptions = {}): Cache {
  const cache = openCache(o.redisUrl ?? process.env.REDIS_URL, opts);
  if (!cache.enabled) log.info(cache.notice);
  return cache;
}

/** `--days`: 1 to MAX_DAYS. */
export function daysOption(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > MAX_DAYS) throw new ConfigError(`--days must be a whole number from 1 to ${MAX_DAYS}, got "${v}"`);
  return n;
}

/** `--tz`: an IANA zone name PostgreSQL knows. */
export function tzOption(v: string): string {
  try {
    return checkTimeZone(v);
  } catch {
    throw new ConfigError(`--tz: unknown time zone "${v}" (use an IANA name such as UTC or Europe/Berlin)`);
  }
}
