/**
 * Rollups against real PostgreSQL: what the importer keeps batch by batch equals what a rebuild
 * computes from the rows, after imports, updates, re-imports and rejected records; overlapping
 * devices count once; days come out right in half-hour and 45-minute zones.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dailyStats } from '../../src/cache/summary-sql.js';
import { userIdByName } from '../../src/db/users.js';
import { importSource } from '../../src/import/run-import.js';
import { resolveInputs } from '../../src/input/open-input.js';
import { addZone, rebuildRollups, setSourcePriority } from '../../src/rollups/rebuild.js';
import { refreshSql } from '../../src/rollups/refresh.js';
import { addQuarterRows, type SourceRankCache } from '../../src/rollups/add-quarters.js';
import { aggregateRows, spansOfQuarters, type QuarterRows } from '../../src/rollups/aggregate.js';
import { TableBatch } from '../../src/load/batch.js';
import { TABLES } from '../../src/load/tables.js';
import type { HealthRecord } from '../../src/records/model.js';
import { rollupInput } from '../../src/rollups/inputs.js';
import { quartersOfCopy } from '../../src/rollups/maintain.js';
import { mergeSpans } from '../../src/rollups/spans.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { rollupSnapshot } from '../support/rollups.js';
import { hae, stringSource, exampleAsOf } from '../support/inputs.js';

const EXAMPLES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples');

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase({ migrate: true });
});
afterAll(async () => {
  await db?.drop();
});

async function importFile(file: string, user: string, batchRows = 25_000) {
  const [src] = await resolveInputs([path.join(EXAMPLES, file)]);
  return importSource(src, { pool: db.pool, user, batchRows, asOf: exampleAsOf(file) });
}

const snapshot = (userId: number) => rollupSnapshot(db.pool, userId);

/** step_count quarter rows at quarters `quarters` (15 minutes apart from t0) of one source. */
function stepQuarters(
  t0: number,
  quarters: number[],
  o: { source?: string; samples?: number; total?: (k: number) => number; low?: number; high?: number } = {},
): QuarterRows {
  return {
    metric: quarters.map(() => 'step_count'),
    bucket: quarters.map((k) => t0 + k * 900_000),
    source: quarters.map(() => o.source ?? 'Watch'),
    unit: quarters.map(() => 'count'),
    samples: quarters.map(() => o.samples ?? 1),
    total: quarters.map((k) => (o.total ? o.total(k) : 1)),
    low: quarters.map(() => o.low ?? 1),
    high: quarters.map(() => o.high ?? 1),
  };
}

/** Adds quarter rows in a transaction of their own, as a direct batch's writer does. */
async function addInTransaction(userId: number, rows: QuarterRows, cache: SourceRankCache = new Map()): Promise<void> {
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    await addQuarterRows(client, userId, rows, cache);
    await client.query('COMMIT');
  } finally {
    client.release();
  }
}

