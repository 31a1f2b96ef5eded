import { Command } from 'commander';
import { listRejects } from '../load/rejects.js';
import { ConfigError } from '../errors.js';
import { addDbOptions, printJson, withDatabase, type DbOptions } from './context.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function rejectsCommand(): Command {
  const cmd = new Command('rejects').description('records an import could not store, with the reason and where they were');
  addDbOptions(
    cmd
      .command('list')
      .description('list rejected records, newest first')
      .option('--ingestion <id>', 'only those of one import (its ingestionId)')
      .option('--limit <n>', 'at most this many', (v) => Number.parseInt(v, 10), 100)
      .option('--raw', 'also print each record as it was in the input')
      .option('--json', 'print as JSON')
      .addHelpText('after', '\nExample:\n  $ healthexport rejects list --ingestion 3f0c9a1e-...'),
  ).action(async (o: DbOptions & { ingestion?: string; limit: number; raw?: boolean; json?: boolean }) => {
    if (o.ingestion && !UUID.test(o.ingestion)) throw new ConfigError(`--ingestion expects an ingestion id (a UUID), got "${o.ingestion}"`);
    await withDatabase(o, async (db) => {
      const rows = await listRejects(db.pool, { ingestionId: o.ingestion, limit: o.limit });
      if (o.json) return printJson(rows);
      if (!rows.length) return console.log('no rejected records');
      for (const r of rows) {
        const where = [r.jsonPath, r.byteOffset !== null ? `byte ${r.byteOffset}` : null].filter(Boolean).join(', ');
        console.log(`${r.table ?? '?'}  ${where}: ${r.reason}`);
        if (o.raw && r.raw) console.log(`    ${r.raw.replace(/\s+/g, ' ').slice(0, 500)}`);
      }
    }, { readOnly: true });
  });
  return cmd;
}
