/**
 * One input, start to end: bytes -> format reader -> typed records -> per-table batches -> COPY
 * -> summary. The reading half (records -> batches, ./read-side.ts) and the writing half here
 * (batches -> COPY, counts, the run's record) meet only through BatchSink; together they are
 * the only modules joining a reader (src/hae, src/apple, via src/records' contract) to the
 * loader (src/load). What happens after a run (metrics, cache) is ./after-import.ts.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { errorMessage } from '../errors.js';
import { isConnectionError, withRetry } from '../db/client.js';
import { ensureUser } from '../db/users.js';
import type { InputSource } from '../input/open-input.js';
import type { TableBatch } from '../load/batch.js';
import { finishIngestion, releaseLease, setAsOf, startIngestion, type AsOf, type IngestionRef } from '../load/ingestions.js';
import { addCounts, emptyCounts, type Counts } from '../load/outcome.js';
import { storeRejects, type Reject } from '../load/rejects.js';
import { buildRouteLines, postgisEnabled } from '../load/route-lines.js';
import { BatchScheduler } from '../load/scheduler.js';
import { TABLE_NAMES } from '../load/tables.js';
import { deleteWorkouts, StoredWorkouts } from '../load/workout-moves.js';
import { writeBatch, type WriteContext, type WriteResult } from '../load/writer.js';
import { asOfBeforeReading } from './as-of.js';
import { detectReader, type ReaderFactory } from './detect.js';
import { ReadSide, SinkFailure, type BatchSink, type Failure, type ReadEnd, type StopReason } from './read-side.js';
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
  /** Once, at the end of a run that wrote something: the newest record time per metric, epoch ms. */
  newestRecords?(newest: ReadonlyMap<string, number>): void;
}

export interface ImportOptions {
  /** Not needed for a dry run, which never touches the database. */
  pool?: pg.Pool;
  user: string;
  dryRun?: boolean;
  /** Rows per COPY batch (per table). */
  batchRows?: number;
  /** Parallel batch writers (connections); see DEFAULT_CONCURRENCY. */
  concurrency?: number;
  observer?: ImportObserver;
  /** The format reader; chosen by content (HAE JSON or Apple Health XML) unless told. */
  reader?: ReaderFactory;
  /** Partitions ensured so far, shared across the inputs of one run. */
  knownPartitions?: Set<string>;
  /**
   * The input's "as of" instant, epoch ms (`import --as-of`). Unset: the export's own date
   * (content, then file name), else the file's mtime, else the time received (./as-of.ts).
   */
  asOf?: number;
  /** batch (default): every batch keeps the rollups; end: the caller rebuilds them afterwards. */
  rollups?: 'batch' | 'end';
  /**
   * Aborted (with the signal's name as reason, e.g. 'SIGINT'): the run stops reading, lets the
   * batches in flight commit, and ends failed with `failure: 'interrupted'`.
   */
  signal?: AbortSignal;
  /** Longest single element read whole (serve bounds its memory with it); default none. */
  maxElementBytes?: number;
}

/**
 * Rows per COPY batch (per table). Fewer, larger transactions load faster; memory is bounded
 * by the heap cap the CLI runs imports under (bin/healthexport.js), not by this number.
 */
export const DEFAULT_BATCH_ROWS = 25_000;
/**
 * COPY streams in flight at once. On 2 cores, 3 keep PostgreSQL busy while node parses and a
 * batch commits: 100 MB took 32-38 s with 3 against 44 s with 2 (same machine, same load;
 * bench/README.md). Each stream holds at most two batches in memory.
 */
export const DEFAULT_CONCURRENCY = 3;
/** Batches submitted and not yet written hold at most about this much (BatchScheduler). */
const MAX_PENDING_BYTES = 24 << 20;
const PROGRESS_EVERY_MS = 250;

/**
 * Imports one input for one user and says what became of every record. Never throws for a bad
 * input or a failed write: those end in a summary with status `failed` (batches committed before
 * the failure stay committed and counted), also when the database is unreachable from the start.
 * Throws only for a bug, or when the database refuses to record the run (not for being down).
 * @example const s = await importSource((await resolveInputs(['export.json']))[0], { pool, user: 'jane' });
 */
export async function importSource(src: InputSource, opts: ImportOptions): Promise<ImportSummary> {
  if (!opts.dryRun && !opts.pool) throw new Error('importSource: a pool is required unless dryRun');
  let run: ImportRun;
  try {
    run = opts.dryRun ? new ImportRun(src, opts, null) : await ImportRun.start(src, opts, opts.pool!);
  } catch (err) {
    if (!isConnectionError(err)) throw err;
    // The database went away before the run could even be recorded: nothing was read or stored.
    return new ImportRun(src, opts, null).finish(null, databaseFailure(err));
  }
  const read = await run.read();
  const writeFailure = await run.finishWrites(read.routed);
  return run.finish(read, read.failure ?? writeFailure);
}

/** Counts and hashes the bytes on their way to the reader. */
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

