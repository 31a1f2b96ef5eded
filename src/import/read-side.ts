/**
 * The reading half of an import: a format reader's records -> per-table batches of binary COPY
 * rows (load/batch.ts), handed to a BatchSink (./run-import.ts), which writes them. It never
 * touches the database itself: what it must know from it (workouts stored from a newer export)
 * it asks the sink.
 */
import { InputError, errorMessage } from '../errors.js';
import { TableBatch } from '../load/batch.js';
import type { Reject } from '../load/rejects.js';
import { RouteLineBuilder } from '../load/route-line.js';
import { TABLES, WORKOUT_WITH_ROUTE_LINE, type TableSpec } from '../load/tables.js';
import { latestRecordMs, recordProblem } from '../records/admissible.js';
import type { HealthRecord, RecordKind, WorkoutRecord } from '../records/model.js';
import type { ReaderBatch, RecordReader } from '../records/reader.js';
import type { ImportFailure } from './summary.js';

export interface Failure {
  kind: Exclude<ImportFailure, null>;
  message: string;
  /** Byte offset in the input; null for a 'read' failure means "as far as it was read". */
  offset: number | null;
}

/** Why reading stops early: a write failed (the sink has the failure), or a signal. */
export type StopReason = 'failed' | 'interrupted';

/** Thrown by a sink call that failed for a reason of its own (the database): ends the read with it. */
export class SinkFailure extends Error {
  constructor(readonly failure: Failure) {
    super(failure.message);
  }
}

/** Where the reading half puts what it read. Calls come in input order, one at a time. */
export interface BatchSink {
  /** The export's own date (Apple's <ExportDate>), before its first record. */
  exportDate(at: number): Promise<void>;
  /**
   * Of these incoming v2 workouts (id -> start, epoch ms), the ids to skip with their series:
   * the stored one comes from a newer export (load/workout-moves.ts).
   */
  workoutsToSkip(incoming: Map<string, number>): Promise<string[]>;
  /** A batch to write; resolves when there is room to build the next. */
  batch(batch: TableBatch): Promise<void>;
  /** Records that cannot be stored, with why, in groups. */
  rejects(list: Reject[]): Promise<void>;
  /** Records left as they are because their workout is stored from a newer export. */
  unchangedOlder(table: string, n: number): void;
  /** Records read so far, after each reader batch. */
  progress(records: number): void;
  /** Set once reading must stop. */
  stopped(): StopReason | null;
}

/** What the summary and the after-import steps want to know beyond counts. */
export interface ReadEnd {
  failure: Failure | null;
  /** Metric names seen, each with whether healthexport knows it. */
  metrics: [string, boolean][];
  unknownKeys: string[];
  /** Workouts whose heart rate looks like recovery only (summary.workoutsFlagged). */
  flagged: string[];
  /** Workouts with route points but no line built while reading: their lines are built at the end. */
  routed: string[];
  /** Newest record time per metric, epoch ms. */
  newest: [string, number][];
}

export interface ReadOptions {
  /** Rows per COPY batch (per table). */
  batchRows: number;
  /**
   * Workouts carry their route line, built here from the route points read with them
   * (load/route-line.ts; the database has PostGIS). Otherwise, or for a workout whose points come
   * apart from it (Apple's GPX files), the lines are built from the stored points at the end.
   */
  routeLines?: boolean;
  /** Batches keep their rollup quarters as they fill (the writer adds them with each direct COPY). */
  quarters?: boolean;
}

/** A batch is also sent once its rows reach this size (a few workouts carry big JSON). */
const BATCH_BYTES = 8 << 20;
/**
 * Rejects are stored in groups of this many, or sooner once their raw texts reach
 * REJECT_CHARS_PER_WRITE (a rejected workout's text can be 64 K characters: a thousand of them
 * would fill the heap), and at the end.
 */
const REJECTS_PER_WRITE = 1000;
const REJECT_CHARS_PER_WRITE = 2 << 20;

