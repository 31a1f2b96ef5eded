/**
 * One record can never fail a run: oversized key text, NUL, lone surrogates and dates far from
 * now are rejected alone, with their JSON path, byte offset and original text; the rest is
 * stored; partitions are made only for months that hold rows; and the summary's rejected count
 * is the number of ingestion_rejects rows of that run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importSource } from '../../src/import/run-import.js';
import type { ImportSummary } from '../../src/import/summary.js';
import { reconciles } from '../../src/load/outcome.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { hae, stringSource } from '../support/inputs.js';

describe('hostile records', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: true });
  });
  afterAll(async () => db?.drop());

  const run = (text: string, user: string) => importSource(stringSource(text, 'hostile.json', 512), { pool: db.pool, user, batchRows: 50 });

  async function rejectRows(s: ImportSummary) {
    const { rows } = await db.pool.query(
      'SELECT json_path, byte_offset, reason, raw FROM ingestion_rejects WHERE ingestion_id = $1 ORDER BY byte_offset',
      [s.ingestionId],
    );
    return rows as { json_path: string | null; byte_offset: string | null; reason: string; raw: string | null }[];
  }

  async function partitionsOf(table: string): Promise<string[]> {
    const { rows } = await db.pool.query(
      `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass ORDER BY 1`,
      [table],
    );
    return rows.map((r) => r.relname);
  }

  it('rejects a 3 kB source, a 3 kB metric name, NUL and a lone surrogate alone, with path, offset and input text', async () => {
    const long = 'x'.repeat(3000);
    const text = hae({
      metrics: [
        {
          name: 'step_count',
          units: 'count',
          data: [
            { date: '2024-05-01 08:00:00 +0000', qty: 1, source: 'Watch' },
            { date: '2024-05-01 09:00:00 +0000', qty: 2, source: long },
            { date: '2024-05-01 10:00:00 +0000', qty: 3, source: 'Wat\u0000ch' },
            { date: '2024-05-01 11:00:00 +0000', qty: 4, source: 'Watch', note: 'bad \ud800 text' },
            { date: '2024-05-01 12:00:00 +0000', qty: 5, source: 'Watch' },
          ],
        },
        { name: `m${long}`, units: 'count', data: [{ date: '2024-05-01 08:00:00 +0000', qty: 1, source: 'Watch' }] },
        { name: 'mass\u0000', units: 'kg', data: [{ date: '2024-05-01 08:00:00 +0000', qty: 70, source: 'Scale' }] },
      ],
    });
    const s = await run(text, 'keys');
    expect(s.status).toBe('partial');
    expect(s.error).toBeNull();
    expect(reconciles(s.totals)).toBe(true);
    expect(s.totals).toMatchObject({ read: 7, inserted: 2, rejected: 5 });
    const rows = await rejectRows(s);
    expect(rows).toHaveLength(s.totals.rejected);
    for (const r of rows) {
      expect(r.json_path).toMatch(/^data\.metrics\[\d\]\.data\[\d\]$/);
      const offset = Number(r.byte_offset);
      // The offset points at the datapoint in the input, and raw is its text there (JSON, not a COPY line).
      expect(text.slice(offset, offset + 1)).toBe('{');
      expect(r.raw).not.toContain('\t');
      expect(() => JSON.parse(r.raw!)).not.toThrow();
    }
    expect(rows.map((r) => r.reason).join('\n')).toMatch(/3010 bytes long; at most 2000/);
    expect(rows.map((r) => r.reason).join('\n')).toMatch(/NUL/);
    expect(rows.map((r) => r.reason).join('\n')).toMatch(/lone UTF-16 surrogate/);
    // The raw text keeps the NUL visible as its JSON escape.
    expect(rows.some((r) => r.raw!.includes('Wat\\u0000ch'))).toBe(true);
    const { rows: stored } = await db.pool.query(`SELECT qty FROM activity_metrics a JOIN users u ON u.id = a.user_id WHERE u.name = 'keys' ORDER BY qty`);
    expect(stored.map((r) => Number(r.qty))).toEqual([1, 5]);
    const status = await db.pool.query('SELECT status FROM raw_ingestions WHERE id = $1', [s.ingestionId]);
    expect(status.rows[0].status).toBe('partial');
  });

  it('a workout: an id that cannot be a key rejects it whole; each bad child is one reject row at its own path', async () => {
    const points = (n: number, at: (i: number) => string) =>
      Array.from({ length: n }, (_, i) => ({ latitude: 52, longitude: 4, timestamp: at(i) }));
    const hr = (n: number, source: (i: number) => string) =>
      Array.from({ length: n }, (_, i) => ({ date: `2024-05-01 08:0${i}:00 +0000`, Avg: 100 + i, units: 'bpm', source: source(i) }));
    const workout = (id: string, route: object[], heartRateData: object[]) => ({
      id, name: 'Run', start: '2024-05-01 08:00:00 +0000', end: '2024-05-01 08:30:00 +0000', route, heartRateData,
    });
    const text = hae({
      workouts: [
        // The id is every child's key too: rejected once, as the workout, not once per child.
        workout('x'.repeat(2500), points(4, (i) => `2024-05-01 08:0${i}:00 +0000`), hr(3, () => 'Watch')),
        // Three points past tomorrow and two samples with a NUL source: five rows, one per record.
        workout('good', points(5, (i) => (i < 3 ? `2199-01-01 00:0${i}:00 +0000` : `2024-05-01 08:0${i}:00 +0000`)), hr(3, (i) => (i < 2 ? 'Wat\u0000ch' : 'Watch'))),
      ],
    });
    const s = await run(text, 'workout-keys');
    expect(reconciles(s.totals)).toBe(true);
    expect(s.tables.workouts).toMatchObject({ read: 2, inserted: 1, rejected: 1 });
    expect(s.tables.workout_routes).toMatchObject({ read: 5, inserted: 2, rejected: 3 });
    expect(s.tables.workout_heart_rate).toMatchObject({ read: 3, inserted: 1, rejected: 2 });
    const rows = await rejectRows(s);
    expect(rows).toHaveLength(s.totals.rejected);
    expect(rows.map((r) => r.json_path).sort()).toEqual([
      'data.workouts[0]',
      'data.workouts[1].heartRateData[0]',
      'data.workouts[1].heartRateData[1]',
      'data.workouts[1].route[0]',
      'data.workouts[1].route[1]',
      'data.workouts[1].route[2]',
    ]);
    // A child's input text is its own element, not the whole workout.
    for (const r of rows.filter((r) => r.json_path!.includes('route['))) expect(JSON.parse(r.raw!)).toHaveProperty('latitude', 52);
    expect(rows.find((r) => r.json_path === 'data.workouts[0]')!.reason).toMatch(/workout id is 2500 bytes long/);
  });

  it('rejects dates before 1900 and past tomorrow per record, and partitions only the months that hold rows', async () => {
    const before = await partitionsOf('heart_rate_metrics');
    const nextYear = new Date().getUTCFullYear() + 1;
    const text = hae({
      metrics: [
        {
          name: 'heart_rate',
          units: 'count/min',
          data: [
            { date: '1969-12-31 23:00:00 +0000', Avg: 60, source: 'Old' },
            { date: '0001-01-01 00:00:00 +0000', Avg: 61, source: 'Ancient' },
            { date: '1899-12-31 23:59:59 +0000', Avg: 62, source: 'Victorian' },
            { date: '2024-02-10 08:00:00 +0000', Avg: 63, source: 'Watch' },
            { date: '2199-06-01 08:00:00 +0000', Avg: 64, source: 'Future' },
            { date: `${nextYear}-06-01 08:00:00 +0000`, Avg: 65, source: 'Clock ahead' },
            { date: '1900-01-01 00:00:00 +0000', Avg: 66, source: 'Earliest' },
          ],
        },
      ],
    });
    const s = await run(text, 'dates');
    expect(s.status).toBe('partial');
    expect(s.totals).toMatchObject({ read: 7, inserted: 3, rejected: 4 });
    const rows = await rejectRows(s);
    expect(rows).toHaveLength(4);
    for (const r of rows) expect(r.reason).toMatch(/outside the accepted range 1900-01-01 \.\. \d{4}-\d\d-\d\d/);
    const added = (await partitionsOf('heart_rate_metrics')).filter((p) => !before.includes(p));
    // 1969-12 (a negative month key) and 1900-01 (year padded), 2024-02: three partitions, none between.
    expect(added.filter((p) => /_p(1969|1900|2024)/.test(p)).sort()).toEqual(
      ['heart_rate_metrics_p190001', 'heart_rate_metrics_p196912', 'heart_rate_metrics_p202402'].filter((p) => !before.includes(p)),
    );
    expect(added.filter((p) => !/_p(196912|190001|202402)$/.test(p))).toEqual([]);
    const { rows: stored } = await db.pool.query(
      `SELECT to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS d FROM heart_rate_metrics h JOIN users u ON u.id = h.user_id WHERE u.name = 'dates' ORDER BY 1`,
    );
    expect(stored.map((r) => r.d)).toEqual(['1900-01-01', '1969-12-31', '2024-02-10']);
  });

  it('stores a reject whose input text holds a raw NUL byte (not a JSON escape)', async () => {
    const text = `{"data":{"metrics":[{"name":"step_count","units":"count","data":[{"date":"2024-05-02 08:00:00 +0000","qty":1,"source":"W"},{"date":"2024-05-02 09:00:00 +0000","qty":2,"source":"A\u0000B"}]}]}}`;
    const s = await run(text, 'rawnul');
    expect(s.error).toBeNull();
    expect(s.totals.read).toBe(2);
    const rows = await rejectRows(s);
    expect(rows).toHaveLength(s.totals.rejected);
    expect(s.totals.rejected).toBe(1);
    expect(rows[0].raw).toContain('A\\u0000B');
  });

  it('Apple: a NUL in a record\'s metadata rejects that record alone, at its own path and offset, with its start tag', async () => {
    const tag = (at: string) =>
      `<Record type="HKQuantityTypeIdentifierStepCount" sourceName="Jürgen’s Watch" unit="count" startDate="2024-05-03 ${at} +0000" endDate="2024-05-03 ${at} +0000" value="5">`;
    const rec = (at: string, meta: string) => `${tag(at)}<MetadataEntry key="HKTimeZone" value="${meta}"/></Record>\n`;
    const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<HealthData locale="en_US">\n${rec('08:00:00', 'Europe/Paris')}${rec('09:00:00', 'Europe\u0000Paris')}<Record type="HKQuantityTypeIdentifierStepCount" sourceName="Watch" unit="count" startDate="2024-05-03 10:00:00 +0000" endDate="2024-05-03 10:00:00 +0000" value="7"/>\n</HealthData>\n`;
    const s = await importSource(stringSource(xml, 'export.xml', 64), { pool: db.pool, user: 'apple-nul', batchRows: 50 });
    expect(s.error).toBeNull();
    expect(s.totals).toMatchObject({ read: 3, inserted: 2, rejected: 1 });
    const rows = await rejectRows(s);
    expect(rows).toHaveLength(1);
    expect(rows[0].json_path).toBe('HealthData/Record[1]');
    expect(rows[0].reason).toMatch(/NUL/);
    expect(Buffer.from(xml).subarray(Number(rows[0].byte_offset)).toString().startsWith(tag('09:00:00'))).toBe(true);
    // Kept as the tag's bytes while its children were read, decoded (UTF-8) only for the reject.
    expect(rows[0].raw).toBe(tag('09:00:00'));
  });
});
