import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRouteLines } from '../../src/load/route-lines.js';
import { importSource } from '../../src/import/run-import.js';
import { reconciles } from '../../src/load/outcome.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { hae, stringSource } from '../support/inputs.js';

const src = 'Jane’s Apple Watch';

const everyShape = hae({
  metrics: [
    {
      name: 'step_count',
      units: 'count',
      data: [
        { date: '2024-03-10 01:59:00 -0800', qty: 12, source: src },
        { date: '2024-03-10 03:00:00 -0700', qty: 30, source: src },
      ],
    },
    { name: 'weight_body_mass', units: 'lb', data: [{ date: '2024-03-10 07:00:00 -0700', qty: 160.4, source: 'Scale' }] },
    { name: 'apple_future_metric_2027', units: 'zz', data: [{ date: '2024-03-11 07:00:00 -0700', qty: 3 }] },
    { name: 'headache', units: '', data: [{ date: '2024-03-11 08:00:00 -0700', value: 'Mild', source: 'iPhone' }] },
    {
      name: 'blood_glucose',
      units: 'mg/dL',
      data: [{ date: '2024-03-11 08:05:00 -0700', qty: 98, mealTime: 'Before Meal', source: 'Meter' }],
    },
    { name: 'heart_rate', units: 'count/min', data: [{ date: '2024-03-11 09:00:00 -0700', Min: 58, Avg: 61.5, Max: 66, source: src }] },
    { name: 'blood_pressure', units: 'mmHg', data: [{ date: '2024-03-11 09:10:00 -0700', systolic: 121, diastolic: 79, source: 'Cuff' }] },
    {
      name: 'sleep_analysis',
      units: 'hr',
      data: [
        {
          date: '2024-03-11 00:00:00 -0700', totalSleep: 7.1, core: 4, deep: 1.2, rem: 1.9, awake: 0.3, inBed: 7.6,
          sleepStart: '2024-03-10 23:10:00 -0700', sleepEnd: '2024-03-11 06:40:00 -0700',
          inBedStart: '2024-03-10 23:00:00 -0700', inBedEnd: '2024-03-11 06:45:00 -0700', source: src,
        },
      ],
    },
  ],
  workouts: [
    {
      name: 'Outdoor Run', start: '2024-03-12 07:00:00 -0700', end: '2024-03-12 07:30:00 -0700', duration: 1800,
      activeEnergy: { qty: 300, units: 'kcal' }, distance: { qty: 5, units: 'km' },
      elevation: { ascent: 20, descent: 18, units: 'm' },
      route: [
        { lat: 47.6, lon: -122.3, altitude: 10, timestamp: '2024-03-12 07:00:05 -0700' },
        { lat: 47.601, lon: -122.301, altitude: 11, timestamp: '2024-03-12 07:00:10 -0700' },
      ],
      heartRateData: [{ date: '2024-03-12 07:01:00 -0700', qty: 140, units: 'count/min' }],
    },
    {
      id: '9F1C2B6A-1111-4F3B-9C1D-2E3F4A5B6C7D', name: 'Indoor Cycling', location: 'Indoor',
      start: '2024-03-13 18:00:00 -0700', end: '2024-03-13 18:45:00 -0700', duration: 2700,
      activeEnergyBurned: { qty: 410, units: 'kcal' }, avgSpeed: { qty: 28, units: 'km/h' },
      heartRateData: [{ date: '2024-03-13 18:10:00 -0700', Min: 120, Avg: 131, Max: 140, units: 'count/min', source: src }],
      heartRateRecovery: [{ date: '2024-03-13 18:46:00 -0700', Min: 110, Avg: 110, Max: 110, units: 'count/min', source: src }],
      stepCount: [{ date: '2024-03-13 18:10:00 -0700', qty: 40, units: 'count', source: src }],
      metadata: {},
    },
  ],
  stateOfMind: [{ id: 'som-1', start: '2024-03-13 20:00:00 -0700', end: '2024-03-13 20:00:00 -0700', kind: 'momentaryEmotion', valence: 0.4, labels: ['Calm'] }],
  ecg: [{ start: '2024-03-13 21:00:00 -0700', end: '2024-03-13 21:00:30 -0700', classification: 'Sinus Rhythm', averageHeartRate: 64, voltageMeasurements: [{ date: 0, voltage: 0.1 }] }],
});

