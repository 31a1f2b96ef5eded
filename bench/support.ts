/** What the benchmarks share: arguments, throwaway databases, timing a child with its peak RSS. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { migrate } from '../src/db/migrations.js';
import { machineLoad, reapedChildrenCpu, startDbSampler, type DbProfile } from './profile.js';

export const DATA_TABLES = [
  'heart_rate_metrics', 'blood_pressure_metrics', 'sleep_metrics', 'sleep_stages', 'activity_metrics', 'workouts',
  'workout_routes', 'workout_heart_rate', 'workout_series', 'health_events',
];

export function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

/** Databases the benchmarks create and drop: `--db-prefix` (default healthexport_bench) + suffix. */
export const benchDbName = (suffix = ''): string => arg('db-prefix', 'healthexport_bench') + (suffix ? `_${suffix}` : '');

export const adminUrl = (): string =>
  arg('database-url', process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');

export function databaseUrl(admin: string, name: string): string {
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return u.toString();
}

/** One statement on a connection of its own to the admin database. */
async function adminQuery(admin: string, sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  try {
    return await c.query(sql, params);
  } finally {
    await c.end();
  }
}

export async function dropDatabase(admin: string, name: string): Promise<void> {
  await adminQuery(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}

/** A new, migrated database `name` on the admin connection's server. */
export async function freshDatabase(admin: string, name: string): Promise<string> {
  await dropDatabase(admin, name);
  await adminQuery(admin, `CREATE DATABASE ${name}`);
  const url = databaseUrl(admin, name);
  const pool = new pg.Pool({ connectionString: url });
  await migrate(pool);
  await pool.end();
  return url;
}

export interface Timed {
  seconds: number;
  /** Highest sum of VmRSS over the process tree (pages shared by its processes count in each). */
  peakRssMb: number;
  /**
   * Highest sum of Pss (smaps_rollup): a page shared by n processes counts 1/n in each, so the
   * node binary's pages, mapped by the CLI and a capped import child (HEALTHEXPORT_MAX_HEAP_MB), count once.
   */
  peakPssMb: number;
  stdout: string;
  code: number | null;
  /** CPU-seconds of the command's process tree (user + sys). */
  cpu?: number;
  /** CPU-seconds of the PostgreSQL backends serving it, and of the server's WAL writer etc. */
  dbCpu?: number;
  auxCpu?: number;
  /** WAL the server wrote meanwhile, bytes (the whole server's: the bench runs alone on it). */
  walBytes?: number;
  /** Busy cores of the whole machine meanwhile (neighbours included), out of nproc. */
  busyCores?: number;
  db?: DbProfile;
}

/** Runs a command, sampling the peak RSS of it and its children from /proc. */
export function timed(cmd: string, args: string[], env: Record<string, string> = {}): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const t = process.hrtime.bigint();
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    let peak = 0;
    let peakPss = 0;
    child.stdout.on('data', (d) => (stdout += d));
    // Under HEALTHEXPORT_MAX_HEAP_MB the CLI runs `import` in a child (bin/healthexport.js): count the whole tree.
    const treeKb = (pid: number, file: string, field: RegExp): number => {
      let kb = 0;
      try {
        const m = field.exec(readFileSync(`/proc/${pid}/${file}`, 'utf8'));
        if (m) kb += Number(m[1]);
        for (const c of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean)) {
          kb += treeKb(Number(c), file, field);
        }
      } catch {
        /* exited */
      }
      return kb;
    };
    let ticks = 0;
    const sample = () => {
      peak = Math.max(peak, treeKb(child.pid!, 'status', /VmRSS:\s+(\d+) kB/) / 1024);
      // smaps_rollup walks the page tables: every fourth tick (200 ms) is enough for a peak.
      if (ticks++ % 4 === 0) peakPss = Math.max(peakPss, treeKb(child.pid!, 'smaps_rollup', /\nPss:\s+(\d+) kB/) / 1024);
    };
    const timer = setInterval(sample, 50);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(timer);
      resolve({ seconds: Number(process.hrtime.bigint() - t) / 1e9, peakRssMb: peak, peakPssMb: peakPss, stdout, code });
    });
  });
}

/**
 * Every timed step starts from the same server state: the dirty buffers the previous step left
 * are written now (CHECKPOINT), not by the checkpointer while the next step runs. (It did not
 * cure the Apple rounds that followed the 5 GB imports: the order of the steps did, see
 * import-bench.ts.) Needs a superuser (pg_checkpoint in PG 15); without one the steps run
 * unsettled, said once.
 */
let settleRefused = false;
export async function settle(admin: string): Promise<void> {
  if (settleRefused) return;
  try {
    await adminQuery(admin, 'CHECKPOINT');
  } catch (e) {
    settleRefused = true;
    console.error(`bench: CHECKPOINT before each timed step refused (${(e as Error).message}): steps may pay for the previous one's writes`);
  }
}

/**
 * The server's WAL insert position now; `walSince` gives the bytes written after it. At 5 GB the
 * import is as much a matter of bytes written as of CPU (the `\copy` of the same rows slows down
 * too), so the bench shows what each step wrote.
 */
