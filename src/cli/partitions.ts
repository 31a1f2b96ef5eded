import { Command } from 'commander';
import { createPartitionsAhead, dropPartitionsOlderThan, listPartitions, parseMonth } from '../db/partitions.js';
import { forgetQuartersBefore } from '../rollups/rebuild.js';
import { ConfigError } from '../errors.js';
import { addDbOptions, printJson, withDatabase, type DbOptions } from './context.js';
import { formatBytes, renderTable } from './format.js';

function monthOption(v: string): Date {
  try {
    return parseMonth(v);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
}

export function partitionsCommand(): Command {
  const cmd = new Command('partitions').description('manage the monthly partitions of the time-series tables');
  addDbOptions(
    cmd
      .command('create')
      .description('create monthly partitions from --from (default: this month) to N months ahead; idempotent')
      .option('--months-ahead <n>', 'months after the current one', (v) => Number.parseInt(v, 10), 12)
      .option('--from <YYYY-MM>', 'first month (for loading old data ahead of time)', monthOption)
      .option('--json', 'print the result as JSON')
      .addHelpText('after', '\nExample (cron, monthly):\n  $ healthexport partitions create --months-ahead 12'),
  ).action(async (o: DbOptions & { monthsAhead: number; from?: Date; json?: boolean }) => {
    if (!Number.isInteger(o.monthsAhead) || o.monthsAhead < 0 || o.monthsAhead > 120) {
      throw new ConfigError('--months-ahead must be a whole number from 0 to 120');
    }
    await withDatabase(o, async (db) => {
      const created = await createPartitionsAhead(db.pool, { monthsAhead: o.monthsAhead, from: o.from });
      if (o.json) printJson({ created });
      else console.log(`created ${created} partition${created === 1 ? '' : 's'}`);
    });
  });
  addDbOptions(
    cmd
      .command('list')
      .description('list partitions with estimated rows and size')
      .option('--table <name>', 'only this table')
      .option('--json', 'print as JSON')
      .addHelpText('after', '\nExample:\n  $ healthexport partitions list --table heart_rate_metrics'),
  ).action(async (o: DbOptions & { table?: string; json?: boolean }) => {
    await withDatabase(o, async (db) => {
      const parts = await listPartitions(db.pool, o.table);
      if (o.json) return printJson(parts);
      console.log(renderTable(['table', 'month', 'rows (est.)', 'size'], parts.map((p) => [p.table, p.month, p.rowsEstimate, formatBytes(p.bytes)])));
    }, { readOnly: true });
  });
  addDbOptions(
    cmd
      .command('drop')
      .description('drop every partition of a month before --older-than (retention), with the quarter-hour rollups of those months (daily rollups stay); needs --yes')
      .requiredOption('--older-than <YYYY-MM>', 'drop months strictly before this one', monthOption)
      .option('--yes', 'really drop (the data in them is deleted)')
      .option('--json', 'print as JSON')
      .addHelpText('after', '\nExample:\n  $ healthexport partitions drop --older-than 2015-01 --yes'),
  ).action(async (o: DbOptions & { olderThan: Date; yes?: boolean; json?: boolean }) => {
    if (!o.yes) throw new ConfigError('partitions drop deletes data: add --yes to confirm');
    await withDatabase(o, async (db) => {
      const dropped = await dropPartitionsOlderThan(db.pool, o.olderThan);
      const quarters = await forgetQuartersBefore(db.pool, o.olderThan);
      if (o.json) return printJson({ dropped, rollupQuartersDeleted: quarters });
      console.log(
        `dropped ${dropped.length} partition${dropped.length === 1 ? '' : 's'}` +
          (quarters ? `; their ${quarters} quarter-hour rollups went with them (daily rollups are kept)` : ''),
      );
    });
  });
  return cmd;
}
