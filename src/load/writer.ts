/**
 * Writes one TableBatch in one transaction and says what became of each row. Rows go as binary
 * COPY (db/copy-binary.ts): PostgreSQL parses no text, node builds no strings.
 *
 * Two paths:
 * - direct: when every month the batch touches held no rows of this user when the import first
 *   touched it, the rows are COPYed straight into the partitioned table (no staging write). A
 *   unique violation (a duplicate from an earlier batch, or a concurrent import) rolls back and
 *   the batch goes the staging way.
 * - staging: COPY into a temporary table, then one INSERT ... ON CONFLICT DO UPDATE that only
 *   touches rows whose values differ, returning inserted versus updated; the rest are unchanged.
 *   A stored row written by an ingestion whose "as of" instant is newer than this one's is not
 *   updated (see olderThanStored): it stays unchanged, counted as `olderSkipped`.
 *
 * A batch the database refuses for its data (a CHECK, a bad value) is split in halves until the
 * offending rows stand alone: they are rejected with the database's reason, the rest are stored.
 */
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { inTransaction, isConnectionError, withRetry as retry } from '../db/client.js';
import { ensureMonths, monthKey, monthKeyToDate } from '../db/partitions.js';
import { addCopiedQuarters, quartersOfCopy, refreshAfterMerge, type CopiedQuarters, type SourceRankCache } from '../rollups/maintain.js';
import type { CopyRows, TableBatch } from './batch.js';
import { int8Field, uuidField } from '../db/copy-binary.js';
import type { Counts } from './outcome.js';
import type { Reject } from './rejects.js';
import type { TableSpec } from './tables.js';

export interface WriteContext {
  pool: pg.Pool;
  userId: number;
  ingestionId: string;
  /** Partitions this process has already ensured. */
  knownPartitions: Set<string>;
  /** `${table}:${month}` -> true when the month had no rows of this user at first touch. */
  freshMonths: Map<string, boolean>;
  /** The ingestion's "as of" instant, epoch ms (raw_ingestions.as_of, migration 5). */
  asOf: number;
  maxRetries?: number;
  /** false: leave the rollups to one rebuild after the import (`import --rollups end`). */
  rollups?: boolean;
  /** Source ranks this run has looked up (rollups/add-quarters.ts); made on first use. */
  sourceRanks?: SourceRankCache;
}

export interface WriteResult {
  counts: Counts;
  rejects: Reject[];
  path: 'direct' | 'staging';
  /** The whole write: partitions, COPY, merge, commit. */
  seconds: number;
  /** Of which the COPY statements (into the table or the staging table), retries included. */
  copySeconds: number;
  /** Of `counts.unchanged`: rows with new values not applied, the stored row being from a newer export. */
  olderSkipped: number;
}

/** Below this many staged rows per month spanned, a batch is matched by index probes. */
const SPARSE_ROWS_PER_MONTH = 1_000;

const TRANSIENT = new Set(['40001', '40P01', '57P01', '57P02', '57P03', '08000', '08003', '08006', '53300']);
const TRANSIENT_NODE = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT']);

function pgCode(err: unknown): string | undefined {
  return (err as { code?: string })?.code;
}

/** Worth another try: serialization failures, deadlocks, and a database that went away. */
export function isTransient(err: unknown): boolean {
  const code = pgCode(err);
  return (!!code && (TRANSIENT.has(code) || TRANSIENT_NODE.has(code))) || isConnectionError(err);
}

/**
 * Errors about the data itself (class 22 data exception, 23 integrity, other than duplicates; 54000
 * a value too large for an index row), so that the rows at fault can be rejected alone.
 */
function isDataError(err: unknown): boolean {
  const code = pgCode(err);
  return !!code && (code.startsWith('22') || (code.startsWith('23') && code !== '23505') || code === '54000');
}