describe('kept by every import', () => {
  it('equals a rebuild after imports, an update, re-imports, rejects and small batches', async () => {
    await importFile('sample-export.json', 'seq', 7); // many small batches: spans meet at their edges
    const userId = (await userIdByName(db.pool, 'seq'))!;
    await addZone(db.pool, userId, 'Asia/Kathmandu'); // +05:45, kept from here on
    const later = await importFile('sample-export-later.json', 'seq'); // inserts and one update (09:00 steps 212 -> 655)
    expect(later.tables.activity_metrics.updated).toBe(1);
    // The older file changes nothing: its 09:00 value (212) is older than the stored one (655).
    const older = await importFile('sample-export.json', 'seq');
    expect([older.totals.inserted, older.totals.updated, older.unchangedOlder.activity_metrics]).toEqual([0, 0, 1]);
    const again = await importFile('sample-export.json', 'seq'); // changes nothing
    expect(again.totals.inserted + again.totals.updated).toBe(0);
    const bad = await importFile('bad-records.json', 'seq', 3); // rejected rows roll back with their half-batches
    expect(bad.totals.rejected).toBeGreaterThan(0);
    await importFile('sleep-unaggregated.json', 'seq');

    const incremental = await snapshot(userId);
    expect(incremental.quarters.length).toBeGreaterThan(200);
    expect(new Set(incremental.days.map((d) => d.tz))).toEqual(new Set(['UTC', 'Asia/Kathmandu']));
    const steps = incremental.days.filter((d) => d.metric === 'step_count' && d.tz === 'UTC');
    expect(steps.map((d) => Number(d.total)).reduce((a, b) => a + b)).toBeGreaterThan(0);

    await rebuildRollups(db.pool, userId);
    expect(await snapshot(userId)).toEqual(incremental);
  });

  it('an update moves the rollup; the same file again leaves it as it was', async () => {
    await importFile('sample-export.json', 'upd');
    const userId = (await userIdByName(db.pool, 'upd'))!;
    const dayOf = async () =>
      (await db.pool.query(
        `SELECT total FROM rollup_days WHERE user_id = $1 AND tz = 'UTC' AND metric = 'step_count' AND day = '2024-03-11'`,
        [userId],
      )).rows[0].total as number;
    const before = await dayOf();
    await importFile('sample-export-later.json', 'upd');
    const after = await dayOf();
    // The later export completes 09:00 (212 -> 655) and adds 10:00-12:00 (still 2024-03-11 in UTC until 17:00 PDT).
    const added = await db.pool.query(
      `SELECT sum(qty) AS s FROM activity_metrics WHERE user_id = $1 AND metric = 'step_count'
       AND recorded_at >= '2024-03-11T00:00Z' AND recorded_at < '2024-03-12T00:00Z'`,
      [userId],
    );
    expect(after).toBe(Number(added.rows[0].s));
    expect(after - before).toBeGreaterThanOrEqual(655 - 212);
    await importFile('sample-export-later.json', 'upd');
    expect(await dayOf()).toBe(after);
  });

  it('count an Apple blood-pressure reading once, though the export lists its samples twice', async () => {
    // export.xml has each reading as a <Correlation> (blood_pressure_metrics) and its systolic
    // and diastolic samples again as top-level <Record>s (activity_metrics).
    const s = await importFile('apple/export.zip', 'bp');
    expect(s.status).toBe('ok');
    const userId = (await userIdByName(db.pool, 'bp'))!;
    const twice = await db.pool.query(
      `SELECT (SELECT count(*)::int FROM blood_pressure_metrics WHERE user_id = $1) AS readings,
              (SELECT count(*)::int FROM activity_metrics WHERE user_id = $1 AND metric = 'blood_pressure_systolic') AS records`,
      [userId],
    );
    expect(twice.rows[0].readings).toBeGreaterThan(0);
    expect(twice.rows[0].records).toBeGreaterThan(0);
    const counted = await db.pool.query(
      `SELECT metric, sum(samples)::int AS n FROM rollup_days WHERE user_id = $1 AND tz = 'UTC' AND metric LIKE 'blood_pressure%' GROUP BY 1 ORDER BY 1`,
      [userId],
    );
    expect(counted.rows).toEqual([
      { metric: 'blood_pressure_diastolic', n: twice.rows[0].readings },
      { metric: 'blood_pressure_systolic', n: twice.rows[0].readings },
    ]);
    const incremental = await snapshot(userId);
    await rebuildRollups(db.pool, userId);
    expect(await snapshot(userId)).toEqual(incremental);
  });

  it('an update that changes a unit leaves that day no row of the old unit', async () => {
    const weights = (unit: string, kg: number[]) =>
      hae({
        metrics: [
          {
            name: 'weight_body_mass',
            units: unit,
            data: [
              { date: '2024-06-01 07:00:00 +0000', qty: kg[0], source: 'Scale' },
              { date: '2024-06-01 19:00:00 +0000', qty: kg[1], source: 'Scale' },
              { date: '2024-06-02 07:00:00 +0000', qty: kg[2], source: 'Scale' },
            ],
          },
        ],
      });
    await importSource(stringSource(weights('kg', [70, 71, 72])), { pool: db.pool, user: 'units', asOf: Date.parse('2024-06-03T00:00Z') });
    const userId = (await userIdByName(db.pool, 'units'))!;
    // The phone switched to pounds; a newer export gives the same samples in lb.
    const later = await importSource(stringSource(weights('lb', [154, 156, 158])), { pool: db.pool, user: 'units', asOf: Date.parse('2024-06-04T00:00Z') });
    expect(later.tables.activity_metrics.updated).toBe(3);
    const days = await db.pool.query(
      `SELECT day::text, unit, samples, total FROM rollup_days WHERE user_id = $1 AND tz = 'UTC' ORDER BY day, unit`,
      [userId],
    );
    expect(days.rows).toEqual([
      { day: '2024-06-01', unit: 'lb', samples: 2, total: 310 },
      { day: '2024-06-02', unit: 'lb', samples: 1, total: 158 },
    ]);
    const incremental = await snapshot(userId);
    await rebuildRollups(db.pool, userId);
    expect(await snapshot(userId)).toEqual(incremental);
  });
});

