import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { mapSlice } from '../../src/hae/map.js';
import { NEGATIVE_ALLOWED_SUBSTRINGS } from '../../src/records/bounds.js';
import { isKnownMetric } from '../../src/records/known-metrics.js';
import type {
  HealthRecord,
  MapResult,
  RecordKind,
  RecordReject,
  RoutePointRecord,
  WorkoutHeartRateRecord,
  WorkoutRecord,
  WorkoutSeriesRecord,
} from '../../src/records/model.js';

// Expected instants are computed by hand with Date.UTC, never with the parser under test.
const T0830_PST = Date.UTC(2024, 0, 15, 16, 30); // 2024-01-15 08:30:00 -0800

const metric = (name: string | undefined, units: string | undefined, point: unknown) =>
  mapSlice('metrics', name, units, point);

function only(r: MapResult): HealthRecord {
  expect(r.rejects).toEqual([]);
  expect(r.records).toHaveLength(1);
  return r.records[0];
}

function rejected(r: MapResult): RecordReject {
  expect(r.records).toEqual([]);
  expect(r.rejects).toHaveLength(1);
  return r.rejects[0];
}

function ofKind<K extends RecordKind>(r: MapResult, kind: K): Extract<HealthRecord, { kind: K }>[] {
  return r.records.filter((x) => x.kind === kind) as Extract<HealthRecord, { kind: K }>[];
}

const sha1_32 = (s: string) => createHash('sha1').update(s).digest('hex').slice(0, 32);

// ------------------------------------------------------------------------------------------------

describe('metrics: generic quantities', () => {
  it('step_count → QuantityRecord with the metric unit', () => {
    const r = only(
      metric('step_count', 'count', {
        date: '2024-01-15 08:30:00 -0800',
        qty: 123,
        source: "Jane's iPhone|Jane's Apple Watch",
      }),
    );
    expect(r).toEqual({
      kind: 'quantity',
      metric: 'step_count',
      unit: 'count',
      time: T0830_PST,
      endTime: null,
      source: "Jane's iPhone|Jane's Apple Watch",
      qty: 123,
      text: null,
      extra: null,
    });
  });

  it('an unknown metric name is stored as a quantity, and reported as unknown', () => {
    const r = only(metric('cognitive_load_index', 'score', { date: '2026-06-01 07:00:00 +0200', qty: 4.2, source: 'Watch' }));
    expect(r).toMatchObject({ kind: 'quantity', metric: 'cognitive_load_index', unit: 'score', qty: 4.2, time: Date.UTC(2026, 5, 1, 5, 0) });
    expect(isKnownMetric('cognitive_load_index')).toBe(false);
    expect(isKnownMetric('step_count')).toBe(true);
  });

  it('source defaults to empty string', () => {
    const r = only(metric('active_energy', 'kcal', { date: '2024-01-15 08:30:00 -0800', qty: 0.52 }));
    expect(r).toMatchObject({ source: '', qty: 0.52, unit: 'kcal' });
  });

  it("a datapoint's own units win over the metric's", () => {
    const r = only(metric('weight_body_mass', 'kg', { date: '2024-01-15 07:02:00 -0800', qty: 172.4, units: 'lb', source: 'Scale' }));
    expect(r).toMatchObject({ unit: 'lb', qty: 172.4, extra: null });
  });

  it('numeric strings are accepted and converted', () => {
    const r = only(metric('dietary_water', 'mL', { date: '2024-01-15 12:00:00 -0800', qty: '12.5' }));
    expect(r).toMatchObject({ qty: 12.5 });
    expect(only(metric('dietary_water', 'mL', { date: '2024-01-15 12:00:00 -0800', qty: '1e3' }))).toMatchObject({ qty: 1000 });
  });

  it('extra fields (mealTime, metadata, reason) are preserved; modelled ones are not repeated', () => {
    const meta = { HKWasUserEntered: 1, device: 'Dexcom G7' };
    const r = only(
      metric('blood_glucose', 'mg/dL', {
        date: '2024-01-15 08:30:00 -0800',
        qty: 104,
        source: 'Dexcom',
        mealTime: 'Before Meal',
        metadata: meta,
      }),
    );
    expect(r).toMatchObject({ kind: 'quantity', qty: 104, extra: { mealTime: 'Before Meal', metadata: meta } });
    expect(Object.keys((r as { extra: object }).extra)).toEqual(['mealTime', 'metadata']);

    const ins = only(metric('insulin_delivery', 'IU', { date: '2024-01-15 08:35:00 -0800', qty: 4, reason: 'Bolus', source: 'Omnipod' }));
    expect(ins).toMatchObject({ qty: 4, extra: { reason: 'Bolus' } });
  });

  it('a category sample with a string value → text, qty null', () => {
    const r = only(metric('headache', '', { date: '2024-01-15 14:00:00 -0800', value: 'Mild', source: 'Health' }));
    expect(r).toMatchObject({ kind: 'quantity', metric: 'headache', qty: null, text: 'Mild', extra: null });
  });

  it('an interval sample: startDate → time, endDate → endTime', () => {
    const r = only(
      metric('mindful_minutes', 'min', {
        startDate: '2024-01-15 21:00:00 -0800',
        endDate: '2024-01-15 21:10:00 -0800',
        qty: 10,
        source: 'Breathe',
      }),
    );
    expect(r).toMatchObject({ time: Date.UTC(2024, 0, 16, 5, 0), endTime: Date.UTC(2024, 0, 16, 5, 10), qty: 10, extra: null });
  });

  it('negative values are kept for metrics on the allowlist', () => {
    const wrist = only(metric('apple_sleeping_wrist_temperature', 'degC', { date: '2024-01-15 00:00:00 -0800', qty: -0.42 }));
    expect(wrist).toMatchObject({ qty: -0.42 });
    expect(only(metric('underwater_temperature', 'degC', { date: '2024-01-15 00:00:00 -0800', qty: -1.5 }))).toMatchObject({ qty: -1.5 });
    expect(only(metric('elevation_change', 'm', { date: '2024-01-15 00:00:00 -0800', qty: -12 }))).toMatchObject({ qty: -12 });
    expect(NEGATIVE_ALLOWED_SUBSTRINGS).toContain('temperature');
  });

  it('a percentage of exactly 100 is fine', () => {
    expect(only(metric('blood_oxygen_saturation', '%', { date: '2024-01-15 03:00:00 -0800', qty: 100 }))).toMatchObject({ qty: 100 });
  });

  it('a __proto__ key in the JSON lands in extra without touching the prototype', () => {
    const point = JSON.parse('{"date":"2024-01-15 08:30:00 -0800","qty":1,"__proto__":{"polluted":true}}');
    const r = only(metric('step_count', 'count', point)) as { extra: Record<string, unknown> };
    expect(Object.getPrototypeOf(r.extra)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(r.extra, '__proto__')?.value).toEqual({ polluted: true });
    expect((r.extra as { polluted?: unknown }).polluted).toBeUndefined();
  });
});

