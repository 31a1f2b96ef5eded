import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPartitionsAhead,
  dropPartitionsOlderThan,
  ensureMonths,
  listPartitions,
  monthKey,
  monthKeyToDate,
} from '../../src/db/partitions.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

describe('partitions', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: true });
  });
  afterAll(async () => db?.drop());

  it('month keys round-trip through dates, in UTC', () => {
    expect(monthKey(Date.UTC(1970, 0, 1))).toBe(0);
    expect(monthKey(Date.UTC(2024, 1, 29, 23, 59))).toBe(54 * 12 + 1);
    expect(monthKeyToDate(monthKey(Date.UTC(2024, 11, 31, 23, 59, 59)))).toBe('2024-12-01');
  });

  it('creates this month and the next 12 for every table, and a second run creates nothing', async () => {
    const now = new Date(Date.UTC(2026, 10, 25));
    const tables = (await db.pool.query('SELECT count(*)::int AS n FROM healthexport_partitioned_tables')).rows[0].n;
    const created = await createPartitionsAhead(db.pool, { monthsAhead: 12, now });
    expect(created).toBe(tables * 13);
    const parts = await listPartitions(db.pool, 'heart_rate_metrics');
    expect(parts.map((p) => p.month)).toEqual([
      '2026-11', '2026-12', '2027-01', '2027-02', '2027-03', '2027-04', '2027-05',
      '2027-06', '2027-07', '2027-08', '2027-09', '2027-10', '2027-11',
    ]);
    expect(await createPartitionsAhead(db.pool, { monthsAhead: 12, now })).toBe(0);
    expect((await listPartitions(db.pool)).length).toBe(tables * 13);
  });

  it('month bounds are UTC: the last second of a month and the first of the next land apart', async () => {
    await db.pool.query(`SELECT healthexport_create_month_partitions('heart_rate_metrics', '2024-02-01', '2024-03-01')`);
    await db.pool.query(`INSERT INTO heart_rate_metrics (user_id, recorded_at, avg_bpm) VALUES
      (1, '2024-02-29 23:59:59+00', 60), (1, '2024-03-01 00:00:00+00', 61), (1, '2024-02-29 20:00:00-08', 62)`);
    const { rows } = await db.pool.query(
      `SELECT tableoid::regclass::text AS part, avg_bpm FROM heart_rate_metrics WHERE user_id = 1 ORDER BY recorded_at`,
    );
    expect(rows).toEqual([
      { part: 'heart_rate_metrics_p202402', avg_bpm: 60 },
      { part: 'heart_rate_metrics_p202403', avg_bpm: 61 },
      // 20:00 at -08:00 on Feb 29 is 04:00 UTC on March 1.
      { part: 'heart_rate_metrics_p202403', avg_bpm: 62 },
    ]);
  });

  it('ensureMonths creates only missing months and remembers them', async () => {
    const known = new Set<string>();
    const months = [monthKey(Date.UTC(2015, 0, 10)), monthKey(Date.UTC(2015, 1, 10)), monthKey(Date.UTC(2016, 5, 1))];
    expect(await ensureMonths(db.pool, 'activity_metrics', months, known)).toBe(3);
    expect(known.size).toBe(3);
    expect(await ensureMonths(db.pool, 'activity_metrics', months, new Set())).toBe(0);
    const names = (await listPartitions(db.pool, 'activity_metrics')).map((p) => p.month);
    expect(names).toEqual(expect.arrayContaining(['2015-01', '2015-02', '2016-06']));
    expect(names).not.toContain('2015-03');
  });

  it('ensureMonths does not wait for a transaction writing into the same table (an import COPYing)', async () => {
    const writer = await db.pool.connect();
    try {
      await writer.query('BEGIN');
      await writer.query(`INSERT INTO activity_metrics (user_id, metric, recorded_at, qty) VALUES (1, 'x', '2015-01-10', 1)`);
      const blocked = new Promise((r) => setTimeout(() => r('blocked behind the open insert'), 3000));
      expect(await Promise.race([ensureMonths(db.pool, 'activity_metrics', [monthKey(Date.UTC(2017, 2, 1))], new Set()), blocked])).toBe(1);
      const { rows } = await db.pool.query(
        `SELECT count(*)::int AS n FROM pg_indexes WHERE tablename = 'activity_metrics_p201703'`,
      );
      expect(rows[0].n).toBeGreaterThanOrEqual(1); // the primary key, as a partition made by the SQL function has
    } finally {
      await writer.query('ROLLBACK');
      writer.release();
    }
  });

  it('partitions are made under a lock per table: one table waits for its own, not for another table being partitioned', async () => {
    const holder = await db.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT pg_advisory_xact_lock(hashtext('healthexport_partitions:heart_rate_metrics'))`);
      const blocked = (ms: number) => new Promise((r) => setTimeout(() => r('blocked'), ms));
      // Another table's month: made at once (with one lock for all tables it waited here).
      expect(await Promise.race([ensureMonths(db.pool, 'activity_metrics', [monthKey(Date.UTC(2012, 3, 1))], new Set()), blocked(3000)])).toBe(1);
      // The held table: both the importer and the SQL function wait for that table's lock.
      const importer = ensureMonths(db.pool, 'heart_rate_metrics', [monthKey(Date.UTC(2012, 3, 1))], new Set());
      const fn = db.pool.query(`SELECT healthexport_create_month_partitions('heart_rate_metrics', '2012-05-01', '2012-05-01') AS n`);
      expect(await Promise.race([importer, blocked(500)])).toBe('blocked');
      expect(await Promise.race([fn, blocked(500)])).toBe('blocked');
      await holder.query('COMMIT');
      expect(await importer).toBe(1);
      expect((await fn).rows[0].n).toBe(1);
    } finally {
      await holder.query('ROLLBACK').catch(() => {});
      holder.release();
      await db.pool.query('DROP TABLE IF EXISTS activity_metrics_p201204, heart_rate_metrics_p201204, heart_rate_metrics_p201205');
    }
  });

  it('ensureMonths for the same month at once: created once in one run, no "already exists" across runs', async () => {
    const known = new Set<string>();
    const may = [monthKey(Date.UTC(2018, 4, 1))];
    const one = await Promise.all([ensureMonths(db.pool, 'activity_metrics', may, known), ensureMonths(db.pool, 'activity_metrics', may, known)]);
    expect(one[0] + one[1]).toBe(1);
    const july = [monthKey(Date.UTC(2018, 6, 1))];
    const two = await Promise.all([1, 2].map(() => ensureMonths(db.pool, 'activity_metrics', july, new Set())));
    expect(two[0] + two[1]).toBeGreaterThanOrEqual(1);
    const months = (await listPartitions(db.pool, 'activity_metrics')).map((p) => p.month);
    expect(months).toEqual(expect.arrayContaining(['2018-05', '2018-07']));
  });

  it('drops only months before the cutoff', async () => {
    await ensureMonths(db.pool, 'activity_metrics', [monthKey(Date.UTC(2015, 0, 10)), monthKey(Date.UTC(2015, 1, 10))], new Set());
    const dropped = await dropPartitionsOlderThan(db.pool, new Date(Date.UTC(2015, 1, 1)));
    expect(dropped).toEqual(['activity_metrics_p201501']);
    const months = (await listPartitions(db.pool, 'activity_metrics')).map((p) => p.month);
    expect(months).toContain('2015-02');
  });
});
