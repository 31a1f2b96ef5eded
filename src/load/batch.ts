/**
 * Rows for one table on their way to one COPY, as binary COPY rows (db/copy-binary.ts). The same
 * key twice in a batch would make `INSERT ... ON CONFLICT DO UPDATE` fail ("cannot affect row a
 * second time"), so duplicates are resolved here: the later record wins, and the earlier one
 * counts as unchanged (identical) or updated (different values), exactly as if they had come in
 * separate batches.
 */
import { monthKey } from '../db/partitions.js';
import type { HealthRecord } from '../records/model.js';
import { RecordQuarters, type QuarterRows, type SampleRows } from '../rollups/aggregate.js';
import { rollupInput } from '../rollups/inputs.js';
import { COPY_SIGNATURE, COPY_TRAILER, RowRefused, RowWriter, fieldEpochMs, fieldNumber, fieldOffsets, fieldText, int32At } from '../db/copy-binary.js';
import { keyFields, type TableSpec } from './tables.js';

/** Placeholders for user_id (int8) and ingestion_id (uuid): the writer stamps the run's values. */
const INGESTION_FIELD_BYTES = 20;
const USER_PLACEHOLDER = Buffer.from([0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0]);
const INGESTION_PLACEHOLDER = Buffer.from([0, 0, 0, 16, ...new Array(16).fill(0)]);

/**
 * Binary rows by position: row i is chunks[chunk[i]] from start[i] to end[i]. Slices share the
 * chunks (the writer splits a refused batch in halves without copying).
 */
export class CopyRows implements SampleRows {
  constructor(
    readonly spec: TableSpec,
    private readonly chunks: Buffer[],
    private readonly chunk: Int32Array,
    private readonly start: Int32Array,
    private readonly end: Int32Array,
  ) {}

  get length(): number {
    return this.chunk.length;
  }

  slice(from: number, to: number): CopyRows {
    return new CopyRows(this.spec, this.chunks, this.chunk.subarray(from, to), this.start.subarray(from, to), this.end.subarray(from, to));
  }

  /** Writes the run's user_id and ingestion_id fields into every row (fixed-size fields, in place). */
  stamp(userField: Buffer, ingestionField: Buffer): void {
    // Byte loops: two Buffer#copy calls per row would cost more than the rest of the row.
    const u = userField.length;
    const g = ingestionField.length;
    for (let i = 0; i < this.chunk.length; i++) {
      const b = this.chunks[this.chunk[i]];
      const us = this.start[i] + 2;
      for (let k = 0; k < u; k++) b[us + k] = userField[k];
      const gs = this.end[i] - INGESTION_FIELD_BYTES;
      for (let k = 0; k < g; k++) b[gs + k] = ingestionField[k];
    }
  }

  /** The COPY ... (FORMAT binary) stream: header, rows (adjacent ones as one slice), trailer. */
  *buffers(): Generator<Buffer> {
    yield COPY_SIGNATURE;
    let i = 0;
    const n = this.chunk.length;
    while (i < n) {
      const c = this.chunk[i];
      const from = this.start[i];
      let to = this.end[i];
      i++;
      while (i < n && this.chunk[i] === c && this.start[i] === to) to = this.end[i++];
      yield this.chunks[c].subarray(from, to);
    }
    yield COPY_TRAILER;
  }

  /** Row i in COPY text form without user_id and ingestion_id, for a refused row's `raw`. */
  rowText(i: number): string {
    const b = this.chunks[this.chunk[i]];
    const at = fieldOffsets(b, this.start[i]);
    return this.spec.types.map((t, k) => copyEscape(fieldText(b, at[k + 1], t), t)).join('\t');
  }

  get columns(): readonly string[] {
    return this.spec.columns;
  }

  // SampleRows (the rollups read a batch's values where they lie): field k of spec.columns is
  // binary field k + 1, after user_id. Read byte by byte, into arrays reused from row to row:
  // Buffer#readInt32BE and a fresh offsets array per row made this cost 1.8 us a row (12 s of
  // node time on the 1 GB bench, on the import's critical path).
  private at = new Int32Array(0);
  private buf: Buffer = Buffer.alloc(0);
  /** Per column, the last text read and where its bytes lie: most rows repeat the previous row's source and unit. */
  private lastBuf: (Buffer | undefined)[] = [];
  private lastFrom: number[] = [];
  private lastLen: number[] = [];
  private lastValue: string[] = [];

