/**
 * Which PostgreSQL the CLI talks to: DATABASE_URL (a postgres:// URL, or a libpq keyword string
 * such as `host=db dbname=health`, or `service=NAME`), else the libpq PG* variables (PGSERVICE
 * included), else the embedded server in a local data directory.
 */
import pg from 'pg';
import { ConfigError, DatabaseUnavailableError, errorMessage } from '../errors.js';
import { conninfoToConfig, describeConninfo, isKeywordString, parseKeywordString, withService } from './conninfo.js';
import { startEmbedded, type EmbeddedServer } from './embedded.js';
import { isDatabaseUnavailable } from './unavailable.js';

// Keep timestamptz, bigint and numeric as strings: nothing here does date arithmetic in JS on
// values read back, and bigint counts must not lose precision.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export interface Database {
  pool: pg.Pool;
  /** Where the data lives, with any password hidden, for messages and `db info`. */
  description: string;
  kind: 'server' | 'embedded';
  close(): Promise<void>;
}

export interface OpenOptions {
  databaseUrl?: string;
  dataDir?: string;
  poolMax?: number;
  applicationName?: string;
}

const PG_ENV_KEYS = ['PGHOST', 'PGHOSTADDR', 'PGDATABASE', 'PGSERVICE', 'PGPORT', 'PGUSER'];

/** A connection URL fit for messages and logs: the password replaced by ***. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

function validateUrl(url: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError(`DATABASE_URL is not a valid URL (expected postgres://user:pass@host:5432/db, or host=... dbname=...)`);
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    throw new ConfigError(`DATABASE_URL must start with postgres:// or postgresql://, not ${u.protocol}//`);
  }
}

function describeEnv(): string {
  const e = process.env;
  return `${e.PGUSER ?? ''}${e.PGUSER ? '@' : ''}${e.PGHOST ?? 'localhost'}:${e.PGPORT ?? 5432}/${e.PGDATABASE ?? e.PGUSER ?? ''} (PG* variables)`;
}

/**
 * The server that a URL / keyword string, or else the PG* variables, name; null when nothing
 * names one (then the embedded server runs).
 */
export function serverConfig(url: string | undefined): { config: pg.PoolConfig; description: string } | null {
  if (url && isKeywordString(url)) {
    const given = parseKeywordString(url);
    const c = withService(given);
    return { config: conninfoToConfig(c), description: describeConninfo(c, given.service ?? process.env.PGSERVICE) };
  }
  if (url) {
    validateUrl(url);
    return { config: { connectionString: url }, description: redactUrl(url) };
  }
  if (process.env.PGSERVICE) {
    const c = withService({});
    return { config: conninfoToConfig(c), description: describeConninfo(c, process.env.PGSERVICE) };
  }
  if (PG_ENV_KEYS.some((k) => process.env[k])) return { config: {}, description: describeEnv() };
  return null;
}

export async function openDatabase(opts: OpenOptions = {}): Promise<Database> {
  const server = serverConfig(opts.databaseUrl ?? process.env.DATABASE_URL);
  let embedded: EmbeddedServer | null = null;
  let config: pg.PoolConfig;
  let description: string;
  if (server) {
    ({ config, description } = server);
  } else {
    embedded = await startEmbedded(opts.dataDir);
    config = { connectionString: embedded.connectionString };
    description = `embedded PostgreSQL in ${embedded.dataDir}`;
  }
  const pool = new pg.Pool({
    ...config,
    max: opts.poolMax ?? 6,
    application_name: opts.applicationName ?? 'healthexport',
    connectionTimeoutMillis: 15_000,
  });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', () => {});
  try {
    const client = await pool.connect();
    client.release();
  } catch (err) {
    await pool.end().catch(() => {});
    await embedded?.stop();
    const message = `cannot connect to PostgreSQL at ${description}: ${errorMessage(err) || (err as { code?: string }).code}`;
    throw isDatabaseUnavailable(err) ? new DatabaseUnavailableError(message) : new ConfigError(message);
  }
  return {
    pool,
    description,
    kind: embedded ? 'embedded' : 'server',
    async close() {
      await pool.end();
      await embedded?.stop();
    },
  };
}