async function walPosition(admin: string): Promise<string> {
  return (await adminQuery(admin, 'SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0].lsn;
}

async function walSince(admin: string, from: string): Promise<number> {
  return Number((await adminQuery(admin, 'SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1::pg_lsn) AS n', [from])).rows[0].n);
}

/**
 * `timed`, plus the CPU-seconds of the command's process tree and of the PostgreSQL backends
 * connected to database `dbName` (see profile.ts). With `activity`, pg_stat_activity is sampled
 * every 50 ms for what the backends do (costs the sampler a query per tick).
 */
export async function timedWithCpu(
  cmd: string,
  args: string[],
  env: Record<string, string>,
  admin: string,
  dbName: string,
  activity = false,
): Promise<Timed> {
  await settle(admin);
  const wal0 = await walPosition(admin);
  const sampler = await startDbSampler(admin, dbName, { intervalMs: activity ? 50 : 200, activity });
  const load = machineLoad();
  const cpu0 = reapedChildrenCpu();
  const r = await timed(cmd, args, env);
  const cpu = reapedChildrenCpu() - cpu0;
  const { busyCores } = load.stop();
  const db = await sampler.stop();
  const walBytes = await walSince(admin, wal0);
  return { ...r, cpu, dbCpu: db.backendCpu, auxCpu: db.auxCpu, busyCores, walBytes, db: activity ? db : undefined };
}

/** Creates in `toUrl` the month partitions `fromUrl` has, so a \copy ceiling measures COPY alone. */
export async function copyPartitions(fromUrl: string, toUrl: string): Promise<void> {
  const from = new pg.Pool({ connectionString: fromUrl });
  const to = new pg.Pool({ connectionString: toUrl });
  const { rows } = await from.query(
    `SELECT t.table_name, min(c.relname) AS lo, max(c.relname) AS hi FROM healthexport_partitioned_tables t
       JOIN pg_inherits i ON i.inhparent = t.table_name::regclass JOIN pg_class c ON c.oid = i.inhrelid
      GROUP BY t.table_name`,
  );
  const month = (rel: string) => rel.replace(/.*_p(\d{4})(\d{2})$/, '$1-$2-01');
  for (const r of rows) {
    await to.query('SELECT healthexport_create_month_partitions($1, $2::date, $3::date)', [r.table_name, month(r.lo), month(r.hi)]);
  }
  await from.end();
  await to.end();
}

export interface CopyCeiling {
  seconds: number;
  rows: number;
  /** CPU-seconds of psql and of its backend. */
  cpu: number;
  dbCpu: number;
  walBytes: number;
}

/**
 * The ceiling: the rows an import stored in `fromUrl`, dumped to text files, then timed as
 * `psql \copy` into fresh tables of database `name` with the same partitions made beforehand,
 * one table after another (what a person loading prepared files would do). Dumps are deleted.
 */
export async function copyCeiling(admin: string, fromUrl: string, name: string, work: string): Promise<CopyCeiling> {
  const dump = path.join(work, `copy-${name}`);
  rmSync(dump, { recursive: true, force: true });
  mkdirSync(dump, { recursive: true });
  const pool = new pg.Pool({ connectionString: fromUrl });
  const cols: Record<string, string> = {};
  for (const t of DATA_TABLES) {
    const { rows } = await pool.query(
      `SELECT string_agg(column_name, ', ' ORDER BY ordinal_position) AS c FROM information_schema.columns
        WHERE table_name = $1 AND is_generated = 'NEVER'`,
      [t],
    );
    cols[t] = rows[0].c;
  }
  await pool.end();
  for (const t of DATA_TABLES) {
    const r = spawnSync('psql', [fromUrl, '-qc', `\\copy (SELECT ${cols[t]} FROM ${t}) TO '${dump}/${t}.tsv'`], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`dump of ${t} failed`);
  }
  const url = await freshDatabase(admin, name);
  await copyPartitions(fromUrl, url);
  await settle(admin);
  const wal0 = await walPosition(admin);
  const sampler = await startDbSampler(admin, name, { intervalMs: 200, activity: false });
  const cpu0 = reapedChildrenCpu();
  const t = process.hrtime.bigint();
  for (const table of DATA_TABLES) {
    // Not spawnSync: the sampler needs the event loop while psql runs.
    const r = await timed('psql', [url, '-qc', `\\copy ${table} (${cols[table]}) FROM '${dump}/${table}.tsv'`]);
    if (r.code !== 0) throw new Error(`\\copy into ${table} failed`);
  }
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  const cpu = reapedChildrenCpu() - cpu0;
  const db = await sampler.stop();
  const walBytes = await walSince(admin, wal0);
  rmSync(dump, { recursive: true, force: true });
  const rows = await rowCounts(url);
  await dropDatabase(admin, name);
  return { seconds, rows, cpu, dbCpu: db.backendCpu, walBytes };
}

export async function rowCounts(url: string): Promise<number> {
  const pool = new pg.Pool({ connectionString: url });
  let n = 0;
  for (const t of DATA_TABLES) n += Number((await pool.query(`SELECT count(*) AS n FROM ${t}`)).rows[0].n);
  await pool.end();
  return n;
}
