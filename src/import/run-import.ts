/**
 * One input, start to end: bytes -> record slices -> typed records -> per-table batches ->
 * COPY -> summary. This is the only module that joins the HAE reader (src/hae) and the loader
 * (src/load).
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { errorMessage } from '../errors.js';
import type { RecordKind } from '../hae/records.js';
import type { InputSource } from '../input/open-input.js';
import { TableBatch } from '../load/batch.js';
import { ensureUser, finishIngestion, startIngestion, type IngestionRef } from '../load/ingestions.js';
import { buildRouteLines } from '../load/route-lines.js';
import { addCounts, emptyCounts, type Counts } from '../load/outcome.js';
import { storeRejects, type Reject } from '../load/rejects.js';
import { BatchScheduler } from '../load/scheduler.js';
import { TABLE_NAMES, TABLES } from '../load/tables.js';
import { writeBatch, type WriteResult } from '../load/writer.js';
import { detectReader, type ReaderFactory } from './detect.js';
import { isInputFormatError } from './reader.js';
import { statusOf, totalsOf, type ImportSummary } from './summary.js';

export interface ImportProgress {
  source: string;
  bytes: number;
  sizeHint: number | null;
  records: number;
  elapsedMs: number;
}

export interface ImportObserver {
  progress?(p: ImportProgress): void;
  batchWritten?(table: string, r: WriteResult): void;
}

export interface ImportOptions {
  /** Not needed for a dry run, which never touches the database. */
  pool?: pg.Pool;
  user: string;
  dryRun?: boolean;
  /** Rows per COPY batch (per table). */
  batchRows?: number;
  /** Parallel table writers (connections). */
  concurrency?: number;
  observer?: ImportObserver;
  /** The format reader; chosen by content (HAE JSON or Apple Health XML) unless told. */
  reader?: ReaderFactory;
  /** Partitions ensured so far, shared across the inputs of one run. */
  knownPartitions?: Set<string>;
}

/**
 * Rows per COPY batch (per table). Fewer, larger transactions load faster; memory is bounded
 * by the heap cap the CLI runs imports under (bin/healthexport.js), not by this number.
 */
export const DEFAULT_BATCH_ROWS = 25_000;

/** Counts and hashes the JSON bytes on their way to the scanner. */
class Meter {
  bytes = 0;
  private readonly hash = createHash('sha256');
  async *wrap(input: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of input) {
      this.bytes += chunk.length;
      this.hash.update(chunk);
      yield chunk;
    }
  }
  digest(): string {
    return this.hash.digest('hex');
  }
}

