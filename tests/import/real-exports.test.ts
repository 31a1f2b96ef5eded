/**
 * Real exports as phones write them (issue 9), each through the whole pipeline into PostgreSQL:
 * 12-hour times in every HAE date field, every aggregated sleep shape, same-second route points,
 * the order of imports (an older export never overwrites a newer one). Small files written here,
 * shaped like the samples in users' public bug reports (hae-format.md, "Quirks").
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importSource } from '../../src/import/run-import.js';
import { resolveInputs } from '../../src/input/open-input.js';
import { reconciles } from '../../src/load/outcome.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { hae, stringSource } from '../support/inputs.js';

const NNBSP = '\u202f';

let db: TestDatabase;
let dir: string;
beforeAll(async () => {
  db = await createTestDatabase({ migrate: true });
  dir = await mkdtemp(path.join(os.tmpdir(), 'he-real-'));
});
afterAll(async () => {
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

const run = (text: string, user: string) => importSource(stringSource(text, 'real.json', 53), { pool: db.pool, user, batchRows: 4 });
const iso = (d: Date | null) => (d === null ? null : d.toISOString());

describe('12-hour clock: every HAE date field', () => {
  const t = (hm: string, ampm: string, day = '21') => `2024-09-${day} ${hm}${NNBSP}${ampm} +1000`;
  const file = hae({
    metrics: [
      { name: 'step_count', units: 'count', data: [{ date: t('7:57:00', 'am'), qty: 12, source: 'iPhone' }] },
      { name: 'mindful_minutes', units: 'min', data: [{ startDate: t('12:05:00', 'AM'), endDate: t('12:15:00', 'AM'), qty: 10 }] },
      { name: 'heart_rate', units: 'count/min', data: [{ date: t('12:30:00', 'pm'), Min: 60, Avg: 62, Max: 65 }] },
      {
        name: 'sleep_analysis',
        units: 'hr',
        data: [
          { date: t('12:00:00', 'am'), totalSleep: 7, sleepStart: t('11:00:00', 'PM', '20'), sleepEnd: t('6:00:00', 'AM'), inBedStart: t('10:50:00', 'pm', '20'), inBedEnd: t('6:10:00', 'am') },
          { startDate: t('1:00:00', 'am'), endDate: t('1:30:00', 'am'), qty: 0.5, value: 'Deep' },
        ],
      },
    ],
    workouts: [
      {
        id: 'W-12H', name: 'Outdoor Walk', start: t('5:00:00', 'pm'), end: t('5:30:00', 'pm'),
        route: [{ latitude: -33.86, longitude: 151.2, timestamp: t('5:00:01', 'pm') }],
        heartRateData: [{ date: t('5:01:00', 'PM'), Min: 90, Avg: 95, Max: 99 }],
        stepCount: [{ date: t('5:02:00', 'pm'), qty: 80, units: 'count' }],
      },
    ],
    stateOfMind: [{ id: 'som', start: t('9:00:00', 'pm'), end: t('9:00:00', 'pm'), valence: 0.2 }],
  });

  it('stores every record (none rejected), at the right instants: 12 am is 00, 12 pm is 12', async () => {
    const s = await run(file, 'clock12');
    expect(s.totals.rejected).toBe(0);
    expect(s.status).toBe('ok');
    expect(reconciles(s.totals)).toBe(true);
    const uid = s.userId;
    const one = async (sql: string) => (await db.pool.query(sql, [uid])).rows[0];
    expect(iso((await one(`SELECT recorded_at FROM activity_metrics WHERE user_id = $1 AND metric = 'step_count'`)).recorded_at)).toBe('2024-09-20T21:57:00.000Z');
    const mm = await one(`SELECT recorded_at, ended_at FROM activity_metrics WHERE user_id = $1 AND metric = 'mindful_minutes'`);
    expect([iso(mm.recorded_at), iso(mm.ended_at)]).toEqual(['2024-09-20T14:05:00.000Z', '2024-09-20T14:15:00.000Z']);
    expect(iso((await one(`SELECT recorded_at FROM heart_rate_metrics WHERE user_id = $1`)).recorded_at)).toBe('2024-09-21T02:30:00.000Z');
    const n = await one(`SELECT recorded_at, sleep_start, sleep_end, in_bed_start, in_bed_end FROM sleep_metrics WHERE user_id = $1`);
    expect([n.recorded_at, n.sleep_start, n.sleep_end, n.in_bed_start, n.in_bed_end].map(iso)).toEqual([
      '2024-09-20T14:00:00.000Z', '2024-09-20T13:00:00.000Z', '2024-09-20T20:00:00.000Z', '2024-09-20T12:50:00.000Z', '2024-09-20T20:10:00.000Z',
    ]);
    expect(iso((await one(`SELECT started_at FROM sleep_stages WHERE user_id = $1`)).started_at)).toBe('2024-09-20T15:00:00.000Z');
    const w = await one(`SELECT started_at, ended_at FROM workouts WHERE user_id = $1`);
    expect([iso(w.started_at), iso(w.ended_at)]).toEqual(['2024-09-21T07:00:00.000Z', '2024-09-21T07:30:00.000Z']);
    expect(iso((await one(`SELECT recorded_at FROM workout_routes WHERE user_id = $1`)).recorded_at)).toBe('2024-09-21T07:00:01.000Z');
    expect(iso((await one(`SELECT recorded_at FROM workout_heart_rate WHERE user_id = $1`)).recorded_at)).toBe('2024-09-21T07:01:00.000Z');
    expect(iso((await one(`SELECT recorded_at FROM workout_series WHERE user_id = $1`)).recorded_at)).toBe('2024-09-21T07:02:00.000Z');
    expect(iso((await one(`SELECT recorded_at FROM health_events WHERE user_id = $1`)).recorded_at)).toBe('2024-09-21T11:00:00.000Z');
  });
});

describe('sleep: every aggregated shape', () => {
  it('2023+ shape (asleep 0, core/deep/rem, no totalSleep): the night is their sum and asleep has its column', async () => {
    const s = await run(
      hae({
        metrics: [
          {
            name: 'sleep_analysis',
            units: 'hr',
            data: [
              { date: '2024-02-03 00:00:00 +0100', asleep: 0, core: 3.3, deep: 0.86, rem: 1.26, awake: 0.2, inBed: 0, sleepStart: '2024-02-02 23:40:00 +0100', sleepEnd: '2024-02-03 05:40:00 +0100', source: 'iPhone|Apple Watch' },
              { date: '2024-02-04 00:00:00 +0100', totalSleep: 7.1, core: 4, deep: 1.2, rem: 1.9, source: 'Watch' },
              { date: '2022-05-02 00:00:00 +0100', asleep: 6.5, inBed: 7, source: 'Watch' },
            ],
          },
        ],
      }),
      'sleeper',
    );
    expect(s.totals).toMatchObject({ read: 3, inserted: 3, rejected: 0 });
    const { rows } = await db.pool.query(`SELECT total_sleep::numeric(6,3)::float8 AS total, asleep, core FROM sleep_metrics WHERE user_id = $1 ORDER BY recorded_at`, [s.userId]);
    expect(rows).toEqual([
      { total: 6.5, asleep: 6.5, core: null },
      { total: 5.42, asleep: 0, core: expect.closeTo(3.3, 5) },
      { total: 7.1, asleep: null, core: 4 },
    ]);
  });

  it('a night with sleepStart/sleepEnd and no date is stored, keyed on sleepEnd; again, it is unchanged', async () => {
    const night = hae({
      metrics: [
        { name: 'sleep_analysis', units: 'hr', data: [{ sleepStart: '2026-05-14 03:30:01 -0700', sleepEnd: '2026-05-14 08:14:04 -0700', asleep: 4.733, awake: 0.017, rem: 0, deep: 0, core: 0, inBed: 0, source: 'Band' }] },
      ],
    });
    const s = await run(night, 'band');
    expect(s.totals).toMatchObject({ read: 1, inserted: 1, rejected: 0 });
    const { rows } = await db.pool.query(`SELECT recorded_at, sleep_end, total_sleep::numeric(6,3)::float8 AS total FROM sleep_metrics WHERE user_id = $1`, [s.userId]);
    expect(rows).toEqual([{ recorded_at: new Date('2026-05-14T15:14:04Z'), sleep_end: new Date('2026-05-14T15:14:04Z'), total: 4.733 }]);
    expect((await run(night, 'band')).totals).toMatchObject({ read: 1, unchanged: 1 });
  });
});

/** A small Apple export (export.xml by another name, and a GPX route beside it) in a folder. */
function appleExport(workouts: string, exportDate = '2024-03-20 10:00:00 -0700'): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!ELEMENT HealthData (ExportDate,Me,(Record|Workout)*)>
]>
<HealthData locale="es_ES">
 <ExportDate value="${exportDate}"/>
