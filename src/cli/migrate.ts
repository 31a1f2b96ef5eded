import { Command } from 'commander';
import { appliedMigrations, loadMigrations, migrate } from '../db/migrations.js';
import { addDbOptions, printJson, withDatabase, type DbOptions } from './context.js';
import { renderTable } from './format.js';

function parseTarget(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--to expects a migration number, got "${v}"`);
  return n;
}

export function migrateCommand(): Command {
  const cmd = new Command('migrate').description('apply or revert schema migrations');
  addDbOptions(
    cmd
      .command('up')
      .description('apply pending migrations (all, or up to --to N)')
      .option('--to <n>', 'stop at migration N', parseTarget)
      .option('--json', 'print the result as JSON')
      .addHelpText('after', '\nExample:\n  $ healthexport migrate up --database-url postgres://localhost/health'),
  ).action(async (o: DbOptions & { to?: number; json?: boolean }) => {
    await withDatabase(
      o,
      async (db) => {
        const r = await migrate(db.pool, { target: o.to, postgis: o.postgis });
        if (o.json) return printJson(r);
        if (!r.applied.length) console.log(`schema is up to date (version ${r.to})`);
        for (const a of r.applied) console.log(`applied ${String(a.version).padStart(4, '0')}_${a.name} (${a.ms} ms)`);
      },
      { migrateFirst: false },
    );
  });
  addDbOptions(
    cmd
      .command('down')
      .description('revert migrations: the last one, or down to --to N (0 removes everything)')
      .option('--to <n>', 'revert until the schema is at version N', parseTarget)
      .option('--json', 'print the result as JSON')
      .addHelpText('after', '\nExample:\n  $ healthexport migrate down --to 1'),
  ).action(async (o: DbOptions & { to?: number; json?: boolean }) => {
    await withDatabase(
      o,
      async (db) => {
        const applied = await appliedMigrations(db.pool);
        const current = applied.length ? applied[applied.length - 1].version : 0;
        const r = await migrate(db.pool, { target: o.to ?? Math.max(current - 1, 0), postgis: o.postgis });
        if (o.json) return printJson(r);
        if (!r.applied.length) console.log(`nothing to revert (version ${r.to})`);
        for (const a of r.applied) console.log(`reverted ${String(a.version).padStart(4, '0')}_${a.name} (${a.ms} ms)`);
      },
      { migrateFirst: false },
    );
  });
  addDbOptions(cmd.command('status').description('list migrations and whether each is applied').option('--json', 'print as JSON').addHelpText('after', '\nExample:\n  $ healthexport migrate status')).action(
    async (o: DbOptions & { json?: boolean }) => {
      await withDatabase(
        o,
        async (db) => {
          const applied = new Map((await appliedMigrations(db.pool)).map((a) => [a.version, a]));
          const rows = loadMigrations().map((m) => ({
            version: m.version,
            name: m.name,
            appliedAt: applied.get(m.version)?.appliedAt?.toISOString() ?? null,
          }));
          if (o.json) return printJson(rows);
          console.log(
            renderTable(
              ['version', 'name', 'applied'],
              rows.map((r) => [String(r.version).padStart(4, '0'), r.name, r.appliedAt ?? 'pending']),
            ),
          );
        },
        { migrateFirst: false },
      );
    },
  );
  return cmd;
}
