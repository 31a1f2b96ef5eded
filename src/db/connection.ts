/**
 * Which PostgreSQL the CLI talks to: DATABASE_URL, else the libpq PG* variables, else the
 * embedded server in a local data directory.
 */
import pg from 'pg';
import { ConfigError, DatabaseUnavailableError, errorMessage } from '../errors.js';
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
    throw new ConfigError(`DATABASE_URL is not a valid URL (expected postgres://user:pass@host:5432/db)`);
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    throw new ConfigError(`DATABASE_URL must start with postgres:// or postgresql://, not ${u.protocol}//`);
  }
}

function describeEnv(): string {
  const e = process.env;
  return `${e.PGUSER ?? ''}${e.PGUSER ? '@' : ''}${e.PGHOST ?? 'localhost'}:${e.PGPORT ?? 5432}/${e.PGDATABASE ?? e.PGUSER ?? ''} (PG* variables)`;
}

export async function openDatabase(opts: OpenOptions = {}): Promise<Database> {
  const url = opts.databaseUrl ?? process.env.DATABASE_URL;
  let embedded: EmbeddedServer | null = null;
  let config: pg.PoolConfig;
  let description: string;
  if (url) {
    validateUrl(url);
    config = { connectionString: url };
    description = redactUrl(url);
  } else if (PG_ENV_KEYS.some((k) => process.env[k])) {
    config = {};
    description = describeEnv();
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
