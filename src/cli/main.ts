import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { EXIT, UserFacingError } from '../errors.js';
import { cacheCommand } from './cache.js';
import { dbCommand } from './db.js';
import { doctorCommand } from './doctor.js';
import { importCommand } from './import.js';
import { migrateCommand } from './migrate.js';
import { partitionsCommand } from './partitions.js';
import { rejectsCommand } from './rejects.js';
import { rollupsCommand, sourcesCommand } from './rollups.js';
import { serveCommand } from './serve.js';
import { summaryCommand } from './summary.js';
import { configureLog, log, logFormat, type LogFormat } from './log.js';
import { keysCommand, usersCommand } from './users.js';

/** The version of the installed package (src/cli and dist/cli are both two levels below it). */
function packageVersion(): string {
  const file = fileURLToPath(new URL('../../package.json', import.meta.url));
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

export function buildProgram(): Command {
  const program = new Command('healthexport')
    .description('Bulk importer and maintenance tool for Apple Health data (Health Auto Export) in PostgreSQL')
    .version(packageVersion())
    .showHelpAfterError()
    // Global: accepted before or after the command name (`healthexport import -q FILE`).
    .option('-v, --verbose', 'print debug lines on stderr too')
    .option('-q, --quiet', 'print only errors on stderr (no progress, notices or warnings)')
    .addOption(new Option('--log-format <format>', 'stderr lines as text, or as JSON objects (time, level, msg, fields)').choices(['text', 'json']).default('text'))
    .hook('preAction', (root) => {
      const o = root.opts<{ verbose?: boolean; quiet?: boolean; logFormat?: LogFormat }>();
      configureLog(o);
    })
    .addHelpText(
      'after',
      `
Without DATABASE_URL (or PG* variables) an embedded PostgreSQL runs in a local data directory.

Examples:
  $ healthexport import examples/sample-export.json
  $ DATABASE_URL=postgres://localhost/health healthexport migrate up
  $ healthexport partitions create --months-ahead 12`,
    );
  program.addCommand(importCommand());
  program.addCommand(migrateCommand());
  program.addCommand(partitionsCommand());
  program.addCommand(rejectsCommand());
  program.addCommand(summaryCommand());
  program.addCommand(rollupsCommand());
  program.addCommand(sourcesCommand());
  program.addCommand(cacheCommand());
  program.addCommand(serveCommand());
  program.addCommand(usersCommand());
  program.addCommand(keysCommand());
  program.addCommand(dbCommand());
  program.addCommand(doctorCommand());
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; usage errors were already printed by commander.
      process.exitCode = err.exitCode === 0 ? 0 : EXIT.usage;
      return;
    }
    if (err instanceof UserFacingError) {
      log.error(err.message, logFormat() === 'json' ? { exitCode: err.exitCode } : undefined);
      process.exitCode = err.exitCode;
      return;
    }
    // A bug: the stack matters more than the format.
    console.error(err);
    process.exitCode = EXIT.usage;
  }
}