export class ReadSide {
  private readonly batches = new Map<RecordKind, TableBatch>();
  private readonly flagged: string[] = [];
  private readonly routed = new Set<string>();
  private readonly newest = new Map<string, number>();
  private pendingRejects: Reject[] = [];
  private pendingRejectChars = 0;
  /** Records later than this are refused (src/records/admissible.ts), fixed at the start. */
  private readonly latest = latestRecordMs();
  private records = 0;
  private exportDateTold = false;

  constructor(
    private readonly opts: ReadOptions,
    private readonly sink: BatchSink,
  ) {}

  /**
   * Reads every record into its table's batch and hands the batches over, the last partial ones
   * too (also after the input broke: what was complete before the break is stored), unless a
   * write failed or a signal came.
   */
  async readAll(reader: RecordReader): Promise<ReadEnd> {
    let failure = await this.readBatches(reader);
    try {
      if (this.sink.stopped() === null) for (const kind of [...this.batches.keys()]) await this.submit(kind);
      await this.flushRejects();
    } catch (err) {
      failure ??= this.failureOf(err);
    }
    if (this.sink.stopped() === 'interrupted' && failure?.kind !== 'database') failure = interrupted();
    return {
      failure,
      metrics: [...reader.stats.metrics],
      unknownKeys: reader.stats.unknownKeys,
      flagged: this.flagged,
      routed: [...this.routed],
      newest: [...this.newest],
    };
  }

  private async readBatches(reader: RecordReader): Promise<Failure | null> {
    try {
      for await (const read of reader.batches) {
        await this.tellExportDate(reader);
        await this.take(read);
        if (this.sink.stopped() !== null) break;
        this.sink.progress(this.records);
        await yieldToIo();
      }
      return null;
    } catch (err) {
      return this.failureOf(err);
    }
  }

  private failureOf(err: unknown): Failure {
    if (this.sink.stopped() === 'interrupted') return interrupted();
    if (err instanceof SinkFailure) return err.failure;
    // The input broke: what was complete before the break is still loaded and reported.
    if (err instanceof InputError && err.offset !== null) return { kind: 'input', message: err.message, offset: err.offset };
    return { kind: 'read', message: `cannot read input: ${errorMessage(err)}`, offset: null };
  }

  private async tellExportDate(reader: RecordReader): Promise<void> {
    const at = reader.stats.exportedAt;
    if (at === undefined || this.exportDateTold) return;
    this.exportDateTold = true;
    await this.sink.exportDate(at);
  }

  /**
   * v2 workouts (own id) whose stored one comes from a newer export are skipped with their
   * series (HAE emits a workout before its series, in the same reader batch).
   */
  private async workoutsToSkip(records: HealthRecord[]): Promise<Set<string> | null> {
    let incoming: Map<string, number> | null = null;
    for (const r of records) if (r.kind === 'workout' && !r.idDerived) (incoming ??= new Map()).set(r.workoutId, r.time);
    if (incoming === null) return null;
    const skip = await this.sink.workoutsToSkip(incoming);
    return skip.length ? new Set(skip) : null;
  }