describe('devices that overlap', () => {
  const watch = 'Jane’s Apple Watch';
  const phone = 'Jane’s iPhone';
  const file = hae({
    metrics: [
      {
        name: 'step_count',
        units: 'count',
        data: [
          // 10:00-10:15 both devices counted the same walk; 14:00 the watch was off.
          { date: '2024-05-01 10:00:00 +0000', qty: 1000, source: phone },
          { date: '2024-05-01 10:05:00 +0000', qty: 900, source: watch },
          { date: '2024-05-01 14:00:00 +0000', qty: 300, source: phone },
          { date: '2024-05-01 15:00:00 +0000', qty: 50, source: 'Pedometer++' },
        ],
      },
      {
        name: 'heart_rate',
        units: 'count/min',
        data: [
          { date: '2024-05-01 10:00:00 +0000', Min: 60, Avg: 70, Max: 80, source: watch },
          { date: '2024-05-01 10:00:00 +0000', Min: 90, Avg: 100, Max: 110, source: 'Polar H10' },
        ],
      },
    ],
  });

  it('an iPhone and a Watch counting the same 15 minutes count once (the Watch); heart rate uses both', async () => {
    await importSource(stringSource(file), { pool: db.pool, user: 'pair' });
    const userId = (await userIdByName(db.pool, 'pair'))!;
    const now = new Date('2024-05-01T20:00:00Z');
    const steps = await dailyStats(db.pool, userId, 'step_count', 1, now);
    expect(steps.rows).toEqual([{ day: '2024-05-01', unit: 'count', count: 3, min: 50, avg: 1250 / 3, max: 900, sum: 1250 }]);
    const hr = await dailyStats(db.pool, userId, 'heart_rate', 1, now);
    expect(hr.rows[0]).toMatchObject({ count: 2, min: 60, avg: 85, max: 110 });

    // The user prefers the phone: the shared quarter now counts the phone's 1000.
    expect(await setSourcePriority(db.pool, userId, ['iPhone', 'Watch'])).toBeGreaterThan(0);
    expect((await dailyStats(db.pool, userId, 'step_count', 1, now)).rows[0].sum).toBe(1350);
    // A zone not kept is answered from the quarters, with the same rule.
    expect((await dailyStats(db.pool, userId, 'step_count', 1, now, 'Europe/Paris')).rows[0].sum).toBe(1350);
    await setSourcePriority(db.pool, userId, null);
    expect((await dailyStats(db.pool, userId, 'step_count', 1, now)).rows[0].sum).toBe(1250);
  });
});

describe('days in any zone', () => {
  it('split at local midnight in +05:30 and +05:45 zones, kept or not', async () => {
    // 18:29 and 18:31 UTC fall on two days in India (midnight is 18:30 UTC), one day in UTC.
    const text = hae({
      metrics: [
        {
          name: 'step_count',
          units: 'count',
          data: [
            { date: '2024-05-01 18:10:00 +0000', qty: 5, source: 'iPhone' },
            { date: '2024-05-01 18:29:00 +0000', qty: 10, source: 'iPhone' },
            { date: '2024-05-01 18:31:00 +0000', qty: 20, source: 'iPhone' },
          ],
        },
      ],
    });
    await importSource(stringSource(text), { pool: db.pool, user: 'india' });
    const userId = (await userIdByName(db.pool, 'india'))!;
    const now = new Date('2024-05-02T12:00:00Z');
    const days = async (tz: string) => (await dailyStats(db.pool, userId, 'step_count', 2, now, tz)).rows.map((r) => [r.day, r.sum]);
    expect(await days('UTC')).toEqual([['2024-05-01', 35]]);
    expect(await days('Asia/Kolkata')).toEqual([['2024-05-01', 15], ['2024-05-02', 20]]);
    // Kathmandu's midnight is 18:15 UTC.
    expect(await days('Asia/Kathmandu')).toEqual([['2024-05-01', 5], ['2024-05-02', 30]]);
    await addZone(db.pool, userId, 'Asia/Kolkata');
    expect(await days('Asia/Kolkata')).toEqual([['2024-05-01', 15], ['2024-05-02', 20]]);
  });

  it('15-minute buckets suffice: every local midnight of every zone PostgreSQL knows falls on one since 1980', async () => {
    // Sampled on the 1st of every month: an offset in force for a season shows on some 1st.
    const { rows } = await db.pool.query(
      `SELECT name, min(d) AS first
       FROM pg_timezone_names, generate_series('1980-01-01'::date, '2040-12-01'::date, interval '1 month') d
       WHERE name !~ '^(posix|right)/' AND extract(epoch FROM d::timestamp AT TIME ZONE name)::bigint % 900 <> 0
       GROUP BY name`,
    );
    const zones = await db.pool.query(`SELECT count(*)::int AS n FROM pg_timezone_names WHERE name !~ '^(posix|right)/'`);
    expect(zones.rows[0].n).toBeGreaterThan(300);
    expect(rows).toEqual([]);
  });
});

