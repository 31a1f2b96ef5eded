import { Command } from 'commander';
import { appliedMigrations, loadMigrations } from '../db/migrations.js';
import { addDbOptions, printJson, withDatabase, type DbOptions } from './context.js';

export function dbCommand(): Command {
  const cmd = new Command('db').description('inspect the database in use');
  addDbOptions(cmd.command('info').description('which database, server version, PostGIS, migrations').option('--json', 'print as JSON').addHelpText('after', '\nExample:\n  $ DATABASE_URL=postgres://localhost/health healthexport db info')).action(
    async (o: DbOptions & { json?: boolean }) => {
      await withDatabase(
        o,
        async (db) => {
          const { rows } = await db.pool.query(`SELECT current_setting('server_version') AS version,
              (SELECT extversion FROM pg_extension WHERE extname = 'postgis') AS postgis,
              EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'postgis') AS postgis_available,
              current_database() AS database`);
          const applied = await appliedMigrations(db.pool);
          const info = {
            database: db.description,
            kind: db.kind,
            serverVersion: rows[0].version as string,
            postgis: rows[0].postgis
              ? { enabled: true, version: rows[0].postgis as string }
              : { enabled: false, available: rows[0].postgis_available as boolean },
            migrations: { applied: applied.map((a) => a.version), latest: loadMigrations().length },
          };
          if (o.json) return printJson(info);
          console.log(`database:   ${info.database} (${info.kind})`);
          console.log(`server:     PostgreSQL ${info.serverVersion}`);
          console.log(
            `postgis:    ${
              info.postgis.enabled
                ? `enabled (${(info.postgis as { version: string }).version})`
                : `not enabled: route points are stored without geometry${info.postgis.available ? ' (available: run migrate with --postgis auto after reverting 2)' : ''}`
            }`,
          );
          console.log(`migrations: ${applied.length}/${info.migrations.latest} applied`);
        },
        { migrateFirst: false },
      );
    },
  );
  return cmd;
}