  seek(row: number): void {
    const b = this.chunks[this.chunk[row]];
    this.buf = b;
    let p = this.start[row];
    const n = (b[p] << 8) | b[p + 1];
    if (this.at.length < n + 1) this.at = new Int32Array(n + 1);
    const at = this.at;
    p += 2;
    for (let i = 0; i < n; i++) {
      at[i] = p;
      const len = int32At(b, p);
      p += 4 + (len > 0 ? len : 0);
    }
    at[n] = p;
  }

  text(column: number): string | null {
    const b = this.buf;
    const at = this.at[column + 1];
    const len = int32At(b, at);
    if (len < 0) return null;
    const from = at + 4;
    const lb = this.lastBuf[column];
    if (lb !== undefined && this.lastLen[column] === len) {
      const lf = this.lastFrom[column];
      let k = 0;
      while (k < len && lb[lf + k] === b[from + k]) k++;
      if (k === len) return this.lastValue[column];
    }
    const value = b.toString('utf8', from, from + len);
    this.lastBuf[column] = b;
    this.lastFrom[column] = from;
    this.lastLen[column] = len;
    this.lastValue[column] = value;
    return value;
  }

  number(column: number): number | null {
    return fieldNumber(this.buf, this.at[column + 1], this.spec.types[column]);
  }

  epochMs(column: number): number {
    return fieldEpochMs(this.buf, this.at[column + 1]);
  }
}

