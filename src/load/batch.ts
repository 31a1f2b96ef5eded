/**
 * Rows for one table on their way to one COPY. The same key twice in a batch would make
 * `INSERT ... ON CONFLICT DO UPDATE` fail ("cannot affect row a second time"), so duplicates are
 * resolved here: the later record wins, and the earlier one counts as unchanged (identical) or
 * updated (different values), exactly as if they had come in separate batches.
 */
import { monthKey } from '../db/partitions.js';
import type { HealthRecord } from '../records/model.js';
import { keyPositions, type TableSpec } from './tables.js';

export class TableBatch {
  readonly lines: string[] = [];
  private readonly keyAt: number[];
  /** Key -> line index; built only once a record is not later than every record before it. */
  private slots: Map<string, number> | null = null;
  bytes = 0;
  minTime = Infinity;
  maxTime = -Infinity;
  /** Records read into this batch, including the duplicates resolved in memory. */
  read = 0;
  dupUnchanged = 0;
  dupUpdated = 0;
  /** Partition months holding at least one row (see monthKey). */
  private readonly monthSet = new Set<number>();
  /** [start, end) of the last month added, in epoch ms: most records fall in the previous one's. */
  private monthFrom = Infinity;
  private monthTo = -Infinity;

  constructor(readonly spec: TableSpec) {
    this.keyAt = keyPositions(spec);
  }

  /** A row's key, recovered from its line (only needed on the rare out-of-order path). */
  private keyOf(line: string): string {
    const fields = line.split('\t');
    return this.keyAt.map((i) => fields[i]).join('\t');
  }

  add(record: HealthRecord): void {
    const line = this.spec.render(record);
    const t = this.spec.time(record);
    this.read++;
    // Keys contain the time: a record later than all before it cannot repeat one of them, and
    // exports are mostly in time order, so the map is usually never needed.
    if (t <= this.maxTime) {
      const slots = this.slots ?? this.buildSlots();
      const key = this.keyOf(line);
      const slot = slots.get(key);
      if (slot !== undefined) {
        if (this.lines[slot] === line) this.dupUnchanged++;
        else {
          this.dupUpdated++;
          this.bytes += line.length - this.lines[slot].length;
          this.lines[slot] = line;
        }
        return;
      }
      slots.set(key, this.lines.length);
    } else {
      this.slots?.set(this.keyOf(line), this.lines.length);
      this.maxTime = t;
    }
    this.lines.push(line);
    this.noteMonth(t);
    this.bytes += line.length + 40;
    if (t < this.minTime) this.minTime = t;
  }

  private buildSlots(): Map<string, number> {
    const slots = new Map<string, number>();
    this.lines.forEach((line, i) => slots.set(this.keyOf(line), i));
    return (this.slots = slots);
  }

  get size(): number {
    return this.lines.length;
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
