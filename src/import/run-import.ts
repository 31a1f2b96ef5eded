/**
 * One input, start to end: bytes -> format reader -> typed records -> per-table batches -> COPY
 * -> summary. The only module that joins a reader (src/hae, src/apple, via src/records' contract)
 * to the loader (src/load). What happens after a run (metrics, cache) is ./after-import.ts.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { InputError, errorMessage } from '../errors.js';
import { isConnectionError, withRetry } from '../db/client.js';
import { ensureUser } from '../db/users.js';
import type { InputSource } from '../input/open-input.js';
import { TableBatch } from '../load/batch.js';
import { finishIngestion, releaseLease, setAsOf, startIngestion, type AsOf, type IngestionRef } from '../load/ingestions.js';
import { addCounts, emptyCounts, type Counts } from '../load/outcome.js';
import { storeRejects, type Reject } from '../load/rejects.js';
import { buildRouteLines } from '../load/route-lines.js';
import { BatchScheduler } from '../load/scheduler.js';
import { TABLE_NAMES, TABLES } from '../load/tables.js';
import { deleteWorkouts, StoredWorkouts } from '../load/workout-moves.js';
import { writeBatch, type WriteContext, type WriteResult } from '../load/writer.js';
import { latestRecordMs, recordProblem } from '../records/admissible.js';
import type { HealthRecord, RecordKind } from '../records/model.js';
import type { ReaderBatch, RecordReader } from '../records/reader.js';
import { asOfBeforeReading } from './as-of.js';
import { detectReader, type ReaderFactory } from './detect.js';
import { statusOf, totalsOf, type ImportFailure, type ImportSummary } from './summary.js';

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
/** A batch is also sent once its COPY text reaches this size (a few workouts carry big JSON). */
const BATCH_BYTES = 8 << 20;
/** Batches submitted and not yet written hold at most about this much (BatchScheduler). */
const MAX_PENDING_BYTES = 24 << 20;
/**
 * Rejects are stored in groups of this many, or sooner once their raw texts reach
 * REJECT_CHARS_PER_WRITE (a rejected workout's text can be 64 K characters: a thousand of them
 * would fill the heap), and at the end.
 */
const REJECTS_PER_WRITE = 1000;
const REJECT_CHARS_PER_WRITE = 2 << 20;
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
  const reader = (opts.reader ?? detectReader)(run.meter.wrap(src.open()), src, { maxElementBytes: opts.maxElementBytes });
  const inputFailure = await run.readAll(reader);
  const writeFailure = await run.finishWrites();
  return run.finish(reader, inputFailure ?? writeFailure);
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

/** Thrown out of the read loop when storing rejects failed: told apart from the input breaking. */
class RejectsNotStored extends Error {
  constructor(override readonly cause: unknown) {
    super(errorMessage(cause));
  }
}

function databaseFailure(err: unknown): Failure {
  const what = isConnectionError(err) ? 'database unavailable' : 'database write failed';
  return { kind: 'database', message: `${what}: ${errorMessage(err)}`, offset: null };
}

interface Failure {
  kind: Exclude<ImportFailure, null>;
  message: string;
  offset: number | null;
}

/** The state of one import while it runs; `ctx` is null for a dry run. */
class ImportRun {
  readonly meter = new Meter();
  private readonly started = Date.now();
  private readonly tables: Record<string, Counts> = {};
  private readonly batches = new Map<RecordKind, TableBatch>();
  private readonly scheduler: BatchScheduler;
  private readonly batchRows: number;
  private readonly dryValid: Record<string, number> = {};
  private readonly flagged: string[] = [];
  private readonly routedWorkouts = new Set<string>();
  private readonly newest = new Map<string, number>();
  private readonly olderSkipped: Record<string, number> = {};
  private readonly moved: string[] = [];
  /** Read when the first v2 workout arrives (load/workout-moves.ts). */
  private storedWorkouts: StoredWorkouts | null = null;
  private pendingRejects: Reject[] = [];
  private pendingRejectChars = 0;
  /** Records later than this are refused (src/records/admissible.ts), fixed at the start. */
  private readonly latest = latestRecordMs();
  private records = 0;
  private lastProgress = 0;

  static async start(src: InputSource, opts: ImportOptions, pool: pg.Pool): Promise<ImportRun> {
    const knownPartitions = opts.knownPartitions ?? new Set<string>();
    const userId = await ensureUser(pool, opts.user);
    const asOf = asOfBeforeReading(src, opts.asOf);
    const ingestion = await startIngestion(pool, { userId, source: src.name, sourceKind: src.kind, known: knownPartitions, asOf });
    const ctx = { pool, userId, ingestionId: ingestion.id, knownPartitions, freshMonths: new Map(), asOf: ingestion.asOf.at, rollups: opts.rollups !== 'end' };
    return new ImportRun(src, opts, ctx, ingestion);
  }

