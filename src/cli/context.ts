/**
 * What every database command shares: the connection options and a helper that opens the
 * database, brings the schema up to date, runs the command and always closes (which also
 * stops an embedded server this process started).
 */
import { Command, Option } from 'commander';
import { openDatabase, type Database } from '../db/connection.js';
import { ensureMigrated, type PostgisMode } from '../db/migrations.js';

export interface DbOptions {
  databaseUrl?: string;
  dataDir?: string;
  postgis?: PostgisMode;
}

export function addDbOptions(cmd: Command): Command {
  return cmd
    .option('--database-url <url>', 'PostgreSQL URL (default: $DATABASE_URL, then PG* variables, then the embedded server)')
    .option('--data-dir <dir>', 'data directory of the embedded PostgreSQL (default: $HEALTHEXPORT_DATA_DIR or ~/.local/share/healthexport)')
    .addOption(
      new Option('--postgis <mode>', 'route geometry: auto (use PostGIS if the server has it), require, off')
        .choices(['auto', 'require', 'off'])
        .default('auto'),
    );
}

export async function withDatabase<T>(
  opts: DbOptions,
  fn: (db: Database) => Promise<T>,
  { migrateFirst = true, poolMax }: { migrateFirst?: boolean; poolMax?: number } = {},
): Promise<T> {
  const db = await openDatabase({ databaseUrl: opts.databaseUrl, dataDir: opts.dataDir, poolMax });
  try {
    if (migrateFirst) await ensureMigrated(db.pool, opts.postgis ?? 'auto');
    return await fn(db);
  } finally {
    await db.close();
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}