describe('the cost of keeping days', () => {
  it('follows the days a batch touches, not the user\'s history, while rollup_days has no statistics of it', async () => {
    const user = await db.pool.query(`INSERT INTO users (name) VALUES ('history') RETURNING id`);
    const userId = Number(user.rows[0].id);
    const client = await db.pool.connect();
    try {
      // In one transaction: autovacuum cannot analyze rows nobody else sees, as during a first import.
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO rollup_days (user_id, tz, metric, starts_at, unit, day, samples, total, low, high)
         SELECT $1, 'UTC', 'step_count', d, 'count', d::date, 1, 1, 1, 1
         FROM generate_series('2010-01-01'::timestamptz, '2023-12-31', interval '1 day') d`,
        [userId],
      );
      const input = rollupInput('activity_metrics')!;
      const [lo, hi] = ['2020-03-01T00:00:00.000Z', '2020-03-03T00:00:00.000Z'];
      const sql = refreshSql(input, { lo, hi });
      const { rows } = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql.days}`, [userId, ['step_count'], [lo], [hi]]);
      // Rows of rollup_days that any scan read: the touched days' (no quarters there: both go).
      let read = 0;
      const walk = (n: Record<string, unknown>) => {
        if (n['Relation Name'] === 'rollup_days' && /Scan/.test(String(n['Node Type'])) && n['Node Type'] !== 'Tid Scan') {
          read += Number(n['Actual Rows']) * Number(n['Actual Loops']);
        }
        for (const c of (n.Plans as Record<string, unknown>[] | undefined) ?? []) walk(c);
      };
      walk(rows[0]['QUERY PLAN'][0].Plan);
      expect(read).toBe(2);
      const left = await client.query(`SELECT count(*)::int AS n FROM rollup_days WHERE user_id = $1`, [userId]);
      expect(left.rows[0].n).toBe(5113 - 2);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });
});