describe('importSource', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: true });
  });
  afterAll(async () => db?.drop());

  const run = (text: string, user = 'jane', name = 'test.json') =>
    importSource(stringSource(text, name, 37), { pool: db.pool, user, batchRows: 3 });

  it('stores every shape in its table with its values, and counts reconcile', async () => {
    const s = await run(everyShape);
    expect(s.status).toBe('ok');
    expect(s.error).toBeNull();
    expect(reconciles(s.totals)).toBe(true);
    for (const c of Object.values(s.tables)) expect(reconciles(c)).toBe(true);
    expect(s.totals.inserted).toBe(s.totals.read);
    expect(s.unknownMetrics).toEqual(expect.arrayContaining(['apple_future_metric_2027']));
    expect(s.unknownMetrics).not.toContain('step_count');

    const q = async (sql: string) => (await db.pool.query(sql)).rows;
    expect(await q(`SELECT metric, qty, unit, text_value, extra FROM activity_metrics ORDER BY recorded_at, metric`)).toEqual([
      { metric: 'step_count', qty: 12, unit: 'count', text_value: null, extra: null },
      { metric: 'step_count', qty: 30, unit: 'count', text_value: null, extra: null },
      { metric: 'weight_body_mass', qty: 160.4, unit: 'lb', text_value: null, extra: null },
      { metric: 'apple_future_metric_2027', qty: 3, unit: 'zz', text_value: null, extra: null },
      { metric: 'headache', qty: null, unit: '', text_value: 'Mild', extra: null },
      { metric: 'blood_glucose', qty: 98, unit: 'mg/dL', text_value: null, extra: { mealTime: 'Before Meal' } },
    ]);
    expect(await q(`SELECT min_bpm, avg_bpm, max_bpm, source FROM heart_rate_metrics`)).toEqual([
      { min_bpm: 58, avg_bpm: 61.5, max_bpm: 66, source: src },
    ]);
    expect(await q(`SELECT systolic, diastolic FROM blood_pressure_metrics`)).toEqual([{ systolic: 121, diastolic: 79 }]);
    const [night] = await q(`SELECT total_sleep, deep, to_char(sleep_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS start FROM sleep_metrics`);
    expect(night.total_sleep).toBeCloseTo(7.1, 5);
    expect(night.deep).toBeCloseTo(1.2, 5);
    expect(night.start).toBe('2024-03-11 06:10');
    const workouts = await q(`SELECT name, export_version, id_derived, active_energy, active_energy_unit, summary, route_points FROM workouts ORDER BY started_at`);
    expect(workouts.map((w) => [w.name, w.export_version, w.id_derived, w.active_energy, w.active_energy_unit, w.route_points])).toEqual([
      ['Outdoor Run', 1, true, 300, 'kcal', 2],
      ['Indoor Cycling', 2, false, 410, 'kcal', 0],
    ]);
    expect(workouts[0].summary.elevation).toEqual({ ascent: 20, descent: 18, units: 'm' });
    expect(workouts[1].summary.avgSpeed).toEqual({ qty: 28, units: 'km/h' });
    expect(await q(`SELECT latitude, longitude, altitude FROM workout_routes ORDER BY recorded_at`)).toEqual([
      { latitude: 47.6, longitude: -122.3, altitude: 10 },
      { latitude: 47.601, longitude: -122.301, altitude: 11 },
    ]);
    expect(await q(`SELECT series, avg_bpm FROM workout_heart_rate ORDER BY recorded_at`)).toEqual([
      { series: 'session', avg_bpm: 140 },
      { series: 'session', avg_bpm: 131 },
      { series: 'recovery', avg_bpm: 110 },
    ]);
    expect(await q(`SELECT series, qty FROM workout_series`)).toEqual([{ series: 'stepCount', qty: 40 }]);
    const events = await q(`SELECT section, event_key, data->>'classification' AS c FROM health_events ORDER BY recorded_at`);
    expect(events.map((e) => e.section)).toEqual(['stateOfMind', 'ecg']);
    expect(events[0].event_key).toBe('som-1');
    expect(events[1].c).toBe('Sinus Rhythm');

    const [ing] = await q(`SELECT status, bytes, sha256, counts->'totals'->>'inserted' AS inserted FROM raw_ingestions WHERE id = '${s.ingestionId}'`);
    expect({ ...ing, bytes: Number(ing.bytes) }).toEqual({ status: 'ok', bytes: Buffer.byteLength(everyShape), sha256: s.sha256, inserted: String(s.totals.inserted) });
  });

  it('honours UTC offsets across the daylight-saving change', async () => {
    expect((await run(everyShape, 'dst')).status).toBe('ok');
    const { rows } = await db.pool.query(
      `SELECT extract(epoch FROM max(recorded_at) - min(recorded_at))::int AS gap,
              to_char(min(recorded_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS first
         FROM activity_metrics a JOIN users u ON u.id = a.user_id WHERE metric = 'step_count' AND u.name = 'dst'`,
    );
    // 01:59 PST and 03:00 PDT on 2024-03-10 are one minute apart.
    expect(rows[0]).toEqual({ gap: 60, first: '2024-03-10 09:59' });
  });

  it('re-importing the same file changes nothing', async () => {
    expect((await run(everyShape, 'twice')).status).toBe('ok');
    const before = (await db.pool.query(`SELECT count(*)::int AS n FROM activity_metrics`)).rows[0].n;
    const s = await run(everyShape, 'twice');
    expect(s.status).toBe('ok');
    expect(s.totals.inserted).toBe(0);
    expect(s.totals.updated).toBe(0);
    expect(s.totals.unchanged).toBe(s.totals.read);
    expect((await db.pool.query(`SELECT count(*)::int AS n FROM activity_metrics`)).rows[0].n).toBe(before);
  });

  it('a later export with a completed value updates the row', async () => {
    const earlier = await run(everyShape, 'later');
    expect(earlier.status).toBe('ok');
    const later = hae({
      metrics: [
        {
          name: 'step_count',
          units: 'count',
          data: [
            { date: '2024-03-10 01:59:00 -0800', qty: 12, source: src },
            { date: '2024-03-10 03:00:00 -0700', qty: 95, source: src },
            { date: '2024-03-10 04:00:00 -0700', qty: 7, source: src },
          ],
        },
      ],
    });
    const s = await run(later, 'later');
    expect(s.error).toBeNull();
    expect(s.tables.activity_metrics).toEqual({ read: 3, inserted: 1, updated: 1, unchanged: 1, rejected: 0 });
    const { rows } = await db.pool.query(
      `SELECT qty, ingestion_id::text AS ing FROM activity_metrics a JOIN users u ON u.id = a.user_id
        WHERE metric = 'step_count' AND u.name = 'later' ORDER BY recorded_at`,
    );
    expect(rows.map((r) => r.qty)).toEqual([12, 95, 7]);
    expect(rows[1].ing).toBe(s.ingestionId);
    expect(rows[0].ing).not.toBe(s.ingestionId);
  });

  it('the same key twice in one file: the later value wins and nothing fails', async () => {
    const dup = hae({
      metrics: [
        {
          name: 'resting_heart_rate',
          units: 'count/min',
          data: [
            { date: '2024-04-01 08:00:00 -0700', qty: 55 },
            { date: '2024-04-01 08:00:00 -0700', qty: 55 },
            { date: '2024-04-01 08:00:00 -0700', qty: 57 },
          ],
        },
      ],
    });
    const s = await importSource(stringSource(dup), { pool: db.pool, user: 'jane', batchRows: 100 });
    expect(s.tables.activity_metrics).toEqual({ read: 3, inserted: 1, updated: 1, unchanged: 1, rejected: 0 });
    const { rows } = await db.pool.query(`SELECT qty FROM activity_metrics WHERE metric = 'resting_heart_rate'`);
    expect(rows).toEqual([{ qty: 57 }]);
  });

  it('keeps valid records around bad ones and quarantines each bad one with its reason and place', async () => {
    const mixed =
      '{"data":{"metrics":[{"name":"heart_rate","units":"count/min","data":[' +
      '{"date":"2024-05-01 10:00:00 -0700","Avg":70},' +
      '{"date":"2024-05-01 10:01:00 -0700","Avg":900},' +
      '{"date":"2024-05-01 10:02:00 -0700","Avg": },' +
      '{"Avg":71},' +
      '{"date":"2024-05-01 10:04:00 -0700","Avg":72}]}]}}';
    const s = await run(mixed, 'mixed');
    expect(s.status).toBe('partial');
    expect(s.tables.heart_rate_metrics).toEqual({ read: 5, inserted: 2, updated: 0, unchanged: 0, rejected: 3 });
    const { rows } = await db.pool.query(
      `SELECT json_path, byte_offset, reason, raw FROM ingestion_rejects WHERE ingestion_id = $1 ORDER BY byte_offset`,
      [s.ingestionId],
    );
    expect(rows.map((r) => r.json_path)).toEqual([
      'data.metrics[0].data[1]',
      'data.metrics[0].data[2]',
      'data.metrics[0].data[3]',
    ]);
    expect(rows[0].reason).toMatch(/900/);
    expect(rows[1].reason).toMatch(/JSON/i);
    expect(rows[2].reason).toMatch(/date/);
    expect(Number(rows[0].byte_offset)).toBe(mixed.indexOf('{"date":"2024-05-01 10:01'));
    expect(rows[1].raw).toBe('{"date":"2024-05-01 10:02:00 -0700","Avg": }');
    const stored = await db.pool.query(
      `SELECT avg_bpm FROM heart_rate_metrics h JOIN users u ON u.id = h.user_id WHERE u.name = 'mixed' ORDER BY recorded_at`,
    );
    expect(stored.rows.map((r) => r.avg_bpm)).toEqual([70, 72]);
  });

  it('a truncated file loads what precedes the cut, then fails naming the file and byte offset', async () => {
    const full = hae({
      metrics: [
        {
          name: 'step_count',
          units: 'count',
          data: Array.from({ length: 10 }, (_, i) => ({ date: `2024-06-01 10:0${i}:00 -0700`, qty: i + 1 })),
        },
      ],
    });
    const cut = full.slice(0, full.indexOf('10:07:00') + 4);
    const s = await run(cut, 'trunc', 'cut.json');
    expect(s.status).toBe('failed');
    expect(s.error).toMatch(/^cut\.json: .*byte \d+/);
    expect(s.errorOffset).toBe(cut.length);
    expect(s.tables.activity_metrics.inserted).toBe(7);
    expect(reconciles(s.totals)).toBe(true);
    const { rows } = await db.pool.query(`SELECT status, error FROM raw_ingestions WHERE id = $1`, [s.ingestionId]);
    expect(rows[0].status).toBe('failed');
    expect(rows[0].error).toBe(s.error);
  });

  it('a JSON file that is not an HAE export stores nothing and fails clearly', async () => {
    const s = await run(JSON.stringify({ name: 'my-package', version: '1.0.0', dependencies: {} }), 'nothae', 'package.json');
    expect(s.status).toBe('failed');
    expect(s.error).toMatch(/package\.json: .*not a Health Auto Export/);
    expect(s.totals.read).toBe(0);
    const notJson = await run('<html>nope</html>', 'nothae', 'page.html');
    expect(notJson.status).toBe('failed');
    expect(notJson.errorOffset).toBe(0);
  });

  it('creates the historical month partitions an import touches', async () => {
    const old = hae({ metrics: [{ name: 'step_count', units: 'count', data: [{ date: '2009-02-14 12:00:00 +0100', qty: 1 }] }] });
    const s = await run(old);
    expect(s.status).toBe('ok');
    const { rows } = await db.pool.query(`SELECT to_regclass('activity_metrics_p200902') IS NOT NULL AS ok`);
    expect(rows[0].ok).toBe(true);
  });

  it('a dry run validates without touching the database', async () => {
    const s = await importSource(stringSource(everyShape), { user: 'nobody', dryRun: true });
    expect(s.dryRun).toBe(true);
    expect(s.ingestionId).toBeNull();
    expect(Object.values(s.valid!).reduce((a, b) => a + b, 0)).toBe(s.totals.read - s.totals.rejected);
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM users WHERE name = 'nobody'`);
    expect(rows[0].n).toBe(0);
  });
});

/** A migrated database for one test, dropped after it; the test is skipped, saying why, without PostGIS. */
async function withPostgisDb(ctx: { skip: () => void }, test: (db: TestDatabase) => Promise<void>): Promise<void> {
  const db = await createTestDatabase({ migrate: true });
  try {
    await skipWithoutPostgis(db, ctx);
    await test(db);
  } finally {
    await db.drop();
  }
}

/** Skips the test, saying why, when the server has no PostGIS. */
async function skipWithoutPostgis(db: TestDatabase, ctx: { skip: () => void }): Promise<void> {
  if (await db.hasPostgis()) return;
  console.warn('skipped: this PostgreSQL has no postgis extension (CI installs postgresql-15-postgis-3)');
  ctx.skip();
}

/** A ten-minute walk; the tests add its route. */
const walk = { id: 'W-1', name: 'Walk', start: '2024-03-12 07:00:00 -0700', end: '2024-03-12 07:10:00 -0700' };

describe('route geometry', () => {
  it('with PostGIS, each workout gets a LineString of its points in time order', async (ctx) => {
    await withPostgisDb(ctx, async (db) => {
      const doc = hae({
        workouts: [
          {
            id: 'W-1', name: 'Walk', start: '2024-03-12 07:00:00 -0700', end: '2024-03-12 07:10:00 -0700',
            route: [
              { latitude: 47.61, longitude: -122.31, altitude: 12, timestamp: '2024-03-12 07:00:10 -0700' },
              { latitude: 47.6, longitude: -122.3, altitude: 10, timestamp: '2024-03-12 07:00:00 -0700' },
            ],
          },
        ],
      });
      const s = await importSource(stringSource(doc), { pool: db.pool, user: 'geo' });
      expect(s.status).toBe('ok');
      const { rows } = await db.pool.query(`SELECT ST_AsText(route) AS line, ST_SRID(route) AS srid FROM workouts`);
      expect(rows[0]).toEqual({ line: 'LINESTRING Z (-122.3 47.6 10,-122.31 47.61 12)', srid: 4326 });
    });
  });

  it('the line built while reading is, byte for byte, the one built from the stored points, with no UPDATE at the end', async (ctx) => {
    await withPostgisDb(ctx, async (db) => {
      const at = (s: string) => `2024-03-12 07:00:${s} -0700`;
      const route = [
        { latitude: 47.6, longitude: -122.3, altitude: 12.3, timestamp: at('05') }, // float4 altitude
        { latitude: 47.601, longitude: -122.301, altitude: 12.4, timestamp: at('05') }, // same second: seq 1
        { latitude: 47.599, longitude: -122.299, timestamp: at('01') }, // earlier, no altitude
        { latitude: 123, longitude: -122.3, altitude: 1, timestamp: at('03') }, // rejected
        { latitude: 47.602, longitude: -122.302, altitude: -3.7, timestamp: at('09') },
      ];
      const doc = hae({ workouts: [{ id: 'W-1', name: 'Walk', start: at('00'), end: '2024-03-12 07:10:00 -0700', route }] });
      const statements: string[] = [];
      const query = db.pool.query.bind(db.pool);
      db.pool.query = ((text: unknown, ...rest: unknown[]) => {
        statements.push(typeof text === 'string' ? text : String((text as { text?: string }).text));
        return (query as (...a: unknown[]) => unknown)(text, ...rest);
      }) as typeof db.pool.query;
      const s = await importSource(stringSource(doc), { pool: db.pool, user: 'geo' });
      expect(s.tables.workout_routes).toMatchObject({ inserted: 4, rejected: 1 });
      expect(statements.filter((q) => /SET route = l\.line/.test(q))).toEqual([]);
      const { rows } = await query(
        `SELECT ST_AsEWKB(w.route) = ST_AsEWKB(l.line) AS same, ST_AsText(w.route) AS text
           FROM workouts w, (SELECT ST_MakeLine(geom ORDER BY recorded_at, seq) AS line FROM workout_routes) l`,
      );
      // Time order, the same-second pair in export order, altitudes as the float4 column holds them.
      expect(rows[0].text).toBe('LINESTRING Z (-122.299 47.599 0,-122.3 47.6 12.300000190734863,-122.301 47.601 12.399999618530273,-122.302 47.602 -3.700000047683716)');
      expect(rows[0].same).toBe(true);
    });
  });

  it('re-importing keeps the line: unchanged with its route, kept when a later export has none', async (ctx) => {
    await withPostgisDb(ctx, async (db) => {
      const route = [0, 1, 2].map((j) => ({ latitude: 47 + j / 100, longitude: -122, altitude: j + 0.1, timestamp: `2024-03-12 07:0${j}:00 -0700` }));
      const line = async () => (await db.pool.query(`SELECT ST_AsText(route) AS t FROM workouts`)).rows[0].t as string;
      const first = await importSource(stringSource(hae({ workouts: [{ ...walk, route }] })), { pool: db.pool, user: 'geo' });
      expect(first.tables.workouts).toMatchObject({ inserted: 1 });
      const built = await line();
      expect(built).toMatch(/^LINESTRING Z /);
      const again = await importSource(stringSource(hae({ workouts: [{ ...walk, route }] })), { pool: db.pool, user: 'geo' });
      expect(again.tables.workouts).toMatchObject({ unchanged: 1, updated: 0 });
      const routeless = await importSource(stringSource(hae({ workouts: [{ ...walk, distance: { qty: 1.2, units: 'km' } }] })), { pool: db.pool, user: 'geo' });
      expect(routeless.tables.workouts).toMatchObject({ updated: 1 });
      expect(await line()).toBe(built);
    });
  });

  it('a workout written twice in one export: both records counted, the later one and its line win', async (ctx) => {
    await withPostgisDb(ctx, async (db) => {
      const route = (n: number, lat: number) =>
        Array.from({ length: n }, (_, j) => ({ latitude: lat, longitude: -122 + j / 100, timestamp: `2024-03-12 07:0${j}:00 -0700` }));
      const doc = hae({ workouts: [{ ...walk, route: route(3, 47) }, { ...walk, name: 'Walk (edited)', route: route(4, 48) }] });
      const s = await importSource(stringSource(doc), { pool: db.pool, user: 'geo' });
      expect(s.tables.workouts).toMatchObject({ read: 2, inserted: 1, updated: 1 });
      for (const c of Object.values(s.tables)) expect(reconciles(c)).toBe(true);
      const { rows } = await db.pool.query(`SELECT name, ST_NPoints(route) AS n, ST_Y(ST_StartPoint(route)) AS lat FROM workouts`);
      expect(rows).toEqual([{ name: 'Walk (edited)', n: 4, lat: 48 }]);
    });
  });

  it('every workout gets its line when the lines are built in parallel groups', async (ctx) => {
    await withPostgisDb(ctx, async (db) => {
      const workouts = [1, 2, 3, 4, 5].map((k) => ({
        id: `W-${k}`, name: 'Walk', start: `2024-03-1${k} 07:00:00 -0700`, end: `2024-03-1${k} 07:10:00 -0700`,
        route: [0, 1, 2].map((j) => ({ latitude: 47 + k / 10, longitude: -122 - j / 100, altitude: j, timestamp: `2024-03-1${k} 07:0${j}:00 -0700` })),
      }));
      const s = await importSource(stringSource(hae({ workouts })), { pool: db.pool, user: 'geo' });
      expect(s.status).toBe('ok');
      const lines = async () =>
        (await db.pool.query(`SELECT workout_id, ST_NPoints(route) AS n FROM workouts ORDER BY workout_id`)).rows.map((r) => [r.workout_id, r.n]);
      const all = workouts.map((w) => [w.id, 3]);
      expect(await lines()).toEqual(all);
      const userId = s.userId!;
      for (const parallel of [1, 2, 3, 5, 8]) {
        await db.pool.query('UPDATE workouts SET route = NULL');
        expect(await buildRouteLines(db.pool, userId, workouts.map((w) => w.id), parallel)).toBe(5);
        expect(await lines()).toEqual(all);
      }
    });
  });
});
