import { Command } from 'commander';
import { citusState, distribute, distributeSql } from '../db/distribute.js';
import { appliedMigrations, loadMigrations } from '../db/migrations.js';
import { ConfigError } from '../errors.js';
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
          const behind = info.migrations.latest - applied.length;
          console.log(
            `migrations: ${applied.length}/${info.migrations.latest} applied${behind > 0 ? ` (schema behind: run \`healthexport migrate up\`)` : ''}`,
          );
        },
        { migrateFirst: false },
      );
    },
  );
  addDbOptions(
    cmd
      .command('distribute')
      .description('spread the tables over a Citus cluster by user_id (run on the coordinator)')
      .option('--print', 'only print the SQL it would run (works without Citus)')
      .addHelpText(
        'after',
        `
Needs the citus extension in this database (CREATE EXTENSION citus on the coordinator, workers
added with citus_add_node). Without it nothing is changed and the command exits 1. The steps
and what changes for partitions and rollups are in docs/scale-out.md.

Examples:
  $ healthexport db distribute --print
  $ DATABASE_URL=postgres://coordinator/health healthexport db distribute`,
      ),
  ).action(async (o: DbOptions & { print?: boolean }) => {
    if (o.print) return console.log(distributeSql().map((s) => `${s};`).join('\n'));
    await withDatabase(o, async (db) => {
      const citus = await citusState(db.pool);
      if (!citus.installed) {
        throw new ConfigError(
          citus.available
            ? 'the citus extension is available but not created in this database: run CREATE EXTENSION citus on the coordinator, add workers (citus_add_node), then run this again; nothing was changed'
            : 'this PostgreSQL has no citus extension, so the tables cannot be distributed; nothing was changed (docs/scale-out.md; see the SQL with --print)',
        );
      }
      const done = await distribute(db.pool);
      console.log(`distributed with Citus ${citus.installed}: ${done.length} statements`);
    });
  });
  return cmd;
}