  constructor(
    private readonly src: InputSource,
    private readonly opts: ImportOptions,
    private readonly ctx: WriteContext | null,
    private readonly ingestion?: IngestionRef & { asOf: AsOf },
  ) {
    const concurrency = opts.concurrency ?? DEFAULT_CONCURRENCY;
    this.scheduler = new BatchScheduler(concurrency, concurrency * 2 + 2, MAX_PENDING_BYTES);
    this.batchRows = opts.batchRows ?? DEFAULT_BATCH_ROWS;
  }

  /** Feeds every record to its table's batch; returns the input's failure, if it broke. */
  async readAll(reader: RecordReader): Promise<Failure | null> {
    try {
      for await (const read of reader.batches) {
        await this.takeExportDate(reader);
        await this.take(read);
        if (this.scheduler.failed) break;
        if (this.opts.signal?.aborted) return this.interrupted();
        this.reportProgress();
        await yieldToIo();
      }
      return null;
    } catch (err) {
      if (this.opts.signal?.aborted) return this.interrupted();
      // Storing a group of rejects failed: the database, not the input.
      if (err instanceof RejectsNotStored) return databaseFailure(err.cause);
      // The input broke: what was complete before the break is still loaded and reported.
      if (err instanceof InputError && err.offset !== null) return { kind: 'input', message: err.message, offset: err.offset };
      return { kind: 'read', message: `cannot read input: ${errorMessage(err)}`, offset: this.meter.bytes };
    }
  }

  /**
   * The export's own date, once the reader has read it (before its first record), replaces an
   * "as of" guessed from the name or mtime; an explicit `asOf` option is kept.
   */
  private async takeExportDate(reader: RecordReader): Promise<void> {
    const at = reader.stats.exportedAt;
    const ing = this.ingestion;
    if (at === undefined || !this.ctx || !ing || ing.asOf.source === 'option' || ing.asOf.source === 'content') return;
    ing.asOf = { at, source: 'content' };
    this.ctx.asOf = at;
    await setAsOf(this.ctx.pool, ing, this.ctx.userId, ing.asOf);
  }

  /**
   * v2 workouts (own id) stored at another start: their earlier row and series are deleted
   * before anything of this batch is written, so the corrected workout replaces them. HAE emits
   * a workout before its series, in the same reader batch. When the stored one comes from a
   * newer export, the incoming workout and its series are skipped instead (returned).
   */
  private async settleMovedWorkouts(records: HealthRecord[]): Promise<Set<string> | null> {
    const ctx = this.ctx;
    if (!ctx) return null;
    let incoming: Map<string, number> | null = null;
    for (const r of records) if (r.kind === 'workout' && !r.idDerived) (incoming ??= new Map()).set(r.workoutId, r.time);
    if (incoming === null) return null;
    const m = await (this.storedWorkouts ??= new StoredWorkouts(ctx.pool, ctx.userId)).moves(incoming, ctx.asOf);
    if (m.replace.length) {
      await deleteWorkouts(ctx.pool, ctx.userId, m.replace);
      await this.storedWorkouts.forget(m.replace);
      this.moved.push(...m.replace);
    }
    return m.keepStored.length ? new Set(m.keepStored) : null;
  }

  private async take(read: ReaderBatch): Promise<void> {
    const keepStored = await this.settleMovedWorkouts(read.records);
    const checked = read.checked === true;
    for (const rec of read.records) {
      if (keepStored !== null && ownedBy(rec, keepStored)) {
        // Unchanged: the stored workout is from a newer export (the five counts still reconcile).
        const table = TABLES[rec.kind].table;
        const c = this.countsFor(table);
        c.read++;
        c.unchanged++;
        this.olderSkipped[table] = (this.olderSkipped[table] ?? 0) + 1;
        continue;
      }
      // The readers check records where they know their place in the input; this is for a
      // batch they did not check (a record with unstorable text must never reach COPY).
      const why = checked ? null : recordProblem(rec, this.latest);
      if (why !== null) {
        this.rejectUnplaced(rec, why);
        continue;
      }
      let batch = this.batches.get(rec.kind);
      if (!batch) this.batches.set(rec.kind, (batch = new TableBatch(TABLES[rec.kind])));
      const refused = batch.add(rec);
      if (refused !== null) {
        this.rejectUnplaced(rec, `not stored: ${refused}`);
        continue;
      }
      this.note(rec);
      if (batch.size >= this.batchRows || batch.bytes >= BATCH_BYTES) {
        this.submit(rec.kind);
        await this.scheduler.waitForRoom();
      }
    }
    for (const rj of read.rejects) {
      const table = TABLES[rj.kind].table;
      const c = this.countsFor(table);
      c.read++;
      c.rejected++;
      this.pendingRejects.push({ table, reason: rj.reason, jsonPath: rj.path, byteOffset: rj.byteOffset, raw: rj.raw });
      this.pendingRejectChars += rj.raw?.length ?? 0;
    }
    this.records += read.records.length + read.rejects.length;
    if (this.pendingRejects.length >= REJECTS_PER_WRITE || this.pendingRejectChars >= REJECT_CHARS_PER_WRITE) await this.flushRejects();
  }

