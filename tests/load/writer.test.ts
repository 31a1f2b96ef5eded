/**
 * writeBatch and TableBatch against a real PostgreSQL. Every test writes as its own user (months
 * "fresh" for one user are not for another), so each runs alone. Outcome data is asymmetric:
 * the counts of inserted, updated, unchanged and rejected differ in every case, so a swap of
 * any two of them fails a test.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { HeartRateRecord, QuantityRecord } from '../../src/records/model.js';
import { TableBatch } from '../../src/load/batch.js';
import { TABLES } from '../../src/load/tables.js';
import { writeBatch, type WriteContext } from '../../src/load/writer.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { ensureUser } from '../../src/db/users.js';

const hr = (minute: number, avg: number, source = 'Watch'): HeartRateRecord => ({
  kind: 'heart_rate',
  time: Date.UTC(2024, 0, 10, 12, minute),
  source,
  unit: 'count/min',
  min: null,
  avg,
  max: null,
  extra: null,
});

function batchOf(records: HeartRateRecord[]): TableBatch {
  const b = new TableBatch(TABLES.heart_rate);
  for (const r of records) b.add(r);
  return b;
}

/** minutes [from, from+n) with avg = base + minute */
const run = (from: number, n: number, base = 60) => Array.from({ length: n }, (_, i) => hr(from + i, base + from + i));

