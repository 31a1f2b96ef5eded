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
      .option('--file <name>', 'only those from this input: its path as imported, or its file name')
      .option('--reason <text>', 'only those whose reason contains this text (any case)')
      .option('--limit <n>', 'at most this many', (v) => Number.parseInt(v, 10), 100)
      .option('--raw', 'also print each record as it was in the input')
      .option('--json', 'print as JSON')
      .addHelpText(
        'after',
        '\nA record rejected again by a re-import is listed once, with how often it was seen.\n\nExamples:\n  $ healthexport rejects list --ingestion 3f0c9a1e-...\n  $ healthexport rejects list --file export.json --reason latitude --raw',
      ),
  ).action(async (o: DbOptions & { ingestion?: string; file?: string; reason?: string; limit: number; raw?: boolean; json?: boolean }) => {
    if (o.ingestion && !UUID.test(o.ingestion)) throw new ConfigError(`--ingestion expects an ingestion id (a UUID), got "${o.ingestion}"`);
    await withDatabase(o, async (db) => {
      const rows = await listRejects(db.pool, { ingestionId: o.ingestion, file: o.file, reason: o.reason, limit: o.limit });
      if (o.json) return printJson(rows);
      if (!rows.length) return console.log('no rejected records');
      for (const r of rows) {
        const where = [r.jsonPath, r.byteOffset !== null ? `byte ${r.byteOffset}` : null].filter(Boolean).join(', ');
        const seen = r.timesSeen > 1 ? ` (seen ${r.timesSeen} times)` : '';
        console.log(`${r.source ?? '?'}  ${r.table ?? '?'}  ${where}: ${r.reason}${seen}`);
        if (o.raw && r.raw) console.log(`    ${r.raw.replace(/\s+/g, ' ').slice(0, 500)}`);
      }
    }, { readOnly: true });
  });
  return cmd;
}
