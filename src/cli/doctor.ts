/**
 * `doctor`: checks what healthexport depends on, one line each with what to do when it fails:
 * the embedded data directory (when no server is named), the database (reachable, version),
 * PostGIS, migrations, partitions for the current and next months, Redis and the Pushgateway
 * (when configured). Changes nothing (no migration, no partition). Exit 0 only when every check
 * passes; 75 when the only trouble is a database that cannot be reached, else 1.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { openDatabase, serverConfig, type Database } from '../db/connection.js';
import { defaultDataDir } from '../db/embedded.js';
import { currentVersion, loadMigrations, type PostgisMode } from '../db/migrations.js';
import { monthStart } from '../db/partitions.js';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import { DatabaseUnavailableError, EXIT, errorMessage } from '../errors.js';
import { printJson } from './context.js';

interface DoctorFlags {
  databaseUrl?: string;
  dataDir?: string;
  postgis: PostgisMode;
  redisUrl?: string;
  pushgateway?: string;
  monthsAhead: number;
  json?: boolean;
}

export interface Check {
  check: string;
  ok: boolean;
  detail: string;
  /** What to do, when it failed. */
  fix?: string;
  /** The failure is a database that cannot be reached (try again later). */
  unreachable?: boolean;
}

/** The oldest PostgreSQL the schema is written for (gen_random_uuid, partitioned tables' keys). */
const MIN_SERVER_VERSION = 13;

const pass = (check: string, detail: string): Check => ({ check, ok: true, detail });
const fail = (check: string, detail: string, fix: string): Check => ({ check, ok: false, detail, fix });

/** As root the embedded server runs as `postgres`: every parent must let that user through. */
function dataDirCheck(dir: string): Check {
  let existing = path.resolve(dir);
  while (!existsSync(existing)) existing = path.dirname(existing);
  try {
    accessSync(existing, constants.W_OK);
  } catch {
    return fail('data dir', `${dir} cannot be created or written`, `set HEALTHEXPORT_DATA_DIR (or --data-dir) to a writable directory`);
  }
  if (typeof process.getuid === 'function' && process.getuid() === 0) {
    let uid: number | null = null;
    try {
      uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    } catch {
      // no postgres user yet: the embedded server creates it; only others' x bits matter then
    }
    for (let p = path.dirname(path.resolve(dir)); ; p = path.dirname(p)) {
      if (existsSync(p)) {
        const st = statSync(p);
        if (!(st.mode & 0o001) && st.uid !== uid) {
          return fail('data dir', `${dir}: ${p} is closed to the 'postgres' OS user the embedded server runs as`, `use a directory outside ${p} (default /var/lib/healthexport)`);
        }
      }
      if (p === path.dirname(p)) break;
    }
  }
  return pass('data dir', `${dir} (embedded PostgreSQL)`);
}

async function databaseChecks(db: Database, o: DoctorFlags): Promise<Check[]> {
  const out: Check[] = [];
  const { rows } = await db.pool.query(`SELECT current_setting('server_version') AS version, current_setting('server_version_num')::int AS num,
      (SELECT extversion FROM pg_extension WHERE extname = 'postgis') AS postgis,
      EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'postgis') AS postgis_available`);
  const v = rows[0];
  out.push(
    v.num >= MIN_SERVER_VERSION * 10000
      ? pass('database', `PostgreSQL ${v.version} at ${db.description}`)
      : fail('database', `PostgreSQL ${v.version} at ${db.description}`, `upgrade to PostgreSQL ${MIN_SERVER_VERSION} or newer`),
  );
  if (v.postgis) out.push(pass('postgis', `${v.postgis} enabled: routes get geometry`));
  else if (o.postgis === 'require') {
    out.push(fail('postgis', v.postgis_available ? 'available but not enabled' : 'not installed', v.postgis_available ? 'run `healthexport migrate up --postgis require`' : 'install it (Debian: apt-get install postgresql-15-postgis-3)'));
  } else out.push(pass('postgis', `not enabled (${v.postgis_available ? 'available' : 'not installed'}): routes are stored without geometry`));

  const latest = loadMigrations().length;
  const current = await currentVersion(db.pool);
  if (current === latest) out.push(pass('migrations', `${current} of ${latest} applied`));
  else if (current < latest) out.push(fail('migrations', `${current} of ${latest} applied`, 'run `healthexport migrate up`'));
  else out.push(fail('migrations', `schema at ${current}, this healthexport knows ${latest}`, 'upgrade healthexport to the version that migrated this database'));

  if (current > 0) out.push(await partitionsCheck(db, o.monthsAhead));
  return out;
}

/** Every partitioned table has a partition for this month and the next `monthsAhead`. */
async function partitionsCheck(db: Database, monthsAhead: number): Promise<Check> {
  const wanted = Array.from({ length: monthsAhead + 1 }, (_, i) => monthStart(new Date(), i).slice(0, 7).replace('-', ''));
  const { rows } = await db.pool.query(
    `SELECT t.table_name, m AS month
       FROM healthexport_partitioned_tables t CROSS JOIN unnest($1::text[]) AS m
      WHERE to_regclass(quote_ident(t.table_name || '_p' || m)) IS NULL
      ORDER BY 1, 2`,
    [wanted],
  );
  const range = `${wanted[0].slice(0, 4)}-${wanted[0].slice(4)} .. ${wanted.at(-1)!.slice(0, 4)}-${wanted.at(-1)!.slice(4)}`;
  if (!rows.length) return pass('partitions', `every table has its months ${range}`);
  const tables = [...new Set(rows.map((r) => r.table_name as string))];
  return fail(
    'partitions',
    `${rows.length} missing in ${range} (${tables.slice(0, 4).join(', ')}${tables.length > 4 ? ', …' : ''})`,
    'run `healthexport partitions create --months-ahead 12` (and cron it monthly)',
  );
}