${workouts}</HealthData>
`;
}

const trkpt = (lat: string, time: string) => `<trkpt lon="-122.3" lat="${lat}"><ele>10</ele><time>${time}</time></trkpt>\n`;

describe('same-second route points', () => {
  const countRoutes = async (uid: number) =>
    (await db.pool.query(`SELECT w.name, w.route_points, (SELECT count(*)::int FROM workout_routes r WHERE r.user_id = w.user_id AND r.workout_id = w.workout_id) AS stored
        FROM workouts w WHERE user_id = $1 ORDER BY started_at`, [uid])).rows;

  it('Apple export: two <Location>s and two GPX <trkpt>s in one second are all stored; re-import adds nothing', async () => {
    const folder = path.join(dir, 'apple_health_export');
    await mkdir(path.join(folder, 'workout-routes'), { recursive: true });
    await writeFile(
      path.join(folder, 'workout-routes', 'route_1.gpx'),
      `<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>\n` +
        trkpt('47.60000', '2024-03-12T14:00:05Z') + trkpt('47.60001', '2024-03-12T14:00:05Z') + trkpt('47.60002', '2024-03-12T14:00:05Z') + trkpt('47.60010', '2024-03-12T14:00:06Z') +
        '</trkseg></trk></gpx>\n',
    );
    const loc = (lat: string, date: string) => `   <Location date="${date}" latitude="${lat}" longitude="-122.1" altitude="10" horizontalAccuracy="3" verticalAccuracy="2" course="10" speed="1.2"/>\n`;
    await writeFile(
      path.join(folder, 'exportar.xml'),
      appleExport(
        ` <Workout workoutActivityType="HKWorkoutActivityTypeRunning" duration="30" durationUnit="min" sourceName="Watch" startDate="2024-03-12 07:00:00 -0700" endDate="2024-03-12 07:30:00 -0700">
  <WorkoutRoute sourceName="Watch"><FileReference path="/workout-routes/route_1.gpx"/></WorkoutRoute>
 </Workout>
 <Workout workoutActivityType="HKWorkoutActivityTypeWalking" duration="20" durationUnit="min" sourceName="Watch" startDate="2024-03-13 08:00:00 -0700" endDate="2024-03-13 08:20:00 -0700">
  <WorkoutRoute sourceName="Watch">