describe('metrics: rejects', () => {
  const D = '2024-01-15 08:30:00 -0800';
  it.each([
    ['step_count', 'count', { qty: 5 }, 'step_count date missing'],
    ['step_count', 'count', { date: '2024-02-30 08:00:00 -0800', qty: 5 }, 'step_count date "2024-02-30 08:00:00 -0800" is not a date'],
    ['step_count', 'count', { date: '2024-01-15 25:00:00 -0800', qty: 5 }, 'step_count date "2024-01-15 25:00:00 -0800" is not a date'],
    ['step_count', 'count', { date: D, qty: 'lots' }, 'step_count qty "lots" is not a number'],
    ['step_count', 'count', { date: D, qty: '12,5' }, 'step_count qty "12,5" is not a number'],
    ['step_count', 'count', { date: D, qty: true }, 'step_count qty true is not a number'],
    ['step_count', 'count', { date: D, qty: {} }, 'step_count qty {} is not a number'],
    ['step_count', 'count', { date: D, qty: -5 }, 'step_count qty -5 is negative'],
    ['distance_walking_running', 'km', { date: D, qty: -0.3 }, 'distance_walking_running qty -0.3 is negative'],
    ['some_future_metric', 'count', { date: D, qty: -1 }, 'some_future_metric qty -1 is negative'],
    ['body_fat_percentage', '%', { date: D, qty: 140 }, 'body_fat_percentage qty 140 % is above 100'],
    ['step_count', 'count', { date: D, source: 'Watch' }, 'step_count has no qty or value'],
    ['mindful_minutes', 'min', { startDate: D, endDate: '2024-01-15 08:00:00 -0800', qty: 5 }, 'mindful_minutes endDate "2024-01-15 08:00:00 -0800" is before its start "2024-01-15 08:30:00 -0800"'],
    ['mindful_minutes', 'min', { startDate: D, endDate: 'soon', qty: 5 }, 'mindful_minutes endDate "soon" is not a date'],
  ])('%s %j → %s', (name, units, point, reason) => {
    const rj = rejected(metric(name, units, point));
    expect(rj.reason).toBe(reason);
    expect(rj.kind).toBe('quantity');
    expect(rj.pathSuffix).toBe('');
  });

  it('missing or empty metric name', () => {
    expect(rejected(metric(undefined, 'count', { date: D, qty: 1 })).reason).toBe('metric name missing');
    expect(rejected(metric('', 'count', { date: D, qty: 1 })).reason).toMatch(/metric name "" is empty/);
  });

  it('a datapoint that is not an object', () => {
    for (const v of [42, 'x', null, [1, 2], true]) {
      const rj = rejected(metric('step_count', 'count', v));
      expect(rj.reason).toMatch(/^step_count datapoint is not an object/);
      expect(rj.kind).toBe('quantity');
    }
    expect(rejected(metric('heart_rate', 'count/min', 7)).kind).toBe('heart_rate');
  });

  it('never throws on odd values', () => {
    const odd: unknown[] = [undefined, {}, { date: {} }, { date: [] }, { date: D, qty: [] }, { date: 1, qty: 1 }];
    for (const name of ['step_count', 'heart_rate', 'blood_pressure', 'sleep_analysis', 'x']) {
      for (const v of odd) expect(() => metric(name, undefined, v)).not.toThrow();
    }
  });
});