/** COPY text escaping of a text or jsonb field (NULL stays `\\N`). */
function copyEscape(v: string, type: string): string {
  if ((type !== 'text' && type !== 'jsonb') || !/[\\\t\n\r]/.test(v)) return v;
  return v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

export class TableBatch {
  private readonly w = new RowWriter();
  /**
   * Where row i lies in the writer's chunks. Typed arrays, outside the JS heap: a batch lives
   * through many reader batches, and plain arrays of its 25,000 rows were copied by every
   * young-generation GC they outlived, then promoted and marked again.
   */
  private chunkOf = new Int32Array(1024);
  private startOf = new Int32Array(1024);
  private endOf = new Int32Array(1024);
  private n = 0;
  private readonly keyAt: number[];
  private readonly fields: number;
  /** Key -> row index; built only once a record is not later than every record before it. */
  private slots: Map<string, number> | null = null;
  minTime = Infinity;
  maxTime = -Infinity;
  /** Records read into this batch, including the duplicates resolved in memory. */
  read = 0;
  dupUnchanged = 0;
  dupUpdated = 0;
  /** The series of the last row added (spec.series), its latest time, and the other series'. */
  private series: string | undefined = undefined;
  private seriesLatest = -Infinity;
  private readonly seriesLatestOf = new Map<string, number>();
  /** Partition months holding at least one row (see monthKey). */
  private readonly monthSet = new Set<number>();
  /** [start, end) of the last month added, in epoch ms: most records fall in the previous one's. */
  private monthFrom = Infinity;
  private monthTo = -Infinity;
  /** The rows' rollup quarters, kept as they are added (`opts.quarters`, tables that roll up). */
  private readonly quarters: RecordQuarters | null;

  constructor(
    readonly spec: TableSpec,
    opts: { quarters?: boolean } = {},
  ) {
    this.keyAt = keyFields(spec);
    this.fields = spec.columns.length + 2;
    const input = opts.quarters ? rollupInput(spec.table) : undefined;
    this.quarters = input ? new RecordQuarters(input) : null;
  }

  /** Bytes of binary rows held (what the batch costs in memory, outside the JS heap). */
  get bytes(): number {
    return this.w.bytes;
  }

  get size(): number {
    return this.n;
  }

  get rows(): CopyRows {
    const n = this.n;
    return new CopyRows(this.spec, this.w.chunks, this.chunkOf.subarray(0, n), this.startOf.subarray(0, n), this.endOf.subarray(0, n));
  }

  /** The rows' rollup quarters when the batch kept them and they hold (else null: aggregate `rows`). */
  quarterRows(): QuarterRows | null {
    return this.quarters?.rows() ?? null;
  }

  /**
   * Adds a record; returns why it cannot be stored when one of its values does not fit its
   * column (binary COPY would store what text input refuses, e.g. 1e39 in a real as Infinity).
   */
  add(record: HealthRecord): string | null {
    const w = this.w;
    w.begin(this.fields);
    w.raw(USER_PLACEHOLDER);
    try {
      this.spec.write(w, record);
    } catch (err) {
      if (!(err instanceof RowRefused)) throw err;
      w.abandon();
      return err.message;
    }
    w.raw(INGESTION_PLACEHOLDER);
    w.end();
    const t = this.spec.time(record);
    this.read++;
    // Keys contain the time: a record later than all before it of its series (spec.series) cannot
    // repeat one of them, and exports write each series in time order, so the map is usually
    // never needed.
    if (t <= this.latestOfSeries(record)) {
      const slots = this.slots ?? this.buildSlots();
      const key = this.keyOf(w.lastChunk, w.lastStart);
      const slot = slots.get(key);
      if (slot !== undefined) {
        if (this.sameRow(slot, w.lastChunk, w.lastStart, w.lastEnd)) this.dupUnchanged++;
        else {
          this.dupUpdated++;
          this.quarters?.replaced();
          this.chunkOf[slot] = w.lastChunk;
          this.startOf[slot] = w.lastStart;
          this.endOf[slot] = w.lastEnd;
        }
        return null;
      }
      slots.set(key, this.n);
    } else {
      this.slots?.set(this.keyOf(w.lastChunk, w.lastStart), this.n);
      if (t > this.maxTime) this.maxTime = t;
      this.seriesLatest = t;
    }
    if (this.n === this.chunkOf.length) this.grow();
    this.chunkOf[this.n] = w.lastChunk;
    this.startOf[this.n] = w.lastStart;
    this.endOf[this.n] = w.lastEnd;
    this.n++;
    this.quarters?.add(record);
    this.noteMonth(t);
    if (t < this.minTime) this.minTime = t;
    return null;
  }

  /**
   * The latest time among the rows of `record`'s series so far; a table without series is one.
   * The series changes seldom (an export writes a metric's samples together), so the current
   * one's latest time is kept aside and the map is consulted only on a change.
   */
  private latestOfSeries(record: HealthRecord): number {
    const of = this.spec.series;
    if (of === undefined) return this.seriesLatest;
    const s = of(record);
    if (s !== this.series) {
      if (this.series !== undefined) this.seriesLatestOf.set(this.series, this.seriesLatest);
      this.series = s;
      this.seriesLatest = this.seriesLatestOf.get(s) ?? -Infinity;
    }
    return this.seriesLatest;
  }

  /** A row's key: the bytes of its key fields (length words included, so it is unambiguous). */
  private keyOf(chunk: number, start: number): string {
    const b = this.w.chunks[chunk];
    const at = fieldOffsets(b, start);
    let key = '';
    for (const k of this.keyAt) key += b.toString('latin1', at[k], at[k + 1]);
    return key;
  }

  private sameRow(slot: number, chunk: number, start: number, end: number): boolean {
    const a = this.w.chunks[this.chunkOf[slot]];
    return a.compare(this.w.chunks[chunk], start, end, this.startOf[slot], this.endOf[slot]) === 0;
  }

  private buildSlots(): Map<string, number> {
    const slots = new Map<string, number>();
    for (let i = 0; i < this.n; i++) slots.set(this.keyOf(this.chunkOf[i], this.startOf[i]), i);
    return (this.slots = slots);
  }

  private grow(): void {
    const twice = (a: Int32Array) => {
      const b = new Int32Array(a.length * 2);
      b.set(a);
      return b;
    };
    this.chunkOf = twice(this.chunkOf);
    this.startOf = twice(this.startOf);
    this.endOf = twice(this.endOf);
  }

  private noteMonth(t: number): void {
    if (t >= this.monthFrom && t < this.monthTo) return;
    const d = new Date(t);
    this.monthFrom = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    this.monthTo = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    this.monthSet.add(monthKey(t));
  }

  /**
   * The partition months (see monthKey) that hold rows of this batch, ascending. Only those:
   * one row in 1990 and one in 2024 need two partitions, not the 400 months between.
   */
  months(): number[] {
    return [...this.monthSet].sort((a, b) => a - b);
  }
}