export async function importSource(src: InputSource, opts: ImportOptions): Promise<ImportSummary> {
  const started = Date.now();
  const dryRun = !!opts.dryRun;
  const pool = opts.pool;
  if (!dryRun && !pool) throw new Error('importSource: a pool is required unless dryRun');
  const batchRows = opts.batchRows ?? DEFAULT_BATCH_ROWS;
  const batchBytes = 8 << 20;
  const concurrency = opts.concurrency ?? 2;
  const knownPartitions = opts.knownPartitions ?? new Set<string>();

  const tables: Record<string, Counts> = {};
  const countsFor = (table: string) => (tables[table] ??= emptyCounts());
  const flagged: string[] = [];
  const routedWorkouts = new Set<string>();
  const meter = new Meter();

  let userId = 0;
  let ingestion: IngestionRef | null = null;
  if (!dryRun) {
    userId = await ensureUser(pool!, opts.user);
    ingestion = await startIngestion(pool!, {
      userId,
      source: src.name,
      sourceKind: src.kind,
      known: knownPartitions,
    });
  }
  const ctx = ingestion
    ? { pool: pool!, userId, ingestionId: ingestion.id, knownPartitions, freshMonths: new Map<string, boolean>() }
    : null;

  const scheduler = new BatchScheduler(concurrency, concurrency * 2 + 2);
  const batches = new Map<RecordKind, TableBatch>();
  const dryValid: Record<string, number> = {};
  let pendingRejects: Reject[] = [];
  let records = 0;

  const submit = (kind: RecordKind) => {
    const batch = batches.get(kind);
    if (!batch || batch.size === 0) return;
    batches.delete(kind);
    const table = batch.spec.table;
    if (!ctx) {
      // Dry run: valid records are counted as such; nothing is written, so none is inserted.
      countsFor(table).read += batch.read;
      dryValid[table] = (dryValid[table] ?? 0) + batch.read;
      return;
    }
    scheduler.submit(table, async () => {
      const r = await writeBatch(ctx, batch);
      addCounts(countsFor(table), r.counts);
      if (r.rejects.length) await storeRejects(ctx.pool, userId, ctx.ingestionId, r.rejects);
      opts.observer?.batchWritten?.(table, r);
    });
  };

  const reject = (kind: RecordKind, r: Omit<Reject, 'table'>) => {
    const table = TABLES[kind].table;
    const c = countsFor(table);
    c.read++;
    c.rejected++;
    pendingRejects.push({ ...r, table });
  };
  const flushRejects = async () => {
    if (!pendingRejects.length || !ctx) return;
    const list = pendingRejects;
    pendingRejects = [];
    await storeRejects(ctx.pool, userId, ctx.ingestionId, list);
  };

  let fatal: { message: string; offset: number | null } | null = null;
  let lastProgress = 0;
  const reader = (opts.reader ?? detectReader)(meter.wrap(src.open()), src);
  try {
    for await (const read of reader.batches) {
      for (const rec of read.records) {
        let batch = batches.get(rec.kind);
        if (!batch) batches.set(rec.kind, (batch = new TableBatch(TABLES[rec.kind])));
        batch.add(rec);
        if (rec.kind === 'workout' && rec.heartRateLooksLikeRecovery) flagged.push(rec.workoutId);
        else if (rec.kind === 'route_point') routedWorkouts.add(rec.workoutId);
        if (batch.size >= batchRows || batch.bytes >= batchBytes) {
          submit(rec.kind);
          await scheduler.waitForRoom();
        }
      }
      for (const rj of read.rejects) {
        reject(rj.kind, { reason: rj.reason, jsonPath: rj.path, byteOffset: rj.byteOffset, raw: rj.raw });
      }
      records += read.records.length + read.rejects.length;
      if (pendingRejects.length >= 1000) await flushRejects();
      if (scheduler.failed) break;
      const now = Date.now();
      if (opts.observer?.progress && now - lastProgress > 250) {
        lastProgress = now;
        opts.observer.progress({ source: src.name, bytes: meter.bytes, sizeHint: src.sizeHint, records, elapsedMs: now - started });
      }
    }
  } catch (err) {
    // The input broke: what was complete before the break is still loaded and reported.
    fatal = isInputFormatError(err)
      ? { message: err.message, offset: err.offset }
      : { message: `cannot read input: ${errorMessage(err)}`, offset: meter.bytes };
  }

  let writeError: string | null = null;
  try {
    if (!scheduler.failed) for (const kind of [...batches.keys()]) submit(kind);
    await scheduler.drain();
    await flushRejects();
    if (ctx) await buildRouteLines(ctx.pool, userId, [...routedWorkouts]);
  } catch (err) {
    writeError = `database write failed: ${errorMessage(err)}`;
  }

  for (const t of TABLE_NAMES) if (tables[t] && tables[t].read === 0) delete tables[t];
  const totals = totalsOf(tables);
  const error = fatal ? `${src.name}: ${fatal.message}` : writeError;
  const summary: ImportSummary = {
    ingestionId: ingestion?.id ?? null,
    source: src.name,
    bytes: meter.bytes,
    sha256: fatal ? null : meter.digest(),
    durationMs: Date.now() - started,
    status: statusOf(totals, !!error),
    dryRun,
    tables,
    totals,
    unknownMetrics: [...reader.stats.metrics].filter(([, known]) => !known).map(([name]) => name).sort(),
    metrics: [...reader.stats.metrics.keys()].sort(),
    unknownKeys: reader.stats.unknownKeys,
    error,
    errorOffset: fatal?.offset ?? null,
    workoutsFlagged: flagged,
    valid: dryRun ? dryValid : null,
  };
  if (ctx && ingestion) {
    await finishIngestion(ctx.pool, ingestion, userId, {
      status: summary.status,
      bytes: summary.bytes,
      sha256: summary.sha256,
      counts: { tables, totals, unknownMetrics: summary.unknownMetrics, unknownKeys: summary.unknownKeys },
      error: summary.error,
    }).catch(() => {});
  }
  return summary;
}