describe('metrics: heart_rate', () => {
  it('Min/Avg/Max', () => {
    const r = only(metric('heart_rate', 'count/min', { date: '2024-01-15 08:30:00 -0800', Min: 58, Avg: 71.5, Max: 96, source: 'Watch' }));
    expect(r).toEqual({ kind: 'heart_rate', time: T0830_PST, source: 'Watch', unit: 'count/min', min: 58, avg: 71.5, max: 96, extra: null });
  });

  it('lowercase min/avg/max and qty-as-avg', () => {
    expect(only(metric('heart_rate', 'count/min', { date: '2024-01-15 08:30:00 -0800', min: 60, avg: 62, max: 65 }))).toMatchObject({ min: 60, avg: 62, max: 65 });
    expect(only(metric('heart_rate', 'count/min', { date: '2024-01-15 08:30:00 -0800', qty: 64 }))).toMatchObject({ min: null, avg: 64, max: null });
  });

  it('extra fields are kept', () => {
    const r = only(metric('heart_rate', 'count/min', { date: '2024-01-15 08:30:00 -0800', Avg: 70, context: 'Sedentary' }));
    expect(r).toMatchObject({ extra: { context: 'Sedentary' } });
  });

  it.each([
    [{ Min: 50, Avg: 900, Max: 950 }, 'heart_rate Avg 900 is outside 1..300 bpm'],
    [{ Min: 0, Avg: 60, Max: 70 }, 'heart_rate Min 0 is outside 1..300 bpm'],
    [{ Min: 50, Avg: 60, Max: 301 }, 'heart_rate Max 301 is outside 1..300 bpm'],
    [{ Min: 50, Max: 70 }, 'heart_rate Avg missing'],
    [{ Avg: 'fast' }, 'heart_rate Avg "fast" is not a number'],
    [{ qty: 0 }, 'heart_rate qty 0 is outside 1..300 bpm'],
  ])('%j → %s', (fields, reason) => {
    const rj = rejected(metric('heart_rate', 'count/min', { date: '2024-01-15 08:30:00 -0800', ...fields }));
    expect(rj).toEqual({ kind: 'heart_rate', reason, pathSuffix: '' });
  });
});

describe('metrics: blood_pressure', () => {
  it('systolic/diastolic', () => {
    const r = only(metric('blood_pressure', 'mmHg', { date: '2024-01-15 08:30:00 -0800', systolic: 121, diastolic: 79, source: 'Omron' }));
    expect(r).toEqual({ kind: 'blood_pressure', time: T0830_PST, source: 'Omron', unit: 'mmHg', systolic: 121, diastolic: 79, extra: null });
  });

  it.each([
    [{ systolic: 20, diastolic: 15 }, 'blood_pressure systolic 20 is outside 30..300 mmHg'],
    [{ systolic: 320, diastolic: 80 }, 'blood_pressure systolic 320 is outside 30..300 mmHg'],
    [{ systolic: 120, diastolic: 5 }, 'blood_pressure diastolic 5 is outside 10..250 mmHg'],
    [{ systolic: 110, diastolic: 120 }, 'blood_pressure diastolic 120 is above systolic 110'],
    [{ diastolic: 80 }, 'blood_pressure systolic missing'],
    [{ systolic: 120 }, 'blood_pressure diastolic missing'],
  ])('%j → %s', (fields, reason) => {
    const rj = rejected(metric('blood_pressure', 'mmHg', { date: '2024-01-15 08:30:00 -0800', ...fields }));
    expect(rj).toEqual({ kind: 'blood_pressure', reason, pathSuffix: '' });
  });
});