  private async take(read: ReaderBatch): Promise<void> {
    const skip = await this.workoutsToSkip(read.records);
    const checked = read.checked === true;
    let skipped: Record<string, number> | null = null;
    // HAE workouts come before their route points (in the same reader batch): they wait here
    // until the points are stored, to carry the line of exactly those. All of them wait, in
    // input order, so that of two records of one workout the later still wins in its batch.
    let waiting: { workout: WorkoutRecord; line: RouteLineBuilder | null }[] | null = null;
    const lineOf = new Map<string, RouteLineBuilder>();
    for (const rec of read.records) {
      if (skip !== null && ownedBy(rec, skip)) {
        const table = TABLES[rec.kind].table;
        (skipped ??= {})[table] = (skipped[table] ?? 0) + 1;
        continue;
      }
      // The readers check records where they know their place in the input; this is for a
      // batch they did not check (a record with unstorable text must never reach COPY).
      const why = checked ? null : recordProblem(rec, this.latest);
      if (why !== null) {
        this.rejectUnplaced(rec, why);
        continue;
      }
      if (rec.kind === 'workout' && this.opts.routeLines) {
        const line = rec.routePoints > 1 ? new RouteLineBuilder() : null;
        // Its points follow it: a second record of the same workout takes the next ones.
        if (line !== null) lineOf.set(rec.workoutId, line);
        else lineOf.delete(rec.workoutId);
        (waiting ??= []).push({ workout: rec, line });
        continue;
      }
      const line = rec.kind === 'route_point' ? lineOf.get(rec.workoutId) : undefined;
      const batch = this.store(rec, line === undefined);
      if (batch === null) continue;
      if (line !== undefined && rec.kind === 'route_point') line.add(rec);
      if (this.full(batch)) await this.submit(rec.kind);
    }
    for (const { workout, line } of waiting ?? []) {
      workout.routeLine = line?.build() ?? null;
      // Too few points stored for a line here: the stored points decide at the end, as without.
      if (line !== null && workout.routeLine === null && line.points > 0) this.routed.add(workout.workoutId);
      const batch = this.store(workout, true);
      if (batch !== null && this.full(batch)) await this.submit('workout');
    }
    if (skipped !== null) for (const [table, n] of Object.entries(skipped)) this.sink.unchangedOlder(table, n);
    for (const rj of read.rejects) {
      this.pendingRejects.push({ table: TABLES[rj.kind].table, reason: rj.reason, jsonPath: rj.path, byteOffset: rj.byteOffset, raw: rj.raw });
      this.pendingRejectChars += rj.raw?.length ?? 0;
    }
    this.records += read.records.length + read.rejects.length;
    if (this.pendingRejects.length >= REJECTS_PER_WRITE || this.pendingRejectChars >= REJECT_CHARS_PER_WRITE) await this.flushRejects();
  }

  /**
   * Adds a checked record to its table's batch, or rejects it when the batch refuses it (null).
   * `routed`: a route point whose workout's line is built at the end. Not async: it runs for
   * every record, and an await each cost several CPU-seconds on the 1 GB bench.
   */
  private store(rec: HealthRecord, routed: boolean): TableBatch | null {
    let batch = this.batches.get(rec.kind);
    if (!batch) this.batches.set(rec.kind, (batch = new TableBatch(this.specFor(rec.kind), { quarters: this.opts.quarters })));
    const refused = batch.add(rec);
    if (refused !== null) {
      this.rejectUnplaced(rec, `not stored: ${refused}`);
      return null;
    }
    this.note(rec, routed);
    return batch;
  }

  private full(batch: TableBatch): boolean {
    return batch.size >= this.opts.batchRows || batch.bytes >= BATCH_BYTES;
  }

  private specFor(kind: RecordKind): TableSpec {
    return kind === 'workout' && this.opts.routeLines ? WORKOUT_WITH_ROUTE_LINE : TABLES[kind];
  }

  private rejectUnplaced(rec: HealthRecord, reason: string): void {
    // A workout's route line is the import's own (its points are stored or rejected apart).
    const raw = JSON.stringify(rec, (k, v) => (k === 'routeLine' ? undefined : v));
    this.pendingRejects.push({ table: TABLES[rec.kind].table, reason, jsonPath: null, byteOffset: null, raw });
    this.pendingRejectChars += raw.length;
  }

  private note(rec: HealthRecord, routed: boolean): void {
    if (rec.kind === 'workout' && rec.heartRateLooksLikeRecovery) this.flagged.push(rec.workoutId);
    else if (rec.kind === 'route_point' && routed) this.routed.add(rec.workoutId);
    const metric = rec.kind === 'quantity' ? rec.metric : rec.kind;
    const prev = this.newest.get(metric);
    if (prev === undefined || rec.time > prev) this.newest.set(metric, rec.time);
  }

  private async submit(kind: RecordKind): Promise<void> {
    const batch = this.batches.get(kind);
    if (!batch || batch.size === 0) return;
    this.batches.delete(kind);
    await this.sink.batch(batch);
  }

  private async flushRejects(): Promise<void> {
    if (!this.pendingRejects.length) return;
    const list = this.pendingRejects;
    this.pendingRejects = [];
    this.pendingRejectChars = 0;
    await this.sink.rejects(list);
  }
}

function interrupted(): Failure {
  return { kind: 'interrupted', message: 'interrupted', offset: null };
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