async function redisCheck(url: string | undefined): Promise<Check> {
  if (!url) return pass('redis', 'not configured: no cache, rate limits counted per process (set REDIS_URL to use one)');
  // Loaded here, not with the command: every other command starts ~0.1 s sooner without it.
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  redis.on('error', () => {});
  try {
    await redis.connect();
    const pong = await redis.ping();
    return pass('redis', `${pong} from ${redactAuth(url)}`);
  } catch (err) {
    return fail('redis', `${redactAuth(url)}: ${errorMessage(err)}`, 'start Redis or fix REDIS_URL / --redis-url (everything works without it)');
  } finally {
    redis.disconnect();
  }
}

async function pushgatewayCheck(url: string | undefined): Promise<Check> {
  if (!url) return pass('pushgateway', 'not configured (set PUSHGATEWAY_URL for cron imports)');
  try {
    const res = await fetch(new URL('/-/healthy', url), { signal: AbortSignal.timeout(3000) });
    if (res.ok) return pass('pushgateway', `healthy at ${redactAuth(url)}`);
    return fail('pushgateway', `${redactAuth(url)} answered ${res.status}`, 'check PUSHGATEWAY_URL / --pushgateway points at the Pushgateway');
  } catch (err) {
    return fail('pushgateway', `${redactAuth(url)}: ${errorMessage((err as { cause?: unknown }).cause ?? err)}`, 'start the Pushgateway or fix PUSHGATEWAY_URL / --pushgateway');
  }
}

function redactAuth(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

export async function runChecks(o: DoctorFlags): Promise<Check[]> {
  const checks: Check[] = [];
  const embedded = serverConfig(o.databaseUrl ?? process.env.DATABASE_URL) === null;
  if (embedded) checks.push(dataDirCheck(o.dataDir ? path.resolve(o.dataDir) : defaultDataDir()));
  if (checks.every((c) => c.ok)) {
    let db: Database | null = null;
    try {
      db = await openDatabase({ databaseUrl: o.databaseUrl, dataDir: o.dataDir, poolMax: 2 });
      checks.push(...(await databaseChecks(db, o)));
    } catch (err) {
      const down = err instanceof DatabaseUnavailableError || isDatabaseUnavailable(err);
      const fix = down ? 'start PostgreSQL, or fix DATABASE_URL / --database-url / PG*' : 'fix the connection settings (user, password, database name)';
      checks.push({ ...fail('database', errorMessage(err), fix), unreachable: down });
    } finally {
      await db?.close();
    }
  }
  checks.push(await redisCheck(o.redisUrl ?? process.env.REDIS_URL));
  checks.push(await pushgatewayCheck(o.pushgateway ?? process.env.PUSHGATEWAY_URL));
  return checks;
}

export function doctorCommand(): Command {
  return new Command('doctor')
    .description('check the database, PostGIS, migrations, partitions, Redis, the Pushgateway and the embedded data dir; changes nothing')
    .option('--database-url <url>', 'PostgreSQL URL or libpq keywords (default: $DATABASE_URL, then PG*, then the embedded server)')
    .option('--data-dir <dir>', 'data directory of the embedded PostgreSQL (default: $HEALTHEXPORT_DATA_DIR or ~/.local/share/healthexport)')
    .addOption(new Option('--postgis <mode>', 'require: fail without PostGIS').choices(['auto', 'require', 'off']).default('auto'))
    .option('--redis-url <url>', 'Redis to check (default: $REDIS_URL)')
    .option('--pushgateway <url>', 'Pushgateway to check (default: $PUSHGATEWAY_URL)')
    .option('--months-ahead <n>', 'partitions needed after the current month', (v) => Number.parseInt(v, 10), 2)
    .option('--json', 'print the checks as JSON')
    .addHelpText('after', '\nExit: 0 when every check passes, 75 when the database cannot be reached, else 1.\n\nExample:\n  $ DATABASE_URL=postgres://localhost/health REDIS_URL=redis://127.0.0.1:6379 healthexport doctor')
    .action(async (o: DoctorFlags) => {
      const checks = await runChecks(o);
      if (o.json) printJson(checks.map(({ check, ok, detail, fix }) => ({ check, ok, detail, fix: fix ?? null })));
      else {
        for (const c of checks) {
          console.log(`${c.ok ? 'ok  ' : 'FAIL'}  ${c.check.padEnd(11)} ${c.detail}${c.fix ? `: ${c.fix}` : ''}`);
        }
      }
      const failed = checks.filter((c) => !c.ok);
      const onlyUnreachable = failed.length > 0 && failed.every((c) => c.unreachable);
      process.exitCode = failed.length === 0 ? EXIT.ok : onlyUnreachable ? EXIT.tempfail : EXIT.usage;
    });
}