  private rejectUnplaced(rec: HealthRecord, reason: string): void {
    const table = TABLES[rec.kind].table;
    const c = this.countsFor(table);
    c.read++;
    c.rejected++;
    const raw = JSON.stringify(rec);
    this.pendingRejects.push({ table, reason, jsonPath: null, byteOffset: null, raw });
    this.pendingRejectChars += raw.length;
  }

  /** What the summary and the after-import step want to know beyond counts. */
  private note(rec: HealthRecord): void {
    if (rec.kind === 'workout' && rec.heartRateLooksLikeRecovery) this.flagged.push(rec.workoutId);
    else if (rec.kind === 'route_point') this.routedWorkouts.add(rec.workoutId);
    const metric = rec.kind === 'quantity' ? rec.metric : rec.kind;
    const prev = this.newest.get(metric);
    if (prev === undefined || rec.time > prev) this.newest.set(metric, rec.time);
  }

  private countsFor(table: string): Counts {
    return (this.tables[table] ??= emptyCounts());
  }

  private submit(kind: RecordKind): void {
    const batch = this.batches.get(kind);
    if (!batch || batch.size === 0) return;
    this.batches.delete(kind);
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
  }

  private async flushRejects(): Promise<void> {
    if (!this.pendingRejects.length || !this.ctx) return;
    const list = this.pendingRejects;
    this.pendingRejects = [];
    this.pendingRejectChars = 0;
    const { pool, userId, ingestionId } = this.ctx;
    await withRetry(() => storeRejects(pool, userId, ingestionId, list)).catch((err) => {
      throw new RejectsNotStored(err);
    });
  }

  private reportProgress(): void {
    const now = Date.now();
    if (!this.opts.observer?.progress || now - this.lastProgress <= PROGRESS_EVERY_MS) return;
    this.lastProgress = now;
    const { src, meter } = this;
    this.opts.observer.progress({ source: src.name, bytes: meter.bytes, sizeHint: src.sizeHint, records: this.records, elapsedMs: now - this.started });
  }

  private interrupted(): Failure {
    return { kind: 'interrupted', message: `interrupted by ${String(this.opts.signal?.reason ?? 'a signal')}`, offset: null };
  }

  /**
   * Sends the last partial batches (not when interrupted), waits for every write, stores the
   * last rejects and route lines.
   */
  async finishWrites(): Promise<Failure | null> {
    try {
      if (!this.scheduler.failed && !this.opts.signal?.aborted) for (const kind of [...this.batches.keys()]) this.submit(kind);
      await this.scheduler.drain();
      await this.flushRejects();
      if (this.ctx) await buildRouteLines(this.ctx.pool, this.ctx.userId, [...this.routedWorkouts]);
      return null;
    } catch (err) {
      return databaseFailure(err instanceof RejectsNotStored ? err.cause : err);
    }
  }

  /** The summary, also recorded in the run's raw_ingestions row. */
  async finish(reader: RecordReader | null, failure: Failure | null): Promise<ImportSummary> {
    const { tables, ctx } = this;
    for (const t of TABLE_NAMES) if (tables[t] && tables[t].read === 0) delete tables[t];
    const totals = totalsOf(tables);
    const metricNames = reader ? [...reader.stats.metrics] : [];
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
      unknownKeys: reader?.stats.unknownKeys ?? [],
      error: failure === null ? null : failure.kind === 'input' || failure.kind === 'read' ? `${this.src.name}: ${failure.message}` : failure.message,
      errorOffset: failure?.offset ?? null,
      workoutsFlagged: this.flagged,
      workoutsMoved: this.moved,
      asOf: this.ingestion ? { at: new Date(this.ingestion.asOf.at).toISOString(), source: this.ingestion.asOf.source } : null,
      unchangedOlder: this.olderSkipped,
      valid: this.opts.dryRun ? this.dryValid : null,
    };
    if (ctx && totals.inserted + totals.updated > 0) this.opts.observer?.newestRecords?.(this.newest);
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

/** True for a workout or one of its series whose workout id is in `ids`. */
function ownedBy(rec: HealthRecord, ids: Set<string>): boolean {
  switch (rec.kind) {
    case 'workout':
    case 'route_point':
    case 'workout_heart_rate':
    case 'workout_series':
      return ids.has(rec.workoutId);
    default:
      return false;
  }
}

/** For the one line a failed run prints: what stayed stored, and what to do. */
export function committedText(totals: Counts): string {
  const stored = totals.inserted + totals.updated + totals.unchanged;
  return `${stored.toLocaleString('en-US')} of ${totals.read.toLocaleString('en-US')} records read were stored before that and are kept; running the same import again finishes the job`;
}

/**
 * Lets node handle what PostgreSQL sent meanwhile. Reading, parsing and batching otherwise run in
 * long synchronous stretches (the input stream has data buffered, so `for await` never waits
 * for I/O), and no reply is handled during them: a COPY starves, a transaction sits idle between
 * its statements. Measured on the 1 GB bench: event loop delay mean 12.9 -> 9.3 ms with this and
 * reader batches of 500 slices / 256 KiB (hae/scanner.ts), first import 57.0 -> 53.0 s.
 */
function yieldToIo(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