// Temporary staging tables live as long as their connection: created once per pooled client.
const stagingReady = new WeakMap<pg.PoolClient, Set<string>>();
const stageName = (spec: TableSpec) => `he_stage_${spec.table}`;
const allColumns = (spec: TableSpec) => ['user_id', ...spec.columns, 'ingestion_id'];

/** Time spent in COPY statements by one writeBatch, retries and split halves included. */
interface CopyTimer {
  seconds: number;
}

async function copyRows(client: pg.PoolClient, target: string, spec: TableSpec, rows: CopyRows, timer: CopyTimer) {
  const started = process.hrtime.bigint();
  const stream = client.query(copyFrom(`COPY ${target} (${allColumns(spec).join(', ')}) FROM STDIN (FORMAT binary)`));
  try {
    await pipeline(Readable.from(rows.buffers()), stream);
  } finally {
    timer.seconds += Number(process.hrtime.bigint() - started) / 1e9;
  }
}

/**
 * Three statements over the staged rows. First the rows already stored with the same values
 * leave the staging table (a read-only join: a re-import of the same file stops here). Then new
 * keys are inserted; DO NOTHING leaves existing rows untouched and unlocked. Last, existing rows
 * whose values differ are updated; rows just inserted equal their staged copy and are skipped.
 * (PostgreSQL 15 cannot RETURN xmax from a partitioned table to tell an insert from an update
 * in one ON CONFLICT DO UPDATE, and that would lock every conflicting row anyway.)
 * Literal time bounds let the planner prune to the batch's partitions.
 */
function mergeSql(spec: TableSpec, minTime: number, maxTime: number, guard: string): { dropUnchanged: string; insert: string; update: string } {
  const cols = allColumns(spec);
  const values = spec.columns.filter((c) => !spec.key.includes(c));
  const t = spec.table;
  const range = `t.${spec.timeColumn} BETWEEN '${new Date(minTime).toISOString()}' AND '${new Date(maxTime).toISOString()}'`;
  const sameKey = ['user_id', ...spec.key].map((c) => `t.${c} = s.${c}`).join(' AND ');
  // A column the input may leave out compares and updates as the stored value when it did.
  const incoming = (c: string) => (spec.keepStoredWhenNull?.includes(c) ? `coalesce(s.${c}, t.${c})` : `s.${c}`);
  const tValues = `(${values.map((c) => `t.${c}`).join(', ')})`;
  const sValues = `(${values.map(incoming).join(', ')})`;
  const dropUnchanged = `DELETE FROM ${stageName(spec)} AS s USING ${t} AS t
    WHERE ${sameKey} AND ${range} AND ${tValues} IS NOT DISTINCT FROM ${sValues}`;
  const insert = `INSERT INTO ${t} (${cols.join(', ')})
    SELECT ${cols.join(', ')} FROM ${stageName(spec)}
    ON CONFLICT (user_id, ${spec.key.join(', ')}) DO NOTHING`;
  const update = `UPDATE ${t} AS t SET ${[...values, 'ingestion_id'].map((c) => `${c} = ${incoming(c)}`).join(', ')}
    FROM ${stageName(spec)} AS s
    WHERE ${sameKey} AND ${range} AND ${tValues} IS DISTINCT FROM ${sValues} AND ${guard}`;
  return { dropUnchanged, insert, update };
}

/**
 * The order of imports: a stored row may be updated only by an ingestion that is not older than
 * the one that last wrote it. Re-importing last month's file after today's must not put back
 * last month's incomplete running totals. The ingestions newer than this one are few (one row per
 * run), so the uncorrelated subquery is hashed once per statement; a row whose ingestion is
 * unknown (NULL, or its run deleted) is never protected.
 */
function olderThanStored(ctx: WriteContext): string {
  const asOf = new Date(ctx.asOf).toISOString();
  return `(t.ingestion_id IS NULL OR t.ingestion_id NOT IN (SELECT id FROM raw_ingestions WHERE user_id = ${Number(ctx.userId)} AND as_of > '${asOf}'))`;
}