${loc('47.1', '2024-03-13 08:00:01 -0700')}${loc('47.10002', '2024-03-13 08:00:01 -0700')}${loc('47.10004', '2024-03-13 08:00:02 -0700')}  </WorkoutRoute>
 </Workout>
`,
      ),
    );
    const [src] = await resolveInputs([folder]);
    const s = await importSource(src, { pool: db.pool, user: 'apple-routes' });
    expect(s.tables.workout_routes).toMatchObject({ read: 7, inserted: 7, updated: 0, rejected: 0 });
    // <ExportDate> is the run's "as of" instant
    expect(s.asOf).toEqual({ at: '2024-03-20T17:00:00.000Z', source: 'content' });
    // workouts.route_points agrees with the rows: 4 GPX points (3 in one second), 3 Locations (2)
    expect((await countRoutes(s.userId!)).map((r) => [r.route_points, r.stored])).toEqual([[4, 4], [3, 3]]);
    const { rows } = await db.pool.query(`SELECT latitude, seq FROM workout_routes WHERE user_id = $1 AND recorded_at = '2024-03-12T14:00:05Z' ORDER BY seq`, [s.userId]);
    expect(rows).toEqual([{ latitude: 47.6, seq: 0 }, { latitude: 47.60001, seq: 1 }, { latitude: 47.60002, seq: 2 }]);

    const [again] = await resolveInputs([folder]);
    const s2 = await importSource(again, { pool: db.pool, user: 'apple-routes' });
    expect(s2.tables.workout_routes).toMatchObject({ read: 7, inserted: 0, updated: 0, unchanged: 7 });
    expect(s2.totals.inserted + s2.totals.updated).toBe(0);
  });

  it('HAE route: same-second points are all stored and agree with workouts.route_points', async () => {
    const file = hae({
      workouts: [
        {
          id: 'SAME-SECOND', name: 'Outdoor Cycle', start: '2024-04-01 07:00:00 +0200', end: '2024-04-01 08:00:00 +0200',
          route: [
            { latitude: 48.1, longitude: 11.5, timestamp: '2024-04-01 07:00:01 +0200' },
            { latitude: 48.10001, longitude: 11.5, timestamp: '2024-04-01 07:00:01 +0200' },
            { latitude: 48.10002, longitude: 11.5, timestamp: '2024-04-01 07:00:02 +0200' },
          ],
        },
      ],
    });
    const s = await run(file, 'hae-routes');
    expect(s.tables.workout_routes).toMatchObject({ read: 3, inserted: 3, updated: 0 });
    expect(await countRoutes(s.userId!)).toEqual([{ name: 'Outdoor Cycle', route_points: 3, stored: 3 }]);
    expect((await run(file, 'hae-routes')).tables.workout_routes).toMatchObject({ read: 3, unchanged: 3 });
  });
});

describe('order of imports: an older export never overwrites a newer one', () => {
  const steps = (qty: number, extra: Record<string, unknown>[] = []) =>
    hae({ metrics: [{ name: 'step_count', units: 'count', data: [{ date: '2024-01-31 00:00:00 +0000', qty, source: 'iPhone' }, ...extra] }] });
  const stored = async (uid: number) =>
    (await db.pool.query(`SELECT recorded_at, qty FROM activity_metrics WHERE user_id = $1 ORDER BY recorded_at`, [uid])).rows.map((r) => [r.recorded_at.toISOString().slice(0, 10), r.qty]);
  const named = (text: string, name: string, user: string, asOf?: number) =>
    importSource(stringSource(text, name, 61), { pool: db.pool, user, asOf });

  it('newer after older: the newer, completed value is applied (updated)', async () => {
    await named(steps(3000), 'HealthAutoExport-2024-01-01-2024-01-31.json', 'order-a');
    const s = await named(steps(5000), 'HealthAutoExport-2024-01-01-2024-02-15.json', 'order-a');
    expect(s.asOf).toEqual({ at: '2024-02-15T23:59:59.999Z', source: 'name' });
    expect(s.tables.activity_metrics).toMatchObject({ read: 1, updated: 1, unchanged: 0 });
    expect(s.unchangedOlder).toEqual({});
    expect(await stored(s.userId!)).toEqual([['2024-01-31', 5000]]);
  });

  it('older after newer: the stored value stays, counted unchanged (from a newer export); new keys still go in', async () => {
    await named(steps(5000), 'HealthAutoExport-2024-01-01-2024-02-15.json', 'order-b');
    const older = steps(3000, [{ date: '2024-01-30 00:00:00 +0000', qty: 8000, source: 'iPhone' }]);
    const s = await named(older, 'HealthAutoExport-2024-01-01-2024-01-31.json', 'order-b');
    expect(s.tables.activity_metrics).toEqual({ read: 2, inserted: 1, updated: 0, unchanged: 1, rejected: 0 });
    expect(reconciles(s.totals)).toBe(true);
    expect(s.unchangedOlder).toEqual({ activity_metrics: 1 });
    expect(await stored(s.userId!)).toEqual([['2024-01-30', 8000], ['2024-01-31', 5000]]);
    // --as-of says it is newer after all: now it applies
    const forced = await named(older, 'HealthAutoExport-2024-01-01-2024-01-31.json', 'order-b', Date.UTC(2024, 2, 1));
    expect(forced.asOf).toEqual({ at: '2024-03-01T00:00:00.000Z', source: 'option' });
    expect(forced.tables.activity_metrics).toMatchObject({ updated: 1, unchanged: 1 });
    expect(await stored(s.userId!)).toEqual([['2024-01-30', 8000], ['2024-01-31', 3000]]);
    const { rows } = await db.pool.query(`SELECT as_of_source FROM raw_ingestions WHERE user_id = $1 ORDER BY received_at`, [s.userId]);
    expect(rows.map((r) => r.as_of_source)).toEqual(['name', 'name', 'option']);
  });

  it('without a date in name or content and no mtime (stdin, a POST), the run is as of the time received', async () => {
    const s = await named(steps(1), 'stdin', 'order-c');
    expect(s.asOf?.source).toBe('received');
    expect(Math.abs(Date.parse(s.asOf!.at) - Date.now())).toBeLessThan(60_000);
  });
});

describe('a v2 workout re-exported with a corrected start', () => {
  const workout = (start: string, end: string, t: (m: number) => string) =>
    hae({
      workouts: [
        {
          id: 'MOVED-1', name: 'Outdoor Run', start, end, duration: 1800,
          route: [0, 1].map((m) => ({ latitude: 52.5 + m / 1000, longitude: 13.4, timestamp: t(m) })),
          heartRateData: [{ date: t(1), Min: 120, Avg: 130, Max: 140 }],
          stepCount: [{ date: t(2), qty: 150, units: 'count' }],
        },
      ],
    });
  // First exported with the watch's clock an hour off, then corrected: the series move with it.
  const wrong = workout('2024-05-05 08:00:00 +0200', '2024-05-05 08:30:00 +0200', (m) => `2024-05-05 08:0${m}:00 +0200`);
  const right = workout('2024-05-05 07:00:00 +0200', '2024-05-05 07:30:00 +0200', (m) => `2024-05-05 07:0${m}:00 +0200`);
  const rowsOf = async (uid: number) => {
    const q = async (sql: string) => (await db.pool.query(sql, [uid])).rows.map((r) => r.t.toISOString());
    return {
      workouts: await q(`SELECT started_at AS t FROM workouts WHERE user_id = $1 ORDER BY 1`),
      route: await q(`SELECT recorded_at AS t FROM workout_routes WHERE user_id = $1 ORDER BY 1`),
      hr: await q(`SELECT recorded_at AS t FROM workout_heart_rate WHERE user_id = $1 ORDER BY 1`),
      series: await q(`SELECT recorded_at AS t FROM workout_series WHERE user_id = $1 ORDER BY 1`),
    };
  };
  const corrected = {
    workouts: ['2024-05-05T05:00:00.000Z'],
    route: ['2024-05-05T05:00:00.000Z', '2024-05-05T05:01:00.000Z'],
    hr: ['2024-05-05T05:01:00.000Z'],
    series: ['2024-05-05T05:02:00.000Z'],
  };

  it('replaces its earlier row and series: one workout, at the corrected start', async () => {
    await importSource(stringSource(wrong, 'HealthAutoExport-2024-05-05.json'), { pool: db.pool, user: 'mover' });
    const s = await importSource(stringSource(right, 'HealthAutoExport-2024-05-06.json'), { pool: db.pool, user: 'mover' });
    expect(s.workoutsMoved).toEqual(['MOVED-1']);
    expect(reconciles(s.totals)).toBe(true);
    expect(await rowsOf(s.userId!)).toEqual(corrected);
    // again: nothing moves, nothing changes
    const again = await importSource(stringSource(right, 'HealthAutoExport-2024-05-06.json'), { pool: db.pool, user: 'mover' });
    expect(again.workoutsMoved).toEqual([]);
    expect(again.totals.inserted + again.totals.updated).toBe(0);
  });

  it('an older export with the old start does not move it back (skipped, unchanged from a newer export)', async () => {
    await importSource(stringSource(right, 'HealthAutoExport-2024-05-06.json'), { pool: db.pool, user: 'mover-2' });
    const s = await importSource(stringSource(wrong, 'HealthAutoExport-2024-05-05.json'), { pool: db.pool, user: 'mover-2' });
    expect(s.workoutsMoved).toEqual([]);
    expect(s.totals).toMatchObject({ read: 5, inserted: 0, updated: 0, unchanged: 5 });
    expect(s.unchangedOlder).toEqual({ workouts: 1, workout_routes: 2, workout_heart_rate: 1, workout_series: 1 });
    expect(await rowsOf(s.userId!)).toEqual(corrected);
  });
});