describe('metrics: sleep_analysis', () => {
  const night = {
    date: '2024-01-15 00:00:00 -0800',
    totalSleep: 7.25,
    core: 4.1,
    deep: 1.05,
    rem: 2.1,
    awake: 0.3,
    inBed: 7.9,
    sleepStart: '2024-01-14 23:05:00 -0800',
    sleepEnd: '2024-01-15 06:40:00 -0800',
    inBedStart: '2024-01-14 22:50:00 -0800',
    inBedEnd: '2024-01-15 06:45:00 -0800',
    source: 'Watch',
  };

  it('aggregated night → SleepNightRecord', () => {
    const r = only(metric('sleep_analysis', 'hr', night));
    expect(r).toEqual({
      kind: 'sleep_night',
      time: Date.UTC(2024, 0, 15, 8, 0),
      source: 'Watch',
      unit: 'hr',
      totalSleep: 7.25,
      core: 4.1,
      deep: 1.05,
      rem: 2.1,
      awake: 0.3,
      inBed: 7.9,
      asleep: null,
      sleepStart: Date.UTC(2024, 0, 15, 7, 5),
      sleepEnd: Date.UTC(2024, 0, 15, 14, 40),
      inBedStart: Date.UTC(2024, 0, 15, 6, 50),
      inBedEnd: Date.UTC(2024, 0, 15, 14, 45),
      extra: null,
    });
  });

  it('older exports: asleep is the total; unknown fields kept', () => {
    const r = only(
      metric('sleep_analysis', 'hr', {
        date: '2022-05-02 00:00:00 +0100',
        asleep: 6.5,
        inBed: 7,
        sleepSource: 'Watch',
        inBedSource: 'iPhone',
      }),
    );
    expect(r).toMatchObject({
      kind: 'sleep_night',
      time: Date.UTC(2022, 4, 1, 23, 0),
      totalSleep: 6.5,
      asleep: 6.5,
      inBed: 7,
      core: null,
      sleepStart: null,
      source: '',
      extra: { sleepSource: 'Watch', inBedSource: 'iPhone' },
    });
  });

  it('2023+ shape: asleep 0 beside core/deep/rem and no totalSleep → total is their sum, asleep kept', () => {
    const r = only(
      metric('sleep_analysis', 'hr', {
        date: '2024-02-03 00:00:00 +0100', asleep: 0, core: 3.3, deep: 0.86, rem: 1.26, awake: 0.2, inBed: 0,
        sleepStart: '2024-02-02 23:40:00 +0100', sleepEnd: '2024-02-03 05:40:00 +0100', source: 'iPhone|Apple Watch',
      }),
    );
    expect(r).toMatchObject({ kind: 'sleep_night', totalSleep: 5.42, asleep: 0, core: 3.3, deep: 0.86, rem: 1.26, source: 'iPhone|Apple Watch', extra: null });
    // "asleep, stage unknown" beside stages counts too; a written totalSleep always wins
    expect(only(metric('sleep_analysis', 'hr', { date: '2024-02-03 00:00:00 +0100', asleep: 0.5, core: 3, deep: 1, rem: 1 }))).toMatchObject({ totalSleep: 5.5, asleep: 0.5 });
    expect(only(metric('sleep_analysis', 'hr', { date: '2024-02-03 00:00:00 +0100', totalSleep: 6, asleep: 0, core: 3, deep: 1, rem: 1 }))).toMatchObject({ totalSleep: 6, asleep: 0 });
  });

  it('a night with sleepStart/sleepEnd and no date (a third-party sleep app) is keyed on sleepEnd', () => {
    const r = only(
      metric('sleep_analysis', 'hr', {
        sleepStart: '2026-05-14 03:30:01 -0700', sleepEnd: '2026-05-14 08:14:04 -0700', asleep: 4.733, awake: 0.017,
        rem: 0, deep: 0, core: 0, inBed: 0, source: 'Band',
      }),
    );
    expect(r).toMatchObject({ kind: 'sleep_night', time: Date.UTC(2026, 4, 14, 15, 14, 4), sleepEnd: Date.UTC(2026, 4, 14, 15, 14, 4), totalSleep: 4.733, asleep: 4.733 });
  });

  it('unaggregated stage → SleepStageRecord', () => {
    const r = only(
      metric('sleep_analysis', 'hr', {
        startDate: '2024-01-15 01:10:00 -0800',
        endDate: '2024-01-15 01:52:30 -0800',
        qty: 0.7083,
        value: 'Deep',
        source: 'Watch',
      }),
    );
    expect(r).toEqual({
      kind: 'sleep_stage',
      time: Date.UTC(2024, 0, 15, 9, 10),
      endTime: Date.UTC(2024, 0, 15, 9, 52, 30),
      stage: 'Deep',
      source: 'Watch',
      unit: 'hr',
      qty: 0.7083,
      extra: null,
    });
  });

  it.each([
    [{ ...night, deep: -1 }, 'sleep_night', 'sleep_analysis deep -1 is negative'],
    [{ ...night, inBed: 25 }, 'sleep_night', 'sleep_analysis inBed 25 is above 24 hr (24 h)'],
    [{ ...night, totalSleep: 'long' }, 'sleep_night', 'sleep_analysis totalSleep "long" is not a number'],
    [{ ...night, sleepStart: 'last night' }, 'sleep_night', 'sleep_analysis sleepStart "last night" is not a date'],
    [{ ...night, sleepEnd: '2024-01-14 22:00:00 -0800' }, 'sleep_night', 'sleep_analysis sleepEnd "2024-01-14 22:00:00 -0800" is before sleepStart "2024-01-14 23:05:00 -0800"'],
    [{ ...night, date: undefined, sleepEnd: undefined }, 'sleep_night', 'sleep_analysis date missing (and no sleepEnd to key the night on)'],
    [{ ...night, date: undefined, sleepStart: undefined, sleepEnd: 'this morning' }, 'sleep_night', 'sleep_analysis sleepEnd "this morning" is not a date'],
    [{ ...night, totalSleep: undefined, asleep: 20, core: 5 }, 'sleep_night', 'sleep_analysis asleep + core + deep + rem = 28.15 is above 24 hr (24 h)'],
    [
      { startDate: '2024-01-15 01:00:00 -0800', endDate: '2024-01-16 02:00:00 -0800', value: 'Asleep' },
      'sleep_stage',
      'sleep_analysis stage "2024-01-15 01:00:00 -0800".."2024-01-16 02:00:00 -0800" is longer than 24 h',
    ],
    [
      { startDate: '2024-01-15 01:00:00 -0800', endDate: '2024-01-15 00:30:00 -0800', value: 'Core' },
      'sleep_stage',
      'sleep_analysis endDate "2024-01-15 00:30:00 -0800" is before startDate "2024-01-15 01:00:00 -0800"',
    ],
    [
      { startDate: '2024-01-15 01:00:00 -0800', endDate: '2024-01-15 01:30:00 -0800', qty: -0.5, value: 'Core' },
      'sleep_stage',
      'sleep_analysis qty -0.5 is negative',
    ],
    [{ startDate: '2024-01-15 01:00:00 -0800', endDate: '2024-01-15 01:30:00 -0800' }, 'sleep_stage', 'sleep_analysis value undefined is not a stage name'],
    [{ startDate: '2024-01-15 01:00:00 -0800', value: 'REM' }, 'sleep_stage', 'sleep_analysis endDate missing'],
  ])('%j → %s: %s', (point, kind, reason) => {
    expect(rejected(metric('sleep_analysis', 'hr', point))).toEqual({ kind, reason, pathSuffix: '' });
  });
});

// ------------------------------------------------------------------------------------------------

const V2_ID = '5B1F3C9E-2A4D-4E8B-9C1A-7D6E5F4A3B2C';