describe('a batch aggregated before it is sent', () => {
  const at = (iso: string) => Date.parse(iso);
  const qty = (metric: string, time: string, value: number | null, unit: string | null, text: string | null = null): HealthRecord => ({
    kind: 'quantity', metric, unit, time: at(time), endTime: null, source: 'Watch', qty: value, text, extra: null,
  });
  const batchOf = (records: HealthRecord[]) => {
    const b = new TableBatch(TABLES[records[0].kind]);
    for (const r of records) expect(b.add(r)).toBeNull();
    return b.rows;
  };

  it('groups the binary rows per metric, quarter, source and unit; real columns as stored', () => {
    const q = aggregateRows(
      batchOf([
        qty('step_count', '2024-05-01T10:07:00Z', 10, 'count'),
        qty('step_count', '2024-05-01T10:14:59.999Z', 30, 'count'),
        qty('step_count', '2024-05-01T10:15:00Z', 5, 'count'),
        qty('odd\tname', '2024-05-01T10:00:00Z', 1, null),
        qty('headache', '2024-05-01T10:00:00Z', null, null, 'Mild'), // text only: not rolled up
        qty('step_count', '1999-12-31T23:59:00Z', 7, 'count'), // before PostgreSQL's epoch
      ]),
      rollupInput('activity_metrics')!,
    );
    expect(q.metric).toEqual(['step_count', 'step_count', 'odd\tname', 'step_count']);
    expect(q.bucket.map((b) => new Date(b).toISOString())).toEqual([
      '2024-05-01T10:00:00.000Z', '2024-05-01T10:15:00.000Z', '2024-05-01T10:00:00.000Z', '1999-12-31T23:45:00.000Z',
    ]);
    expect([q.samples, q.total, q.low, q.high, q.unit]).toEqual([[2, 1, 1, 1], [40, 5, 1, 7], [10, 5, 1, 7], [30, 5, 1, 7], ['count', 'count', '', 'count']]);
    const hr = aggregateRows(
      batchOf([{ kind: 'heart_rate', time: at('2024-05-01T10:00:00Z'), source: 'Watch', unit: 'count/min', min: null, avg: 70.3, max: 88, extra: null }]),
      rollupInput('heart_rate_metrics')!,
    );
    expect([hr.total[0], hr.low[0], hr.high[0]]).toEqual([Math.fround(70.3), Math.fround(70.3), 88]);
    expect(spansOfQuarters(q, true)).toEqual({
      series: ['odd\tname', 'step_count'],
      lo: [Date.parse('2024-05-01T10:00:00Z'), Date.parse('1999-12-31T23:45:00Z')],
      hi: [Date.parse('2024-05-01T10:15:00Z'), Date.parse('2024-05-01T10:30:00Z')],
    });
    expect(mergeSpans([
      { series: 'a', lo: 0, hi: 900_000 },
      { series: 'a', lo: 900_000, hi: 1_800_000 },
      { series: 'a', lo: 3_600_000, hi: 4_500_000 },
    ])).toEqual({ series: ['a', 'a'], lo: [0, 3_600_000], hi: [1_800_000, 4_500_000] });
  });

  it('kept as records are added: the same quarters as read back from the rows, also after a row was replaced', () => {
    const t0 = at('2024-05-01T10:00:00Z');
    const kinds: HealthRecord[][] = [
      [
        ...[0, 1, 2, 3, 20, 21, 40].map((m, i) => qty('step_count', new Date(t0 + m * 60_000).toISOString(), 10 + i, 'count')),
        qty('heart_rate', '2024-05-01T10:00:00Z', 60, 'count/min'), // the heart-rate table's metric: skipped
        qty('headache', '2024-05-01T10:00:00Z', null, null, 'Mild'),
        { ...qty('step_count', '2024-05-01T10:00:00Z', 3, 'count'), time: t0 + 15 * 60_000 - 0.0004 } as HealthRecord, // stored as 10:15:00
        { ...qty('distance', '2024-05-01T10:01:00Z', 0.25, null), source: 'Phone' } as HealthRecord,
        qty('step_count', '2024-05-01T10:05:00Z', 4, 'count'), // back to a quarter summed before
      ],
      [0, 1, 2, 17, 33].map((m): HealthRecord => ({
        kind: 'heart_rate', time: t0 + m * 60_000, source: 'Watch', unit: 'count/min', min: m === 1 ? null : 60.1, avg: 70.3 + m, max: m === 2 ? null : 99.7, extra: null,
      })),
      [0, 30].map((m): HealthRecord => ({ kind: 'blood_pressure', time: t0 + m * 60_000, source: 'Cuff', unit: 'mmHg', systolic: 120.1, diastolic: 80.3, extra: null })),
      [null, 7.3].map((total, i): HealthRecord => ({
        kind: 'sleep_night', time: t0 + i * 86_400_000, source: 'Watch', unit: 'hr', totalSleep: total, core: null, deep: null, rem: null,
        awake: null, inBed: null, asleep: null, sleepStart: null, sleepEnd: null, inBedStart: null, inBedEnd: null, extra: null,
      })),
    ];
    for (const records of kinds) {
      const input = rollupInput(TABLES[records[0].kind].table)!;
      for (const replace of [false, true]) {
        const b = new TableBatch(TABLES[records[0].kind], { quarters: true });
        for (const r of records) expect(b.add(r)).toBeNull();
        // The first record again with another value: the batch keeps the later one.
        if (replace) expect(b.add({ ...records[0], qty: 1000 } as HealthRecord)).toBeNull();
        // What the writer adds: the batch's own sums, or its rows read back once one was replaced.
        const replacedOne = replace && records[0].kind === 'quantity';
        expect(b.quarterRows() === null).toBe(replacedOne);
        const kept = quartersOfCopy(b.spec, b.rows, b.quarterRows())!.rows;
        expect(kept.samples.length).toBeGreaterThan(0);
        expect(kept).toEqual(aggregateRows(b.rows, input));
        if (records[0].kind === 'quantity' && !replace) {
          // Minutes 0-3 and the one that came back to 10:05; minutes 20, 21 and the one stored at 10:15.
          const at = (q: number) => kept.bucket.findIndex((b, k) => b === q && kept.metric[k] === 'step_count');
          const [i, j] = [at(t0), at(t0 + 900_000)];
          expect([kept.samples[i], kept.total[i], kept.low[i], kept.high[i]]).toEqual([5, 50, 4, 13]);
          expect([kept.samples[j], kept.total[j], kept.low[j], kept.high[j]]).toEqual([3, 32, 3, 15]);
          expect(kept.metric.filter((m) => m === 'step_count').length).toBe(3);
        }
      }
    }
    expect(new TableBatch(TABLES.quantity).quarterRows()).toBeNull();
  });

  it('adds to quarters already stored: at the edges by upsert, inside by COPY stepping back to the upsert', async () => {
    const user = await db.pool.query(`INSERT INTO users (name) VALUES ('quarters') RETURNING id`);
    const userId = Number(user.rows[0].id);
    const Q = 900_000;
    const t0 = Date.parse('2024-06-01T00:00:00Z');
    const rowsAt = (quarters: number[], samples: number) =>
      stepQuarters(t0, quarters, { samples, total: (k) => 10 * samples + k, low: 1, high: 9 });
    const add = (rows: QuarterRows) => addInTransaction(userId, rows);
    const stored = async () =>
      (await db.pool.query(`SELECT bucket, samples, total, priority FROM rollup_quarters WHERE user_id = $1 ORDER BY bucket`, [userId])).rows.map(
        (r) => [(r.bucket.getTime() - t0) / Q, r.samples, Number(r.total), r.priority],
      );
    await add(rowsAt([0, 1, 2, 3], 1)); // all new: 1 and 2 are COPYed
    await add(rowsAt([3, 4, 5], 2)); // 3 is this batch's edge: upserted
    await add(rowsAt([1, 2, 6, 7], 4)); // 2 and 6 are inside and 2 exists: the COPY fails and steps back
    expect(await stored()).toEqual([
      [0, 1, 10, 1],
      [1, 5, 10 + 1 + 40 + 1, 1],
      [2, 5, 10 + 2 + 40 + 2, 1],
      [3, 3, 10 + 3 + 20 + 3, 1],
      [4, 2, 20 + 4, 1],
      [5, 2, 20 + 5, 1],
      [6, 4, 40 + 6, 1],
      [7, 4, 40 + 7, 1],
    ]);
  });

  it("ranks sources by the user's priority as it is when each batch is written, though a run looks each source up once", async () => {
    const user = await db.pool.query(`INSERT INTO users (name) VALUES ('ranks') RETURNING id`);
    const userId = Number(user.rows[0].id);
    const Q = 900_000;
    const t0 = Date.parse('2024-07-01T00:00:00Z');
    const rowsAt = (quarters: number[], source: string) => stepQuarters(t0, quarters, { source });
    const cache: SourceRankCache = new Map(); // one run's, shared by its batches
    const add = (rows: QuarterRows) => addInTransaction(userId, rows, cache);
    const priorities = async (from: number, to: number) =>
      (await db.pool.query(`SELECT DISTINCT priority FROM rollup_quarters WHERE user_id = $1 AND bucket >= $2 AND bucket < $3`, [
        userId, new Date(t0 + from * Q), new Date(t0 + to * Q),
      ])).rows.map((r) => r.priority);
    await add(rowsAt([0, 1, 2, 3], 'My iPhone')); // default priority: Watch 1, iPhone 2
    expect(await priorities(0, 4)).toEqual([2]);
    // Changed while the run goes on (its rank table for the old priority stays in the cache).
    await db.pool.query(`INSERT INTO source_priorities (user_id, patterns) VALUES ($1, ARRAY['iPhone', 'Watch'])`, [userId]);
    await add(rowsAt([10, 11, 12, 13], 'My iPhone'));
    expect(await priorities(10, 14)).toEqual([1]);
  });
});
