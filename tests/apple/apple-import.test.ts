import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BAD_XML, ECG_VOLTAGES, EXPORT_FILES, EXPORT_XML, PHONE, TRUNCATED_XML, WATCH } from '../../examples/apple/make-samples.js';
import { appleWorkoutId } from '../../src/apple/map-workout.js';
import { exitCodeFor } from '../../src/cli/import.js';
import { EXIT } from '../../src/errors.js';
import { importSource } from '../../src/import/run-import.js';
import type { ImportSummary } from '../../src/import/summary.js';
import { resolveInputs } from '../../src/input/open-input.js';
import { reconciles } from '../../src/load/outcome.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { hae, stringSource } from '../support/inputs.js';

const examples = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples/apple');
const utc = (s: string) => new Date(s).getTime();

describe('Apple Health export import', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: true });
  });
  afterAll(async () => db?.drop());

  const q = async (sql: string, params: unknown[] = []) => (await db.pool.query(sql, params)).rows;
  const importPath = async (p: string, user: string): Promise<ImportSummary> => {
    const sources = await resolveInputs([p]);
    expect(sources).toHaveLength(1);
    return importSource(sources[0], { pool: db.pool, user, batchRows: 5 });
  };
  const uid = async (user: string) => (await q(`SELECT id FROM users WHERE name = $1`, [user]))[0].id as number;

  it('export.zip: every element kind lands in its table with its values', async () => {
    const s = await importPath(path.join(examples, 'export.zip'), 'jane');
    expect(s.source).toBe(path.join(examples, 'export.zip') + ':apple_health_export/export.xml');
    expect(s.error).toBeNull();
    expect(s.status).toBe('ok');
    expect(reconciles(s.totals)).toBe(true);
    expect(s.totals.inserted).toBe(s.totals.read);
    expect(Object.fromEntries(Object.entries(s.tables).map(([t, c]) => [t, c.inserted]))).toEqual({
      activity_metrics: 18,
      heart_rate_metrics: 2,
      sleep_stages: 6,
      blood_pressure_metrics: 1,
      health_events: 4,
      workout_routes: 3,
      workouts: 2,
    });
    expect(s.unknownMetrics).toEqual(['apple_future_metric_2027', 'headache']);
    expect(s.metrics).toContain('step_count');
    expect(s.unknownKeys).toEqual(['ClinicalRecord']);
    const u = await uid('jane');

    const metrics = await q(
      `SELECT metric, recorded_at, ended_at, source, qty, text_value, unit, extra FROM activity_metrics WHERE user_id = $1 ORDER BY metric, recorded_at`,
      [u],
    );
    const m = (name: string) => metrics.filter((r) => r.metric === name);
    expect(m('step_count').map((r) => [r.recorded_at.toISOString(), r.ended_at?.toISOString() ?? null, r.qty, r.unit, r.source])).toEqual([
      ['2024-03-11T15:00:00.000Z', null, 120, 'count', WATCH],
      ['2024-03-11T16:00:00.000Z', null, 250, 'count', WATCH],
      ['2024-03-11T17:00:00.000Z', '2024-03-11T17:07:30.000Z', 512, 'count', WATCH],
    ]);
    expect(m('distance_walking_running')[0]).toMatchObject({ qty: 0.42, unit: 'km' });
    expect(m('active_energy')[0]).toMatchObject({ qty: 12.5, unit: 'kcal' }); // Cal is kcal
    expect(m('blood_oxygen_saturation')[0]).toMatchObject({ qty: 97, unit: '%' }); // 0.97 → 97 %
    expect(m('resting_heart_rate')[0]).toMatchObject({ qty: 54, unit: 'count/min' });
    expect(m('heart_rate_variability')[0]).toMatchObject({
      qty: 48.2,
      unit: 'ms',
      extra: { instantaneousBeatsPerMinute: [{ bpm: 58, time: '3:10:01.21 AM' }, { bpm: 61, time: '3:10:02.19 AM' }] },
    });
    expect(m('weight_body_mass')[0]).toMatchObject({ qty: 72.5, unit: 'kg', source: 'Withings Body+' });
    expect(m('blood_pressure_systolic')[0]).toMatchObject({ qty: 121, unit: 'mmHg' });
    expect(m('blood_pressure_diastolic')[0]).toMatchObject({ qty: 79, unit: 'mmHg' });
    expect(m('blood_glucose')[0]).toMatchObject({ qty: 98, unit: 'mg/dL', extra: { HKBloodGlucoseMealTime: '1' } });
    expect(m('dietary_energy')[0]).toMatchObject({ qty: 540, unit: 'kcal', source: 'MyFitnessPal' });
    expect(m('dietary_protein')[0]).toMatchObject({ qty: 31, unit: 'g' });
    expect(m('apple_future_metric_2027')[0]).toMatchObject({ qty: 3, unit: 'zz' });
    expect(m('headache')[0]).toMatchObject({ qty: null, text_value: 'HKCategoryValueSeverityMild', source: PHONE });
    expect(m('headache')[0].ended_at.toISOString()).toBe('2024-03-12T00:00:00.000Z');
    expect(m('mindful_minutes')[0]).toMatchObject({ qty: 10, unit: 'min' });
    expect(m('apple_stand_hour')[0]).toMatchObject({ qty: 1, unit: 'count', text_value: null });

    // Heart rate: one sample is its own min, mean and max.
    expect(await q(`SELECT recorded_at, min_bpm, avg_bpm, max_bpm, source, unit, extra FROM heart_rate_metrics WHERE user_id = $1 ORDER BY recorded_at`, [u])).toEqual([
      { recorded_at: new Date(utc('2024-03-11T15:30:00Z')), min_bpm: 62, avg_bpm: 62, max_bpm: 62, source: WATCH, unit: 'count/min', extra: { HKMetadataKeyHeartRateMotionContext: '1' } },
      { recorded_at: new Date(utc('2024-03-11T15:31:10Z')), min_bpm: 75, avg_bpm: 75, max_bpm: 75, source: WATCH, unit: 'count/min', extra: null },
    ]);
    const stages = await q(`SELECT stage, qty, unit, source, started_at, ended_at FROM sleep_stages WHERE user_id = $1 ORDER BY started_at`, [u]);
    expect(stages.map((r) => [r.stage, Math.round(r.qty * 1000) / 1000, r.unit])).toEqual([
      ['In Bed', 7.75, 'hr'],
      ['Core', 1.833, 'hr'],
      ['Deep', 0.75, 'hr'],
      ['REM', 0.75, 'hr'],
      ['Awake', 0.1, 'hr'],
      ['Asleep', 4.067, 'hr'],
    ]);
    expect(stages[0].source).toBe(PHONE);
    expect(stages[0].started_at.toISOString()).toBe('2024-03-11T06:00:00.000Z');
    expect(await q(`SELECT systolic, diastolic, source, unit, extra FROM blood_pressure_metrics WHERE user_id = $1`, [u])).toEqual([
      { systolic: 121, diastolic: 79, source: 'Withings BPM Connect', unit: 'mmHg', extra: { HKWasUserEntered: '0' } },
    ]);

    const workouts = await q(
      `SELECT workout_id, name, started_at, ended_at, duration_s, location, active_energy, active_energy_unit, distance, distance_unit,
              export_version, id_derived, route_points, summary, metadata FROM workouts WHERE user_id = $1 ORDER BY started_at`,
      [u],
    );
    expect(workouts).toHaveLength(2);
    const [run, lift] = workouts;
    const runId = appleWorkoutId('HKWorkoutActivityTypeRunning', utc('2024-03-12T14:00:00Z'), utc('2024-03-12T14:30:00Z'));
    expect(run).toMatchObject({
      workout_id: runId, name: 'Outdoor Run', duration_s: 1800, location: 'Outdoor', active_energy: 300, active_energy_unit: 'kcal',
      distance: 5.01, distance_unit: 'km', export_version: 2, id_derived: true, route_points: 3,
    });
    expect(run.metadata).toEqual({ HKIndoorWorkout: '0', HKTimeZone: 'America/Los_Angeles', HKWeatherTemperature: '52 degF' });
    expect(run.summary.source).toBe(WATCH);
    expect(run.summary.activityType).toBe('HKWorkoutActivityTypeRunning');
    expect(run.summary.device).toMatchObject({ name: 'Apple Watch', hardware: 'Watch6,1' });
    expect(run.summary.statistics.heart_rate).toEqual({ average: 148.5, minimum: 101, maximum: 171, unit: 'count/min' });
    expect(run.summary.statistics.active_energy).toEqual({ sum: 300, unit: 'kcal' });
    expect(run.summary.events.map((e: { type: string }) => e.type)).toEqual([
      'HKWorkoutEventTypePause', 'HKWorkoutEventTypeResume', 'HKWorkoutEventTypeSegment',
    ]);
    expect(run.summary.events[2].metadata).toEqual({ HKWorkoutEventMetadataKeySegmentIndex: '0' });
    expect(run.summary.routes[0].files).toEqual(['/workout-routes/route_2024-03-12_7.00am.gpx']);
    expect(lift).toMatchObject({
      name: 'Traditional Strength Training', location: 'Indoor', duration_s: 2700, active_energy: 210, active_energy_unit: 'kcal',
      distance: 0, distance_unit: 'km', route_points: 0,
    });

    expect(await q(
      `SELECT workout_id, recorded_at, latitude, longitude, altitude, speed, course, horizontal_accuracy, vertical_accuracy
         FROM workout_routes WHERE user_id = $1 ORDER BY recorded_at`,
      [u],
    )).toEqual([
      { workout_id: runId, recorded_at: new Date('2024-03-12T14:00:05Z'), latitude: 47.6, longitude: -122.3, altitude: 10.2, speed: 2.9, course: 181.2, horizontal_accuracy: 3.1, vertical_accuracy: 2.4 },
      { workout_id: runId, recorded_at: new Date('2024-03-12T14:00:10Z'), latitude: 47.60021, longitude: -122.30011, altitude: 10.8, speed: 3.1, course: 182, horizontal_accuracy: 3.1, vertical_accuracy: 2.4 },
      { workout_id: runId, recorded_at: new Date('2024-03-12T14:00:15Z'), latitude: 47.60043, longitude: -122.30025, altitude: 11.5, speed: 3, course: 183.4, horizontal_accuracy: 3.1, vertical_accuracy: 2.4 },
    ]);
    if (await db.hasPostgis()) {
      const [g] = await q(`SELECT ST_NPoints(route) AS n FROM workouts WHERE workout_id = $1`, [runId]);
      expect(g.n).toBe(3);
    }

    const events = await q(`SELECT section, event_key, recorded_at, ended_at, source, data FROM health_events WHERE user_id = $1 ORDER BY section, recorded_at`, [u]);
    expect(events.map((e) => [e.section, e.event_key])).toEqual([
      ['activitySummary', '2024-03-11'],
      ['activitySummary', '2024-03-12'],
      ['correlation', expect.stringMatching(/^apple-/)],
      ['ecg', `apple-ecg-${utc('2024-03-14T04:00:00Z')}`],
    ]);
    expect(events[0].data).toEqual({
      date: '2024-03-11', activeEnergyBurned: 452.25, activeEnergyBurnedGoal: 500, activeEnergyBurnedUnit: 'kcal', appleMoveTime: 0,
      appleMoveTimeGoal: 0, appleExerciseTime: 32, appleExerciseTimeGoal: 30, appleStandHours: 11, appleStandHoursGoal: 12,
    });
    expect(events[0].recorded_at.toISOString()).toBe('2024-03-11T00:00:00.000Z');
    expect(events[2].data).toMatchObject({ type: 'HKCorrelationTypeIdentifierFood', metadata: { HKFoodMeal: 'Lunch' } });
    const ecg = events[3];
    expect(ecg.source).toBe('Watch6,1');
    expect(ecg.ended_at.getTime() - ecg.recorded_at.getTime()).toBe(Math.round((30 / 512) * 1000));
    expect(ecg.data).toMatchObject({
      classification: 'Sinus Rhythm', sampleRateHz: 512, lead: 'Lead I', unit: 'µV', symptoms: null, softwareVersion: '2',
      device: 'Watch6,1', file: 'electrocardiograms/ecg_2024-03-13.csv', samples: 30, voltages: ECG_VOLTAGES,
    });
    expect(ecg.data).not.toHaveProperty('name');
    expect(ecg.data).not.toHaveProperty('dateOfBirth');

    const [ing] = await q(`SELECT status, bytes FROM raw_ingestions WHERE id = $1`, [s.ingestionId]);
    expect({ ...ing, bytes: Number(ing.bytes) }).toEqual({ status: 'ok', bytes: Buffer.byteLength(EXPORT_XML) });
  });

  it('re-importing the zip changes nothing', async () => {
    expect((await importPath(path.join(examples, 'export.zip'), 'again')).totals.inserted).toBe(36);
    const s = await importPath(path.join(examples, 'export.zip'), 'again');
    expect(s.status).toBe('ok');
    expect(s.totals.read).toBe(36);
    expect(s.totals.unchanged).toBe(s.totals.read);
  });

  it('the unzipped folder imports the same (routes and ECGs read from beside export.xml)', async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'he-apple-'));
    try {
      for (const [name, text] of Object.entries(EXPORT_FILES)) {
        const file = path.join(tmp, 'apple_health_export', name);
        await mkdir(path.dirname(file), { recursive: true });
        await writeFile(file, text);
      }
      const sources = await resolveInputs([tmp]);
      expect(sources.map((x) => path.relative(tmp, x.name))).toEqual([path.join('apple_health_export', 'export.xml')]);
      const s = await importSource(sources[0], { pool: db.pool, user: 'folder' });
      expect(s.status).toBe('ok');
      expect(s.totals.inserted).toBe(36);
      expect(s.tables.workout_routes.inserted).toBe(3);
      expect(s.tables.health_events.inserted).toBe(4);
      // Named directly, export.xml still finds its routes beside it.
      const [direct] = await resolveInputs([path.join(tmp, 'apple_health_export', 'export.xml')]);
      const again = await importSource(direct, { pool: db.pool, user: 'folder' });
      expect(again.totals.unchanged).toBe(36);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it('an HAE import and an Apple export of the same samples dedupe instead of doubling', async () => {
    const haeDoc = hae({
      metrics: [
        {
          name: 'step_count',
          units: 'count',
          data: [
            { date: '2024-03-11 08:00:00 -0700', qty: 120, source: WATCH },
            { date: '2024-03-11 09:00:00 -0700', qty: 250, source: WATCH },
          ],
        },
        { name: 'heart_rate', units: 'count/min', data: [{ date: '2024-03-11 08:31:10 -0700', Min: 75, Avg: 75, Max: 75, source: WATCH }] },
      ],
    });
    const first = await importSource(stringSource(haeDoc), { pool: db.pool, user: 'both' });
    expect(first.totals.inserted).toBe(3);
    const second = await importPath(path.join(examples, 'export.zip'), 'both');
    expect(second.error ?? null, JSON.stringify(second.error)).toBeNull();
    expect(second.status).toBe('ok');
    expect(second.tables.activity_metrics).toMatchObject({ read: 18, inserted: 16, updated: 0, unchanged: 2 });
    expect(second.tables.heart_rate_metrics).toMatchObject({ read: 2, inserted: 1, updated: 0, unchanged: 1 });
    const u = await uid('both');
    const [n] = await q(`SELECT count(*)::int AS n FROM activity_metrics WHERE user_id = $1 AND metric = 'step_count'`, [u]);
    expect(n.n).toBe(3);
    // Queries over heart_rate work for both sources: one row per instant and source.
    const [hr] = await q(`SELECT count(*)::int AS n, avg(avg_bpm)::float AS avg FROM heart_rate_metrics WHERE user_id = $1`, [u]);
    expect(hr).toEqual({ n: 2, avg: 68.5 });
  });

  it('rejects a malformed record with its reason and place, and stores the others', async () => {
    const s = await importPath(path.join(examples, 'export-bad.xml'), 'bad');
    expect(s.status).toBe('partial');
    expect(s.error).toBeNull();
    expect(exitCodeFor([s])).toBe(EXIT.partial);
    expect(s.tables.activity_metrics).toMatchObject({ read: 3, inserted: 2, rejected: 1 });
    expect(s.tables.heart_rate_metrics).toMatchObject({ read: 3, inserted: 1, rejected: 2 });
    expect(s.tables.workouts).toMatchObject({ read: 1, inserted: 0, rejected: 1 });
    const rows = await q(`SELECT target_table, json_path, byte_offset, reason, raw FROM ingestion_rejects WHERE ingestion_id = $1 ORDER BY byte_offset`, [s.ingestionId]);
    expect(rows.map((r) => [r.target_table, r.json_path, r.reason])).toEqual([
      ['activity_metrics', 'HealthData/Record[1]', 'step_count value "abc" is not a number'],
      ['heart_rate_metrics', 'HealthData/Record[2]', 'heart_rate startDate "yesterday" is not a date'],
      ['heart_rate_metrics', 'HealthData/Record[3]', 'heart_rate value 900 is outside 1..300 bpm'],
      ['workouts', 'HealthData/Workout[0]', expect.stringMatching(/endDate .* is before startDate/)],
    ]);
    const at = BAD_XML.lastIndexOf('<Record', BAD_XML.indexOf('value="abc"'));
    expect(Number(rows[0].byte_offset)).toBe(Buffer.byteLength(BAD_XML.slice(0, at)));
    expect(rows[0].raw).toMatch(/^<Record type="HKQuantityTypeIdentifierStepCount".*value="abc"\/>$/);
    const stored = await q(`SELECT qty FROM activity_metrics WHERE user_id = $1 ORDER BY recorded_at`, [await uid('bad')]);
    expect(stored.map((r) => r.qty)).toEqual([10, 30]);
  });

  it('a truncated export.xml fails (exit 2) after storing what precedes the cut', async () => {
    const s = await importPath(path.join(examples, 'export-truncated.xml'), 'trunc');
    expect(s.status).toBe('failed');
    expect(s.errorOffset).toBe(Buffer.byteLength(TRUNCATED_XML));
    expect(s.error).toMatch(/export-truncated\.xml: the XML ends early at byte \d+/);
    expect(exitCodeFor([s])).toBe(EXIT.input);
    expect(s.tables.activity_metrics.inserted).toBe(5);
    expect(s.tables.heart_rate_metrics.inserted).toBe(2);
    expect(reconciles(s.totals)).toBe(true);
    const [ing] = await q(`SELECT status, error FROM raw_ingestions WHERE id = $1`, [s.ingestionId]);
    expect(ing).toEqual({ status: 'failed', error: s.error });
  });

  it('XML that is not well-formed fails at the byte where it breaks, after storing what precedes', async () => {
    const good = EXPORT_XML.slice(0, EXPORT_XML.indexOf('<Record')) +
      '<Record type="HKQuantityTypeIdentifierStepCount" sourceName="W" unit="count" startDate="2024-06-01 10:00:00 -0700" endDate="2024-06-01 10:00:00 -0700" value="1"/>\n';
    const broken = good + '<Record type="HKQuantityTypeIdentifierStepCount" value="2" <oops/>\n' + '</HealthData>\n';
    const s = await importSource(stringSource(broken, 'broken.xml', 97), { pool: db.pool, user: 'broken' });
    expect(s.status).toBe('failed');
    expect(s.error).toMatch(/^broken\.xml: not well-formed XML at byte \d+ \(line \d+, column \d+\)/);
    // The `<` where an attribute name should be (97-byte chunks: offsets survive chunk boundaries).
    expect(s.errorOffset).toBe(Buffer.byteLength(broken.slice(0, broken.indexOf('<oops'))));
    expect(s.tables.activity_metrics.inserted).toBe(1);
  });

  it('export.xml read alone (stdin) stores everything but says the route could not be read', async () => {
    const s = await importSource(stringSource(EXPORT_XML, 'stdin'), { pool: db.pool, user: 'alone' });
    expect(s.status).toBe('partial');
    expect(s.tables.workouts.inserted).toBe(2);
    expect(s.tables.workout_routes).toMatchObject({ read: 1, rejected: 1 });
    const [r] = await q(`SELECT reason FROM ingestion_rejects WHERE ingestion_id = $1`, [s.ingestionId]);
    expect(r.reason).toMatch(/route file workout-routes\/route_2024-03-12_7\.00am\.gpx cannot be read/);
  });

  it('an XML file that is not an Apple export fails clearly', async () => {
    const s = await importSource(stringSource('<?xml version="1.0"?>\n<gpx><trk/></gpx>\n', 'route.gpx'), { pool: db.pool, user: 'x' });
    expect(s.status).toBe('failed');
    expect(s.error).toBe('route.gpx: not an Apple Health export: the root element is <gpx>, not <HealthData>');
    expect(s.errorOffset).toBe(22);
  });
});
