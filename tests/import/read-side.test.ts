/**
 * The reading half of an import on its own (no database: the sink records what it is handed).
 * What it must do whatever the writing half is: hand every record over exactly once, in batches
 * of at most batchRows, wait for the sink before building more, hand the last partial batches
 * over after the input broke but not after a stop, and say how reading ended.
 */
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import type { TableBatch } from '../../src/load/batch.js';
import type { Reject } from '../../src/load/rejects.js';
import { ReadSide, SinkFailure, type BatchSink, type StopReason } from '../../src/import/read-side.js';
import type { HeartRateRecord } from '../../src/records/model.js';
import type { ReaderBatch, RecordReader } from '../../src/records/reader.js';

const hr = (minute: number): HeartRateRecord => ({
  kind: 'heart_rate',
  time: Date.UTC(2024, 0, 10, 12, minute),
  source: 'Watch',
  unit: 'count/min',
  min: null,
  avg: 60 + (minute % 50),
  max: null,
  extra: null,
});

/** A reader of `batches` reader batches of `per` heart-rate records, then `end` (thrown when an error). */
function reader(batches: number, per: number, end?: Error, onBatch?: (i: number) => void): RecordReader {
  async function* gen(): AsyncGenerator<ReaderBatch> {
    for (let i = 0; i < batches; i++) {
      onBatch?.(i);
      yield { records: Array.from({ length: per }, (_, k) => hr(i * per + k)), rejects: [], checked: true };
    }
    if (end) throw end;
  }
  return { batches: gen(), stats: { metrics: new Map([['heart_rate', true]]), unknownKeys: [] } };
}

class RecordingSink implements BatchSink {
  batches: TableBatch[] = [];
  rejected: Reject[] = [];
  stop: StopReason | null = null;
  /** While set, batch() waits for it (the writer has no room). */
  gate: Promise<void> | null = null;
  async exportDate(): Promise<void> {}
  async workoutsToSkip(): Promise<string[]> {
    return [];
  }
  async batch(b: TableBatch): Promise<void> {
    this.batches.push(b);
    if (this.gate) await this.gate;
  }
  async rejects(list: Reject[]): Promise<void> {
    this.rejected.push(...list);
  }
  unchangedOlder(): void {}
  progress(): void {}
  stopped(): StopReason | null {
    return this.stop;
  }
  get rows(): number {
    return this.batches.reduce((n, b) => n + b.read, 0);
  }
}

describe('ReadSide', () => {
  it('hands every record over once, in batches of at most batchRows, the last partial one at the end', async () => {
    const sink = new RecordingSink();
    const end = await new ReadSide({ batchRows: 300 }, sink).readAll(reader(5, 130));
    expect(end.failure).toBeNull();
    expect(sink.batches.map((b) => b.read)).toEqual([300, 300, 50]);
    expect(sink.batches.map((b) => b.rows.length)).toEqual([300, 300, 50]);
    expect(end.metrics).toEqual([['heart_rate', true]]);
    expect(end.newest).toEqual([['heart_rate', hr(649).time]]);
  });

  it('builds no more rows while the sink has no room', async () => {
    const sink = new RecordingSink();
    let open!: () => void;
    sink.gate = new Promise((resolve) => (open = resolve));
    let readerAt = -1;
    const reading = new ReadSide({ batchRows: 100 }, sink).readAll(reader(10, 100, undefined, (i) => (readerAt = i)));
    await new Promise((resolve) => setTimeout(resolve, 50));
    // The first full batch is waiting in the sink: the reader was not asked for a second one.
    expect(sink.batches).toHaveLength(1);
    expect(readerAt).toBe(0);
    sink.gate = null;
    open();
    const end = await reading;
    expect(end.failure).toBeNull();
    expect(sink.rows).toBe(1000);
  });

  it('after the input breaks, hands over what was read before the break and names where', async () => {
    const sink = new RecordingSink();
    const end = await new ReadSide({ batchRows: 300 }, sink).readAll(reader(3, 130, new InputError('truncated', { offset: 4321 })));
    expect(end.failure).toEqual({ kind: 'input', message: 'truncated', offset: 4321 });
    expect(sink.rows).toBe(390);
  });

  it('after a stop, hands nothing more over and ends interrupted', async () => {
    const sink = new RecordingSink();
    const side = new ReadSide({ batchRows: 300 }, sink);
    const end = await side.readAll(reader(5, 130, undefined, (i) => i === 3 && (sink.stop = 'interrupted')));
    expect(end.failure?.kind).toBe('interrupted');
    // The first 300 rows filled during the third reader batch; the stop came while the fourth
    // was read: nothing after it went, not even the partial batch.
    expect(sink.rows).toBe(300);
  });

  it("a sink's own failure (the database) ends the read with it, not as an input failure", async () => {
    const sink = new RecordingSink();
    sink.batch = async () => {
      throw new SinkFailure({ kind: 'database', message: 'database unavailable: gone', offset: null });
    };
    const end = await new ReadSide({ batchRows: 100 }, sink).readAll(reader(3, 130));
    expect(end.failure).toEqual({ kind: 'database', message: 'database unavailable: gone', offset: null });
  });
});