async function classifyMonths(ctx: WriteContext, spec: TableSpec, months: number[]): Promise<void> {
  const unknown = months.filter((m) => !ctx.freshMonths.has(`${spec.table}:${m}`));
  if (!unknown.length) return;
  // One probe per partition: does this user have any row there yet? (index on user_id first)
  const probes = unknown.map(
    (m) => `SELECT ${m} AS m, EXISTS (SELECT 1 FROM ${spec.table}_p${monthKeyToDate(m).slice(0, 7).replace('-', '')} WHERE user_id = $1) AS used`,
  );
  const { rows } = await ctx.pool.query(probes.join(' UNION ALL '), [ctx.userId]);
  for (const r of rows) ctx.freshMonths.set(`${spec.table}:${r.m}`, !r.used);
}

async function writeDirect(ctx: WriteContext, spec: TableSpec, rows: CopyRows, timer: CopyTimer, quarters: CopiedQuarters | null): Promise<number> {
  const ranks = (ctx.sourceRanks ??= new Map());
  return inTransaction(ctx.pool, async (client) => {
    await copyRows(client, spec.table, spec, rows, timer);
    if (quarters) await addCopiedQuarters(client, ctx.userId, quarters, ranks);
    return rows.length;
  });
}

async function writeStaging(
  ctx: WriteContext,
  spec: TableSpec,
  rows: CopyRows,
  minTime: number,
  maxTime: number,
  sparse: boolean,
  timer: CopyTimer,
): Promise<Merged> {
  return inTransaction(ctx.pool, async (client) => {
    let ready = stagingReady.get(client);
    if (!ready) stagingReady.set(client, (ready = new Set()));
    try {
      if (!ready.has(spec.table)) {
        // IF NOT EXISTS: a rolled-back transaction may or may not have been the one that created it.
        await client.query(
          `CREATE TEMP TABLE IF NOT EXISTS ${stageName(spec)} (LIKE ${spec.table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`,
        );
        ready.add(spec.table);
      }
      await copyRows(client, stageName(spec), spec, rows, timer);
      // JIT compiling these short statements costs more than running them (seconds, once a
      // plan's estimate passes jit_above_cost).
      await client.query('SET LOCAL jit = off');
      if (sparse) {
        // Probe the primary key once per staged row. Left to itself the planner hashes or merges
        // every stored row in the batch's time range, and a sparse metric (resting heart rate,
        // a row a day) spans years: 1.6 s against 19 ms for 3,000 rows over 8 years. Only a
        // nested loop over the staged rows with index scans inside is allowed; a dense batch
        // keeps the planner's hash join (6 ms against 18 ms for 5,000 rows in 8 months).
        await client.query(
          'SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; SET LOCAL enable_seqscan = off; SET LOCAL enable_material = off',
        );
      }
      const sql = mergeSql(spec, minTime, maxTime, olderThanStored(ctx));
      const unchanged = (await client.query(sql.dropUnchanged)).rowCount ?? 0;
      if (unchanged === rows.length) return { inserted: 0, updated: 0, olderSkipped: 0 };
      const inserted = (await client.query(sql.insert)).rowCount ?? 0;
      const updated = inserted + unchanged === rows.length ? 0 : ((await client.query(sql.update)).rowCount ?? 0);
      // The staging table now holds the rows inserted or changed (and any skipped as older).
      if (inserted + updated && ctx.rollups !== false) await refreshAfterMerge(client, ctx.userId, spec, stageName(spec));
      // What differs but was not updated: the stored row came from a newer export.
      return { inserted, updated, olderSkipped: rows.length - unchanged - inserted - updated };
    } catch (err) {
      ready.delete(spec.table);
      throw err;
    }
  });
}

const withRetry = <T>(fn: () => Promise<T>, maxRetries: number) => retry(fn, maxRetries, isTransient);