describe('writeBatch', () => {
  let db: TestDatabase;
  let ctx: WriteContext;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: true });
  });
  beforeEach(async () => {
    const userId = await ensureUser(db.pool, `writer-${randomBytes(4).toString('hex')}`);
    const { rows } = await db.pool.query(`SELECT gen_random_uuid()::text AS id`);
    ctx = { pool: db.pool, userId, ingestionId: rows[0].id, knownPartitions: new Set(), freshMonths: new Map(), asOf: Date.now() };
  });
  afterAll(async () => db?.drop());

  const stored = async () =>
    (await db.pool.query(`SELECT extract(minute FROM recorded_at)::int AS m, avg_bpm FROM heart_rate_metrics WHERE user_id = $1 ORDER BY 1`, [ctx.userId]))
      .rows.map((r) => [r.m, r.avg_bpm]);

  it('COPYs straight into a month that held no rows of the user', async () => {
    const r = await writeBatch(ctx, batchOf(run(0, 4)));
    expect(r.path).toBe('direct');
    expect(r.counts).toEqual({ read: 4, inserted: 4, updated: 0, unchanged: 0, rejected: 0 });
    expect(await stored()).toEqual([[0, 60], [1, 61], [2, 62], [3, 63]]);
  });

  it('goes through staging once the month has rows: 4 inserted, 3 updated, 2 unchanged, 1 rejected', async () => {
    await writeBatch(ctx, batchOf(run(0, 6))); // minutes 0..5 stored, avg 60..65
    const batch = [
      ...run(10, 4), // new
      hr(0, 90), hr(1, 91), hr(2, 92), // new values
      hr(3, 63), hr(4, 64), // same values
      hr(20, 900), // refused by the CHECK constraint (the mapper would have caught it)
    ];
    const r = await writeBatch({ ...ctx, freshMonths: new Map() }, batchOf(batch));
    expect(r.path).toBe('staging');
    expect(r.counts).toEqual({ read: 10, inserted: 4, updated: 3, unchanged: 2, rejected: 1 });
    expect(await stored()).toEqual([[0, 90], [1, 91], [2, 92], [3, 63], [4, 64], [5, 65], [10, 70], [11, 71], [12, 72], [13, 73]]);
  });

  it('a duplicate key from an earlier batch of the same import falls back from the direct path', async () => {
    await writeBatch(ctx, batchOf(run(0, 5)));
    // The month is still marked fresh (this import wrote it), so the direct COPY is tried first.
    const batch = [hr(0, 80), hr(1, 81), hr(2, 82), hr(3, 63), hr(4, 64), ...run(6, 4)];
    const r = await writeBatch(ctx, batchOf(batch));
    expect(r.path).toBe('staging');
    expect(r.counts).toEqual({ read: 9, inserted: 4, updated: 3, unchanged: 2, rejected: 0 });
    expect(await stored()).toEqual([[0, 80], [1, 81], [2, 82], [3, 63], [4, 64], [6, 66], [7, 67], [8, 68], [9, 69]]);
  });

  it('asks whether the user has rows in a month only when its partition was there before the batch', async () => {
    // Every query the writer sends through the pool, on the real database.
    const sent: string[] = [];
    const pool = new Proxy(db.pool, {
      get(target, key) {
        const v = Reflect.get(target, key, target) as unknown;
        if (key === 'query') {
          return (...a: unknown[]) => {
            sent.push(typeof a[0] === 'string' ? a[0] : String((a[0] as { text?: string }).text));
            return (v as (...x: unknown[]) => unknown).apply(target, a);
          };
        }
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const at = (y: number, m: number) => ({ ...hr(0, 70), time: Date.UTC(y, m, 5, 8) });
    const probes = () => sent.filter((q) => /EXISTS \(SELECT 1 FROM heart_rate_metrics_p/.test(q)).length;
    // July 2009: no partition yet, made by this batch, written at once.
    const made = await writeBatch({ ...ctx, pool }, batchOf([at(2009, 6)]));
    expect(made.path).toBe('direct');
    expect(probes()).toBe(0);
    // Another user's run, whose partition set does not know it: the partition exists, so it asks.
    const userId = await ensureUser(db.pool, `writer-${randomBytes(4).toString('hex')}`);
    const other = await writeBatch({ ...ctx, pool, userId, knownPartitions: new Set(), freshMonths: new Map() }, batchOf([at(2009, 6)]));
    expect(other.path).toBe('direct'); // that user had no rows there
    expect(probes()).toBe(1);
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM heart_rate_metrics_p200907`);
    expect(rows[0].n).toBe(2);
  });

  it('rows the database refuses are rejected one by one with its reason; the rest are stored', async () => {
    // 900 bpm never passes the mapper; here it reaches the database to test the last line of defence.
    const records = [hr(10, 60), hr(11, 900), hr(12, 62), hr(13, 63), hr(14, 950), hr(15, 65), hr(16, 66)];
    const r = await writeBatch(ctx, batchOf(records));
    expect(r.counts).toEqual({ read: 7, inserted: 5, updated: 0, unchanged: 0, rejected: 2 });
    expect(r.rejects).toHaveLength(2);
    for (const rej of r.rejects) {
      expect(rej.table).toBe('heart_rate_metrics');
      expect(rej.reason).toMatch(/refused by the database: .*check constraint/);
    }
    expect(r.rejects.map((x) => x.raw?.split('\t')[3])).toEqual(['900', '950']);
    expect((await stored()).map(([m]) => m)).toEqual([10, 12, 13, 15, 16]);
  });

  it('the same key repeated inside one batch: 4 inserted, 3 updated, 2 unchanged, 1 rejected', async () => {
    const records = [
      ...run(0, 4),
      hr(0, 70), hr(1, 71), hr(2, 72), // repeats with new values: updated, the later value wins
      hr(3, 63), hr(1, 71), // repeats with the same values: unchanged
      hr(5, 900),
    ];
    const b = batchOf(records);
    expect({ size: b.size, read: b.read, dupUpdated: b.dupUpdated, dupUnchanged: b.dupUnchanged }).toEqual({
      size: 5,
      read: 10,
      dupUpdated: 3,
      dupUnchanged: 2,
    });
    const r = await writeBatch(ctx, b);
    expect(r.counts).toEqual({ read: 10, inserted: 4, updated: 3, unchanged: 2, rejected: 1 });
    expect(await stored()).toEqual([[0, 70], [1, 71], [2, 72], [3, 63]]);
  });
});

describe('TableBatch', () => {
  it('resolves the same key twice in one batch in memory: the later value wins', () => {
    const b = batchOf([hr(20, 60), hr(21, 61), hr(20, 60), hr(21, 66), hr(22, 62), hr(21, 67), hr(22, 62), hr(20, 60)]);
    expect(b.size).toBe(3);
    expect(b.read).toBe(8);
    expect(b.dupUnchanged).toBe(3);
    expect(b.dupUpdated).toBe(2);
    expect([0, 1, 2].map((i) => b.rows.rowText(i).split('\t')[3])).toEqual(['60', '67', '62']);
    // Same instant, another source: a different key.
    expect(batchOf([hr(20, 60), hr(20, 60, 'Phone')]).size).toBe(2);
    expect(b.months()).toHaveLength(1);
  });

  it('finds a repeated key after its series comes back: metric by metric, each in time order', () => {
    // An export writes one metric's samples, then the next one's from its start again (spec.series:
    // the metric). Going back in time to a new metric repeats no key; coming back to the first
    // one does, and must be resolved like any other duplicate.
    const q = (metric: string, minute: number, qty: number): QuantityRecord => ({
      kind: 'quantity', metric, unit: 'count', time: Date.UTC(2024, 0, 10, 12, minute), endTime: null, source: 'Watch', qty, text: null, extra: null,
    });
    const b = new TableBatch(TABLES.quantity);
    const records = [q('steps', 1, 10), q('steps', 2, 20), q('flights', 1, 1), q('flights', 2, 2), q('steps', 2, 25), q('flights', 1, 1), q('steps', 3, 30)];
    for (const r of records) expect(b.add(r)).toBeNull();
    expect({ size: b.size, read: b.read, dupUpdated: b.dupUpdated, dupUnchanged: b.dupUnchanged }).toEqual({
      size: 5,
      read: 7,
      dupUpdated: 1,
      dupUnchanged: 1,
    });
    expect([...Array(b.size).keys()].map((i) => b.rows.rowText(i).split('\t').slice(0, 4).join(' '))).toEqual([
      'steps 2024-01-10T12:01:00.000Z Watch 10',
      'steps 2024-01-10T12:02:00.000Z Watch 25',
      'flights 2024-01-10T12:01:00.000Z Watch 1',
      'flights 2024-01-10T12:02:00.000Z Watch 2',
      'steps 2024-01-10T12:03:00.000Z Watch 30',
    ]);
  });
});
