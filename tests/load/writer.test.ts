import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HeartRateRecord } from '../../src/records/model.js';
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

describe('writeBatch', () => {
  let db: TestDatabase;
  let ctx: WriteContext;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: true });
    const userId = await ensureUser(db.pool, 'writer');
    const { rows } = await db.pool.query(`SELECT gen_random_uuid()::text AS id`);
    ctx = { pool: db.pool, userId, ingestionId: rows[0].id, knownPartitions: new Set(), freshMonths: new Map() };
  });
  afterAll(async () => db?.drop());

  it('COPYs straight into a month that held no rows of the user', async () => {
    const r = await writeBatch(ctx, batchOf([hr(0, 60), hr(1, 61)]));
    expect(r.path).toBe('direct');
    expect(r.counts).toEqual({ read: 2, inserted: 2, updated: 0, unchanged: 0, rejected: 0 });
  });

  it('goes through staging once the month has rows, telling inserted, updated and unchanged apart', async () => {
    const r = await writeBatch({ ...ctx, freshMonths: new Map() }, batchOf([hr(0, 60), hr(1, 65), hr(2, 70)]));
    expect(r.path).toBe('staging');
    expect(r.counts).toEqual({ read: 3, inserted: 1, updated: 1, unchanged: 1, rejected: 0 });
    const { rows } = await db.pool.query(`SELECT avg_bpm FROM heart_rate_metrics ORDER BY recorded_at`);
    expect(rows.map((x) => x.avg_bpm)).toEqual([60, 65, 70]);
  });

  it('a duplicate key from an earlier batch of the same import falls back from the direct path', async () => {
    // The month is still marked fresh (this import wrote it), so the direct COPY is tried first.
    const fresh = new Map(ctx.freshMonths);
    const r = await writeBatch({ ...ctx, freshMonths: fresh }, batchOf([hr(2, 70), hr(3, 71)]));
    expect(r.path).toBe('staging');
    expect(r.counts).toEqual({ read: 2, inserted: 1, updated: 0, unchanged: 1, rejected: 0 });
  });

  it('rows the database refuses are rejected one by one with its reason; the rest are stored', async () => {
    // 900 bpm never passes the mapper; here it reaches the database to test the last line of defence.
    const records = [hr(10, 60), hr(11, 900), hr(12, 62), hr(13, 63), hr(14, 950), hr(15, 65)];
    const r = await writeBatch({ ...ctx, freshMonths: new Map() }, batchOf(records));
    expect(r.counts).toEqual({ read: 6, inserted: 4, updated: 0, unchanged: 0, rejected: 2 });
    expect(r.rejects).toHaveLength(2);
    for (const rej of r.rejects) {
      expect(rej.table).toBe('heart_rate_metrics');
      expect(rej.reason).toMatch(/refused by the database: .*check constraint/);
    }
    expect(r.rejects.map((x) => x.raw?.split('\t')[3])).toEqual(['900', '950']);
  });

  it('resolves the same key twice in one batch in memory: the later value wins', () => {
    const b = batchOf([hr(20, 60), hr(21, 61), hr(20, 60), hr(21, 66)]);
    expect(b.size).toBe(2);
    expect(b.read).toBe(4);
    expect(b.dupUnchanged).toBe(1);
    expect(b.dupUpdated).toBe(1);
    expect(b.lines[1].split('\t')[3]).toBe('66');
    // Same instant, another source: a different key.
    expect(batchOf([hr(20, 60), hr(20, 60, 'Phone')]).size).toBe(2);
  });
});