function v2Workout(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: V2_ID,
    name: 'Outdoor Run',
    start: '2024-01-15 07:00:00 -0800',
    end: '2024-01-15 07:30:00 -0800',
    duration: 1800,
    location: 'Outdoor',
    activeEnergyBurned: { qty: 312.4, units: 'kcal' },
    distance: { qty: 5.02, units: 'km' },
    intensity: { qty: 9.8, units: 'kcal/hr·kg' },
    elevationUp: { qty: 41, units: 'm' },
    avgSpeed: { qty: 10.04, units: 'km/hr' },
    temperature: { qty: 8.3, units: 'degC' },
    humidity: { qty: 71, units: '%' },
    metadata: { HKIndoorWorkout: 0 },
    heartRateData: [
      { date: '2024-01-15 07:00:00 -0800', Min: 92, Avg: 101, Max: 110, units: 'count/min', source: 'Watch' },
      { date: '2024-01-15 07:01:00 -0800', Min: 120, Avg: 128.5, Max: 136, units: 'count/min', source: 'Watch' },
    ],
    heartRateRecovery: [
      { date: '2024-01-15 07:30:00 -0800', Min: 150, Avg: 150, Max: 150, units: 'count/min', source: 'Watch' },
      { date: '2024-01-15 07:31:00 -0800', Min: 128, Avg: 128, Max: 128, units: 'count/min', source: 'Watch' },
    ],
    activeEnergy: [
      { date: '2024-01-15 07:00:00 -0800', qty: 10.2, units: 'kcal', source: 'Watch' },
      { date: '2024-01-15 07:01:00 -0800', qty: 11.7, units: 'kcal', source: 'Watch' },
    ],
    stepCount: [{ date: '2024-01-15 07:00:00 -0800', qty: 162, units: 'count', source: 'Watch' }],
    walkingAndRunningDistance: [{ date: '2024-01-15 07:00:00 -0800', qty: 0.17, units: 'km', source: 'Watch' }],
    route: [
      {
        latitude: 37.7749,
        longitude: -122.4194,
        altitude: 12.5,
        course: 91.2,
        courseAccuracy: 5,
        speed: 2.8,
        speedAccuracy: 0.4,
        horizontalAccuracy: 3.1,
        verticalAccuracy: 2.2,
        timestamp: '2024-01-15 07:00:05 -0800',
      },
      { latitude: 95.2, longitude: -122.4195, altitude: 12.6, timestamp: '2024-01-15 07:00:06 -0800' },
      { latitude: 37.7751, longitude: -122.4196, altitude: 12.8, timestamp: '2024-01-15T07:00:07-08:00' },
    ],
    ...over,
  };
}

function v1Workout(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'Outdoor Walk',
    start: '2021-06-05 18:00:00 +0100',
    end: '2021-06-05 18:45:00 +0100',
    duration: 2700,
    activeEnergy: { qty: 180, units: 'kcal' },
    distance: { qty: 2.4, units: 'mi' },
    elevation: { ascent: 12, descent: 11, units: 'ft' },
    stepCount: { qty: 5210, units: 'count' },
    temperature: { qty: 64, units: 'degF' },
    heartRateData: [
      { date: '2021-06-05 18:00:00 +0100', qty: 88, units: 'count/min' },
      { date: '2021-06-05 18:10:00 +0100', qty: 104, units: 'count/min' },
    ],
    heartRateRecovery: [],
    route: [
      { lat: 51.5007, lon: -0.1246, altitude: 11, timestamp: '2021-06-05 18:00:01 +0100' },
      { lat: 51.5008, lon: -0.1247, altitude: 11.2, timestamp: '2021-06-05 18:00:02 +0100' },
    ],
    ...over,
  };
}