export async function writeBatch(ctx: WriteContext, batch: TableBatch): Promise<WriteResult> {
  const spec = batch.spec;
  const retries = ctx.maxRetries ?? 5;
  const months = batch.months();
  const counts: Counts = {
    read: batch.read,
    inserted: 0,
    updated: batch.dupUpdated,
    unchanged: batch.dupUnchanged,
    rejected: 0,
  };
  const rejects: Reject[] = [];
  const started = process.hrtime.bigint();
  const timer: CopyTimer = { seconds: 0 };
  let olderSkipped = 0;
  const rows = batch.rows;
  rows.stamp(int8Field(ctx.userId), uuidField(ctx.ingestionId));
  const made: number[] = [];
  await withRetry(() => ensureMonths(ctx.pool, spec.table, months, ctx.knownPartitions, made), retries);
  // A partition made just now holds no rows of the user, so it is not probed. (Rows another run
  // of the same user COPYs there meanwhile make this COPY fail on the key and fall back to
  // staging, as a probe that came too early would.) At 5.37 GB the probes took 10 backend-s.
  for (const m of made) if (!ctx.freshMonths.has(`${spec.table}:${m}`)) ctx.freshMonths.set(`${spec.table}:${m}`, true);
  await withRetry(() => classifyMonths(ctx, spec, months), retries);

  const fresh = months.every((m) => ctx.freshMonths.get(`${spec.table}:${m}`));
  let path: WriteResult['path'] = 'staging';
  if (fresh) {
    try {
      // Aggregated before the transaction opens (and once, whatever the retries).
      const quarters = ctx.rollups !== false ? quartersOfCopy(spec, rows, batch.quarterRows()) : null;
      counts.inserted += await withRetry(() => writeDirect(ctx, spec, rows, timer, quarters), retries);
      path = 'direct';
    } catch (err) {
      if (pgCode(err) !== '23505' && !isDataError(err)) throw err;
      for (const m of months) ctx.freshMonths.set(`${spec.table}:${m}`, false);
    }
  }
  if (path === 'staging') {
    const r = await writeStagingSplitting(ctx, spec, rows, batch.minTime, batch.maxTime, { retries, rejects, timer });
    counts.inserted += r.inserted;
    counts.updated += r.updated;
    olderSkipped = r.olderSkipped;
    counts.unchanged += rows.length - r.inserted - r.updated - rejects.length;
    counts.rejected += rejects.length;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { counts, rejects, path, seconds, copySeconds: timer.seconds, olderSkipped };
}

/** What one staging merge did with its rows (the rest were unchanged). */
interface Merged {
  inserted: number;
  updated: number;
  olderSkipped: number;
}

async function writeStagingSplitting(
  ctx: WriteContext,
  spec: TableSpec,
  rows: CopyRows,
  minTime: number,
  maxTime: number,
  run: { retries: number; rejects: Reject[]; timer: CopyTimer },
): Promise<Merged> {
  const { retries, rejects } = run;
  try {
    const sparse = rows.length / (monthKey(maxTime) - monthKey(minTime) + 1) < SPARSE_ROWS_PER_MONTH;
    return await withRetry(() => writeStaging(ctx, spec, rows, minTime, maxTime, sparse, run.timer), retries);
  } catch (err) {
    if (!isDataError(err)) throw err;
    if (rows.length === 1) {
      rejects.push({
        table: spec.table,
        reason: `refused by the database: ${(err as Error).message}`,
        jsonPath: null,
        byteOffset: null,
        raw: rows.rowText(0),
      });
      return { inserted: 0, updated: 0, olderSkipped: 0 };
    }
    const mid = rows.length >> 1;
    const a = await writeStagingSplitting(ctx, spec, rows.slice(0, mid), minTime, maxTime, run);
    const b = await writeStagingSplitting(ctx, spec, rows.slice(mid, rows.length), minTime, maxTime, run);
    return { inserted: a.inserted + b.inserted, updated: a.updated + b.updated, olderSkipped: a.olderSkipped + b.olderSkipped };
  }
}