function databaseFailure(err: unknown): Failure {
  const what = isConnectionError(err) ? 'database unavailable' : 'database write failed';
  return { kind: 'database', message: `${what}: ${errorMessage(err)}`, offset: null };
}

/**
 * The state of one import while it runs; `ctx` is null for a dry run. It is the writing half,
 * and the BatchSink of the reading half (./read-side.ts).
 */
class ImportRun implements BatchSink {
  readonly meter = new Meter();
  private readonly started = Date.now();
  private readonly tables: Record<string, Counts> = {};
  private readonly scheduler: BatchScheduler;
  private readonly dryValid: Record<string, number> = {};
  private readonly olderSkipped: Record<string, number> = {};
  private readonly moved: string[] = [];
  /** Read when the first v2 workout arrives (load/workout-moves.ts). */
  private storedWorkouts: StoredWorkouts | null = null;
  private lastProgress = 0;

  static async start(src: InputSource, opts: ImportOptions, pool: pg.Pool): Promise<ImportRun> {
    const knownPartitions = opts.knownPartitions ?? new Set<string>();
    const userId = await ensureUser(pool, opts.user);
    const asOf = asOfBeforeReading(src, opts.asOf);
    const ingestion = await startIngestion(pool, { userId, source: src.name, sourceKind: src.kind, known: knownPartitions, asOf });
    const ctx = { pool, userId, ingestionId: ingestion.id, knownPartitions, freshMonths: new Map(), asOf: ingestion.asOf.at, rollups: opts.rollups !== 'end' };
    return new ImportRun(src, opts, ctx, ingestion, await postgisEnabled(pool));
  }

  constructor(
    private readonly src: InputSource,
    private readonly opts: ImportOptions,
    private readonly ctx: WriteContext | null,
    private readonly ingestion?: IngestionRef & { asOf: AsOf },
    /** The workouts table has its PostGIS route column: lines are built as the workouts are read. */
    private readonly routeLines = false,
  ) {
    const concurrency = opts.concurrency ?? DEFAULT_CONCURRENCY;
    this.scheduler = new BatchScheduler(concurrency, concurrency * 2 + 2, MAX_PENDING_BYTES);
  }

  /** Reads the whole input; batches are written as they come. */
  async read(): Promise<ReadEnd> {
    const reader = (this.opts.reader ?? detectReader)(this.meter.wrap(this.src.open()), this.src, { maxElementBytes: this.opts.maxElementBytes });
    const quarters = !!this.ctx && this.ctx.rollups !== false;
    const end = await new ReadSide({ batchRows: this.opts.batchRows ?? DEFAULT_BATCH_ROWS, routeLines: this.routeLines, quarters }, this).readAll(reader);
    const f = end.failure;
    if (f?.kind === 'read' && f.offset === null) f.offset = this.meter.bytes;
    if (f?.kind === 'interrupted') f.message = `interrupted by ${String(this.opts.signal?.reason ?? 'a signal')}`;
    return end;
  }

  stopped(): StopReason | null {
    if (this.scheduler.failed) return 'failed';
    return this.opts.signal?.aborted ? 'interrupted' : null;
  }

  /**
   * The export's own date, once the reader has read it (before its first record), replaces an
   * "as of" guessed from the name or mtime; an explicit `asOf` option is kept.
   */
  async exportDate(at: number): Promise<void> {
    const ing = this.ingestion;
    if (!this.ctx || !ing || ing.asOf.source === 'option' || ing.asOf.source === 'content') return;
    ing.asOf = { at, source: 'content' };
    this.ctx.asOf = at;
    await this.database(() => setAsOf(this.ctx!.pool, ing, this.ctx!.userId, ing.asOf));
  }

  /**
   * v2 workouts (own id) stored at another start: their earlier row and series are deleted
   * before anything of this batch is written, so the corrected workout replaces them. When the
   * stored one comes from a newer export, the incoming workout and its series are skipped
   * instead (returned).
   */
  async workoutsToSkip(incoming: Map<string, number>): Promise<string[]> {
    const ctx = this.ctx;
    if (!ctx) return [];
    return this.database(async () => {
      const m = await (this.storedWorkouts ??= new StoredWorkouts(ctx.pool, ctx.userId)).moves(incoming, ctx.asOf);
      if (m.replace.length) {
        await deleteWorkouts(ctx.pool, ctx.userId, m.replace);
        await this.storedWorkouts.forget(m.replace);
        this.moved.push(...m.replace);
      }
      return m.keepStored;
    });
  }

  unchangedOlder(table: string, n: number): void {
    // Unchanged: the stored workout is from a newer export (the five counts still reconcile).
    const c = this.countsFor(table);
    c.read += n;
    c.unchanged += n;
    this.olderSkipped[table] = (this.olderSkipped[table] ?? 0) + n;
  }

  async rejects(list: Reject[]): Promise<void> {
    for (const r of list) {
      const c = this.countsFor(r.table!);
      c.read++;
      c.rejected++;
    }
    if (!this.ctx) return;
    const { pool, userId, ingestionId } = this.ctx;
    await this.database(() => withRetry(() => storeRejects(pool, userId, ingestionId, list)));
  }