describe('workouts: version 2', () => {
  const r = mapSlice('workouts', undefined, undefined, v2Workout());

  it('one WorkoutRecord with summary kept as written', () => {
    const w = ofKind(r, 'workout');
    expect(w).toHaveLength(1);
    expect(r.records[0].kind).toBe('workout');
    expect(w[0]).toEqual({
      kind: 'workout',
      workoutId: V2_ID,
      idDerived: false,
      exportVersion: 2,
      name: 'Outdoor Run',
      time: Date.UTC(2024, 0, 15, 15, 0),
      endTime: Date.UTC(2024, 0, 15, 15, 30),
      durationS: 1800,
      location: 'Outdoor',
      activeEnergy: { qty: 312.4, unit: 'kcal' },
      distance: { qty: 5.02, unit: 'km' },
      summary: {
        activeEnergyBurned: { qty: 312.4, units: 'kcal' },
        distance: { qty: 5.02, units: 'km' },
        intensity: { qty: 9.8, units: 'kcal/hr·kg' },
        elevationUp: { qty: 41, units: 'm' },
        avgSpeed: { qty: 10.04, units: 'km/hr' },
        temperature: { qty: 8.3, units: 'degC' },
        humidity: { qty: 71, units: '%' },
      },
      metadata: { HKIndoorWorkout: 0 },
      heartRateLooksLikeRecovery: false,
      routePoints: 2,
    } satisfies WorkoutRecord);
  });

  it('a bad route point is rejected; the workout and the other points survive', () => {
    expect(r.rejects).toEqual([
      {
        kind: 'route_point',
        reason: 'route point latitude 95.2 is outside -90..90',
        pathSuffix: '.route[1]',
        raw: { latitude: 95.2, longitude: -122.4195, altitude: 12.6, timestamp: '2024-01-15 07:00:06 -0800' },
      },
    ]);
    const pts = ofKind(r, 'route_point');
    expect(pts).toHaveLength(2);
    expect(pts[0]).toEqual({
      kind: 'route_point',
      workoutId: V2_ID,
      time: Date.UTC(2024, 0, 15, 15, 0, 5),
      seq: 0,
      latitude: 37.7749,
      longitude: -122.4194,
      altitude: 12.5,
      course: 91.2,
      courseAccuracy: 5,
      speed: 2.8,
      speedAccuracy: 0.4,
      horizontalAccuracy: 3.1,
      verticalAccuracy: 2.2,
    } satisfies RoutePointRecord);
    expect(pts[1]).toMatchObject({ latitude: 37.7751, time: Date.UTC(2024, 0, 15, 15, 0, 7), course: null, speed: null });
  });

  it('session and recovery heart rate', () => {
    const hr = ofKind(r, 'workout_heart_rate');
    expect(hr.map((h) => h.series)).toEqual(['session', 'session', 'recovery', 'recovery']);
    expect(hr[1]).toEqual({
      kind: 'workout_heart_rate',
      workoutId: V2_ID,
      series: 'session',
      time: Date.UTC(2024, 0, 15, 15, 1),
      source: 'Watch',
      unit: 'count/min',
      min: 120,
      avg: 128.5,
      max: 136,
    } satisfies WorkoutHeartRateRecord);
    expect(hr[3]).toMatchObject({ series: 'recovery', avg: 128, time: Date.UTC(2024, 0, 15, 15, 31) });
  });

  it('every other per-sample array becomes a WorkoutSeriesRecord named after the field', () => {
    const s = ofKind(r, 'workout_series');
    expect(s.map((x) => x.series)).toEqual(['activeEnergy', 'activeEnergy', 'stepCount', 'walkingAndRunningDistance']);
    expect(s[1]).toEqual({
      kind: 'workout_series',
      workoutId: V2_ID,
      series: 'activeEnergy',
      time: Date.UTC(2024, 0, 15, 15, 1),
      source: 'Watch',
      unit: 'kcal',
      qty: 11.7,
    } satisfies WorkoutSeriesRecord);
  });

  it('bad samples are rejected with their path; the rest is emitted', () => {
    const w = v2Workout();
    (w.heartRateData as unknown[]).push({ date: '2024-01-15 07:02:00 -0800', Min: 100, Avg: 900, Max: 950 });
    (w.stepCount as unknown[]).push({ date: 'later', qty: 5 }, { date: '2024-01-15 07:02:00 -0800', qty: -3 });
    const res = mapSlice('workouts', undefined, undefined, w);
    expect(res.rejects.map((x) => [x.kind, x.pathSuffix, x.reason])).toEqual([
      ['route_point', '.route[1]', 'route point latitude 95.2 is outside -90..90'],
      ['workout_heart_rate', '.heartRateData[2]', 'heartRateData Avg 900 is outside 1..300 bpm'],
      ['workout_series', '.stepCount[1]', 'stepCount date "later" is not a date'],
      ['workout_series', '.stepCount[2]', 'stepCount qty -3 is negative'],
    ]);
    expect(ofKind(res, 'workout')).toHaveLength(1);
    expect(ofKind(res, 'workout_heart_rate')).toHaveLength(4);
    expect(ofKind(res, 'workout_series')).toHaveLength(4);
  });

  it('route point rejects: longitude, timestamp, not an object', () => {
    const res = mapSlice(
      'workouts',
      undefined,
      undefined,
      v2Workout({
        route: [
          { latitude: 10, longitude: 181, timestamp: '2024-01-15 07:00:05 -0800' },
          { latitude: 10, longitude: 20, timestamp: '2024-01-15 07:00:61 -0800' },
          'nope',
          { latitude: 10, longitude: 20 },
          { latitude: -90, longitude: 180, timestamp: '2024-01-15 07:00:09 -0800' },
        ],
      }),
    );
    expect(res.rejects.map((x) => [x.pathSuffix, x.reason])).toEqual([
      ['.route[0]', 'route point longitude 181 is outside -180..180'],
      ['.route[1]', 'route point timestamp "2024-01-15 07:00:61 -0800" is not a date'],
      ['.route[2]', 'route point is not an object: "nope"'],
      ['.route[3]', 'route point timestamp missing'],
    ]);
    expect(ofKind(res, 'workout')[0].routePoints).toBe(1);
    expect(ofKind(res, 'route_point')[0]).toMatchObject({ latitude: -90, longitude: 180 });
  });
});

describe('workouts: version 1', () => {
  it('maps the v1 shape with a derived id', () => {
    const raw = v1Workout();
    const r = mapSlice('workouts', undefined, undefined, raw);
    expect(r.rejects).toEqual([]);
    const w = ofKind(r, 'workout')[0];
    expect(w).toEqual({
      kind: 'workout',
      workoutId: 'v1-' + sha1_32('Outdoor Walk|2021-06-05 18:00:00 +0100|2021-06-05 18:45:00 +0100'),
      idDerived: true,
      exportVersion: 1,
      name: 'Outdoor Walk',
      time: Date.UTC(2021, 5, 5, 17, 0),
      endTime: Date.UTC(2021, 5, 5, 17, 45),
      durationS: 2700,
      location: null,
      activeEnergy: { qty: 180, unit: 'kcal' },
      distance: { qty: 2.4, unit: 'mi' },
      summary: {
        activeEnergy: { qty: 180, units: 'kcal' },
        distance: { qty: 2.4, units: 'mi' },
        elevation: { ascent: 12, descent: 11, units: 'ft' },
        stepCount: { qty: 5210, units: 'count' },
        temperature: { qty: 64, units: 'degF' },
      },
      metadata: null,
      heartRateLooksLikeRecovery: false,
      routePoints: 2,
    } satisfies WorkoutRecord);
    expect(w.workoutId).toMatch(/^v1-[0-9a-f]{32}$/);

    const hr = ofKind(r, 'workout_heart_rate');
    expect(hr).toEqual([
      { kind: 'workout_heart_rate', workoutId: w.workoutId, series: 'session', time: Date.UTC(2021, 5, 5, 17, 0), source: '', unit: 'count/min', min: null, avg: 88, max: null },
      { kind: 'workout_heart_rate', workoutId: w.workoutId, series: 'session', time: Date.UTC(2021, 5, 5, 17, 10), source: '', unit: 'count/min', min: null, avg: 104, max: null },
    ]);
    const pts = ofKind(r, 'route_point');
    expect(pts).toHaveLength(2);
    expect(pts[0]).toEqual({
      kind: 'route_point',
      workoutId: w.workoutId,
      time: Date.UTC(2021, 5, 5, 17, 0, 1),
      seq: 0,
      latitude: 51.5007,
      longitude: -0.1246,
      altitude: 11,
      course: null,
      courseAccuracy: null,
      speed: null,
      speedAccuracy: null,
      horizontalAccuracy: null,
      verticalAccuracy: null,
    });
    expect(ofKind(r, 'workout_series')).toEqual([]);
  });

  it('id is stable for the same input and differs when start (or name) differs', () => {
    const id = (w: Record<string, unknown>) => ofKind(mapSlice('workouts', undefined, undefined, w), 'workout')[0].workoutId;
    const a = id(v1Workout());
    expect(id(v1Workout())).toBe(a);
    expect(id(JSON.parse(JSON.stringify(v1Workout())))).toBe(a);
    expect(id(v1Workout({ heartRateData: [] }))).toBe(a); // content other than name/start/end does not matter
    expect(id(v1Workout({ start: '2021-06-05 18:00:01 +0100' }))).not.toBe(a);
    expect(id(v1Workout({ name: 'Outdoor Run' }))).not.toBe(a);
    // the raw text counts: the same instant written with another offset is another id
    expect(id(v1Workout({ start: '2021-06-05 17:00:00 +0000' }))).not.toBe(a);
  });

  it('an empty id string is not a v2 id', () => {
    const w = ofKind(mapSlice('workouts', undefined, undefined, v1Workout({ id: '' })), 'workout')[0];
    expect(w.exportVersion).toBe(1);
    expect(w.idDerived).toBe(true);
  });
});

describe('workouts: rejects of the workout itself', () => {
  it.each([
    [v2Workout({ name: undefined }), 'workout name missing'],
    [v2Workout({ name: '' }), 'workout name "" is empty or not a string'],
    [v2Workout({ start: undefined }), 'workout "Outdoor Run" start missing'],
    [v2Workout({ start: 'this morning' }), 'workout "Outdoor Run" start "this morning" is not a date'],
    [v2Workout({ end: '2024-01-15 07:99:00 -0800' }), 'workout "Outdoor Run" end "2024-01-15 07:99:00 -0800" is not a date'],
    [v2Workout({ end: '2024-01-15 06:59:00 -0800' }), 'workout "Outdoor Run" end "2024-01-15 06:59:00 -0800" is before start "2024-01-15 07:00:00 -0800"'],
  ])('%#: %s', (w, reason) => {
    expect(rejected(mapSlice('workouts', undefined, undefined, w))).toEqual({ kind: 'workout', reason, pathSuffix: '' });
  });

  it('not an object', () => {
    expect(rejected(mapSlice('workouts', undefined, undefined, [1])).reason).toBe('workout is not an object: [1]');
  });

  it('an unusable duration is null and kept in summary', () => {
    const w = ofKind(mapSlice('workouts', undefined, undefined, v2Workout({ duration: 'about 30 min' })), 'workout')[0];
    expect(w.durationS).toBeNull();
    expect(w.summary.duration).toBe('about 30 min');
    const w2 = ofKind(mapSlice('workouts', undefined, undefined, v2Workout({ duration: { qty: 30, units: 'min' } })), 'workout')[0];
    expect(w2.durationS).toBe(1800);
  });
});

describe('workouts: heartRateData that is really the recovery series', () => {
  // Workout 07:00–07:30 PST (15:00–15:30 UTC). Flat samples (Min == Avg == Max) from the end on.
  const flat = (t: string, bpm: number) => ({ date: t, Min: bpm, Avg: bpm, Max: bpm, units: 'count/min', source: 'Watch' });
  const recoveryLike = [
    flat('2024-01-15 07:30:00 -0800', 152),
    flat('2024-01-15 07:31:00 -0800', 131),
    flat('2024-01-15 07:32:00 -0800', 118),
  ];
  const looks = (over: Record<string, unknown>) =>
    ofKind(mapSlice('workouts', undefined, undefined, v2Workout(over)), 'workout')[0].heartRateLooksLikeRecovery;

  it('positive: flat, starts at end, spans 2 minutes, no heartRateRecovery', () => {
    expect(looks({ heartRateData: recoveryLike, heartRateRecovery: undefined })).toBe(true);
    expect(looks({ heartRateData: recoveryLike, heartRateRecovery: [] })).toBe(true);
    // starting 30 s before the end is within the minute of slack
    expect(looks({ heartRateData: [flat('2024-01-15 07:29:30 -0800', 150), flat('2024-01-15 07:31:30 -0800', 120)], heartRateRecovery: undefined })).toBe(true);
  });

  it('the data is still stored as session samples', () => {
    const r = mapSlice('workouts', undefined, undefined, v2Workout({ heartRateData: recoveryLike, heartRateRecovery: undefined }));
    const hr = ofKind(r, 'workout_heart_rate');
    expect(hr).toHaveLength(3);
    expect(hr.every((h) => h.series === 'session')).toBe(true);
  });

  it('negative: heartRateRecovery is present', () => {
    expect(looks({ heartRateData: recoveryLike })).toBe(false);
  });

  it('negative: samples are not flat', () => {
    const data = [...recoveryLike.slice(0, 2), { date: '2024-01-15 07:32:00 -0800', Min: 110, Avg: 118, Max: 125 }];
    expect(looks({ heartRateData: data, heartRateRecovery: undefined })).toBe(false);
  });

  it('negative: starts during the workout', () => {
    const data = [flat('2024-01-15 07:25:00 -0800', 150), flat('2024-01-15 07:26:00 -0800', 151)];
    expect(looks({ heartRateData: data, heartRateRecovery: undefined })).toBe(false);
  });

  it('negative: spans more than 3 minutes', () => {
    const data = [flat('2024-01-15 07:30:00 -0800', 150), flat('2024-01-15 07:35:00 -0800', 100)];
    expect(looks({ heartRateData: data, heartRateRecovery: undefined })).toBe(false);
  });

  it('negative: empty heartRateData', () => {
    expect(looks({ heartRateData: [], heartRateRecovery: undefined })).toBe(false);
  });
});