  async batch(batch: TableBatch): Promise<void> {
    const table = batch.spec.table;
    const ctx = this.ctx;
    if (!ctx) {
      // Dry run: valid records are counted as such; nothing is written, so none is inserted.
      this.countsFor(table).read += batch.read;
      this.dryValid[table] = (this.dryValid[table] ?? 0) + batch.read;
      return;
    }
    this.scheduler.submit(table, { min: batch.minTime, max: batch.maxTime }, async () => {
      const r = await writeBatch(ctx, batch);
      addCounts(this.countsFor(table), r.counts);
      if (r.olderSkipped) this.olderSkipped[table] = (this.olderSkipped[table] ?? 0) + r.olderSkipped;
      if (r.rejects.length) await withRetry(() => storeRejects(ctx.pool, ctx.userId, ctx.ingestionId, r.rejects));
      this.opts.observer?.batchWritten?.(table, r);
    }, batch.bytes);
    await this.scheduler.waitForRoom();
  }

  progress(records: number): void {
    const now = Date.now();
    if (!this.opts.observer?.progress || now - this.lastProgress <= PROGRESS_EVERY_MS) return;
    this.lastProgress = now;
    const { src, meter } = this;
    this.opts.observer.progress({ source: src.name, bytes: meter.bytes, sizeHint: src.sizeHint, records, elapsedMs: now - this.started });
  }

  /** A database step the reading half waits for: its failure ends the read as a database failure. */
  private async database<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (err) {
      throw new SinkFailure(databaseFailure(err));
    }
  }

  private countsFor(table: string): Counts {
    return (this.tables[table] ??= emptyCounts());
  }

  /** Waits for every write, then builds the route lines the reading half left to the stored points. */
  async finishWrites(routed: string[]): Promise<Failure | null> {
    try {
      await this.scheduler.drain();
      if (this.ctx) await buildRouteLines(this.ctx.pool, this.ctx.userId, routed);
      return null;
    } catch (err) {
      return databaseFailure(err);
    }
  }

/** The summary, also recorded in the run's raw_ingestions row. */
  async finish(read: ReadEnd | null, failure: Failure | null): Promise<ImportSummary> {
    const { tables, ctx } = this;
    for (const t of TABLE_NAMES) if (tables[t] && tables[t].read === 0) delete tables[t];
    const totals = totalsOf(tables);
    const metricNames = read?.metrics ?? [];
    if (failure?.kind === 'database' || failure?.kind === 'interrupted') failure.message += `; ${committedText(totals)}`;
    const summary: ImportSummary = {
      ingestionId: this.ingestion?.id ?? null,
      userId: ctx?.userId ?? null,
      source: this.src.name,
      bytes: this.meter.bytes,
      sha256: failure?.kind === 'input' || failure?.kind === 'read' ? null : this.meter.digest(),
      durationMs: Date.now() - this.started,
      status: statusOf(totals, failure !== null),
      failure: failure?.kind ?? null,
      dryRun: !!this.opts.dryRun,
      tables,
      totals,
      unknownMetrics: metricNames.filter(([, known]) => !known).map(([name]) => name).sort(),
      metrics: metricNames.map(([name]) => name).sort(),
      unknownKeys: read?.unknownKeys ?? [],
      error: failure === null ? null : failure.kind === 'input' || failure.kind === 'read' ? `${this.src.name}: ${failure.message}` : failure.message,
      errorOffset: failure?.offset ?? null,
      workoutsFlagged: read?.flagged ?? [],
      workoutsMoved: this.moved,
      asOf: this.ingestion ? { at: new Date(this.ingestion.asOf.at).toISOString(), source: this.ingestion.asOf.source } : null,
      unchangedOlder: this.olderSkipped,
      valid: this.opts.dryRun ? this.dryValid : null,
    };
    if (ctx && read && totals.inserted + totals.updated > 0) this.opts.observer?.newestRecords?.(new Map(read.newest));
    if (ctx && this.ingestion) {
      const ingestion = this.ingestion;
      // Retried while the database comes back; when it does not, the run's lease ends with this
      // process and its next run marks the row failed (src/load/ingestions.ts).
      await withRetry(() =>
        finishIngestion(ctx.pool, ingestion, ctx.userId, {
          status: summary.status,
          bytes: summary.bytes,
          sha256: summary.sha256,
          counts: {
            tables, totals, unknownMetrics: summary.unknownMetrics, unknownKeys: summary.unknownKeys,
            unchangedOlder: summary.unchangedOlder, workoutsMoved: summary.workoutsMoved,
          },
          error: summary.error,
        }),
      ).catch(() => {});
      await releaseLease(ingestion);
    }
    return summary;
  }
}

/** For the one line a failed run prints: what stayed stored, and what to do. */
export function committedText(totals: Counts): string {
  const stored = totals.inserted + totals.updated + totals.unchanged;
  return `${stored.toLocaleString('en-US')} of ${totals.read.toLocaleString('en-US')} records read were stored before that and are kept; running the same import again finishes the job`;
}