// ------------------------------------------------------------------------------------------------

describe('other sections → EventRecord', () => {
  it('stateOfMind with its own id', () => {
    const el = {
      id: 'A1B2C3D4-0000-4000-8000-000000000001',
      start: '2024-01-15 20:00:00 -0800',
      end: '2024-01-15 20:00:00 -0800',
      kind: 'momentaryEmotion',
      valence: 0.42,
      labels: ['Calm', 'Content'],
      associations: ['Family'],
    };
    expect(only(mapSlice('stateOfMind', undefined, undefined, el))).toEqual({
      kind: 'event',
      section: 'stateOfMind',
      time: Date.UTC(2024, 0, 16, 4, 0),
      endTime: Date.UTC(2024, 0, 16, 4, 0),
      eventKey: 'A1B2C3D4-0000-4000-8000-000000000001',
      source: '',
      data: el,
    });
  });

  it('without id: the key is a hash of the JSON text, stable and content-sensitive', () => {
    const el = { start: '2024-01-15 09:00:00 -0800', end: '2024-01-15 11:00:00 -0800', name: 'Headache', severity: 'Mild', source: 'Health' };
    const r = only(mapSlice('symptoms', undefined, undefined, el));
    expect(r).toMatchObject({
      kind: 'event',
      section: 'symptoms',
      time: Date.UTC(2024, 0, 15, 17, 0),
      endTime: Date.UTC(2024, 0, 15, 19, 0),
      eventKey: sha1_32(JSON.stringify(el)),
      source: 'Health',
    });
    const again = only(mapSlice('symptoms', undefined, undefined, JSON.parse(JSON.stringify(el))));
    expect((again as { eventKey: string }).eventKey).toBe((r as { eventKey: string }).eventKey);
    const other = only(mapSlice('symptoms', undefined, undefined, { ...el, severity: 'Severe' }));
    expect((other as { eventKey: string }).eventKey).not.toBe((r as { eventKey: string }).eventKey);
  });

  it('time from the first present field that parses: start, startDate, date, time, timestamp', () => {
    const at = (el: Record<string, unknown>) => (only(mapSlice('ecg', undefined, undefined, el)) as { time: number }).time;
    expect(at({ date: '2024-01-15 08:30:00 -0800', classification: 'Sinus Rhythm' })).toBe(T0830_PST);
    expect(at({ startDate: '2024-01-15T08:30:00-08:00', date: '2020-01-01' })).toBe(T0830_PST);
    expect(at({ time: '2024-01-15 08:30:00 -0800' })).toBe(T0830_PST);
    expect(at({ timestamp: '2024-01-15T16:30:00Z' })).toBe(T0830_PST);
    expect(at({ start: 'garbage', date: '2024-01-15 08:30:00 -0800' })).toBe(T0830_PST);
  });

  it('endTime from end or endDate, else null', () => {
    const r = only(mapSlice('medications', undefined, undefined, { date: '2024-01-15 08:30:00 -0800', endDate: '2024-01-15 08:31:00 -0800', name: 'Ibuprofen' }));
    expect(r).toMatchObject({ endTime: T0830_PST + 60_000 });
    const r2 = only(mapSlice('heartRateNotifications', undefined, undefined, { start: '2024-01-15 08:30:00 -0800', threshold: 120 }));
    expect(r2).toMatchObject({ endTime: null });
  });

  it('the source from a string, or from the name of an object (real heart rate notifications), else empty; the element kept whole', () => {
    const el = {
      heartNotification: 'high_heart_rate_notification',
      start: '2024-01-15 08:30:00 -0800',
      end: '2024-01-15 08:40:00 -0800',
      threshold: { qty: 120, units: 'count/min' },
      heartRateData: [{ date: '2024-01-15 08:31:00 -0800', qty: 124 }],
      source: { name: 'Jane’s Apple Watch' },
    };
    expect(only(mapSlice('heartRateNotifications', undefined, undefined, el))).toMatchObject({ source: 'Jane’s Apple Watch', time: T0830_PST, data: el });
    expect(only(mapSlice('heartRateNotifications', undefined, undefined, { ...el, source: 'Watch' }))).toMatchObject({ source: 'Watch' });
    expect(only(mapSlice('heartRateNotifications', undefined, undefined, { ...el, source: { id: 7 } }))).toMatchObject({ source: '' });
    expect(only(mapSlice('heartRateNotifications', undefined, undefined, { ...el, source: null }))).toMatchObject({ source: '' });
  });

  it('an unknown section is mapped the same way', () => {
    const r = only(mapSlice('audiograms', undefined, undefined, { date: '2024-01-15 08:30:00 -0800', left: [20, 25] }));
    expect(r).toMatchObject({ kind: 'event', section: 'audiograms', time: T0830_PST });
  });

  it('rejects: no parseable time, not an object', () => {
    expect(rejected(mapSlice('cycleTracking', undefined, undefined, { start: 'yesterday', flow: 'Light' }))).toEqual({
      kind: 'event',
      reason: 'cycleTracking element has no parseable start/startDate/date/time/timestamp: start "yesterday"',
      pathSuffix: '',
    });
    expect(rejected(mapSlice('cycleTracking', undefined, undefined, { flow: 'Light' })).reason).toBe(
      'cycleTracking element has no parseable start/startDate/date/time/timestamp: none present',
    );
    expect(rejected(mapSlice('ecg', undefined, undefined, 'x')).reason).toBe('ecg element is not an object: "x"');
  });
});
