import { describe, expect, it } from 'vitest';
import { parseHaeDate } from '../../src/records/dates.js';
import { mapRecord, parseDevice } from '../../src/apple/map-record.js';
import { APPLE_TYPES, appleType, metricNameOf, snakeCase, workoutName } from '../../src/apple/type-map.js';
import { isKnownMetric } from '../../src/records/known-metrics.js';
import { detectFormat } from '../../src/import/detect.js';

describe('Apple type identifiers', () => {
  it('map onto the HAE metric names (every mapped name is one HAE writes)', () => {
    expect(appleType('HKQuantityTypeIdentifierStepCount')).toEqual({ metric: 'step_count', kind: 'quantity' });
    expect(appleType('HKQuantityTypeIdentifierActiveEnergyBurned').metric).toBe('active_energy');
    expect(appleType('HKQuantityTypeIdentifierBodyMass').metric).toBe('weight_body_mass');
    expect(appleType('HKQuantityTypeIdentifierOxygenSaturation').metric).toBe('blood_oxygen_saturation');
    expect(appleType('HKQuantityTypeIdentifierHeartRateVariabilitySDNN').metric).toBe('heart_rate_variability');
    expect(appleType('HKQuantityTypeIdentifierHeartRate')).toEqual({ metric: 'heart_rate', kind: 'heart_rate' });
    expect(appleType('HKCategoryTypeIdentifierSleepAnalysis')).toEqual({ metric: 'sleep_analysis', kind: 'sleep' });
    expect(appleType('HKQuantityTypeIdentifierDietaryVitaminB12').metric).toBe('dietary_vitamin_b12');
    expect(appleType('HKQuantityTypeIdentifierDietaryFatTotal').metric).toBe('dietary_fat_total');
    expect(appleType('HKQuantityTypeIdentifierDietaryEnergyConsumed').metric).toBe('dietary_energy');
    const notKnown = [...APPLE_TYPES.values()].map((t) => t.metric).filter((m) => !isKnownMetric(m));
    expect(notKnown.sort()).toEqual(['estimated_workout_effort_score', 'workout_effort_score']);
    expect(APPLE_TYPES.size).toBeGreaterThan(100);
  });

  it('stores an unknown identifier under its own snake_cased name', () => {
    expect(appleType('HKQuantityTypeIdentifierAppleFutureMetric2027')).toEqual({ metric: 'apple_future_metric_2027', kind: 'quantity' });
    expect(appleType('HKCategoryTypeIdentifierHeadache')).toEqual({ metric: 'headache', kind: 'category' });
    expect(metricNameOf('HKDataTypeIdentifierHeartbeatSeries')).toBe('heartbeat_series');
    expect(snakeCase('VO2Max')).toBe('vo2_max');
    expect(snakeCase('ForcedExpiratoryVolume1')).toBe('forced_expiratory_volume_1');
    expect(snakeCase('UVExposure')).toBe('uv_exposure');
    expect(snakeCase('HeartRateVariabilitySDNN')).toBe('heart_rate_variability_sdnn');
  });

  it('names workouts like HAE where the metadata says indoor or outdoor', () => {
    expect(workoutName('HKWorkoutActivityTypeRunning', false, null)).toBe('Outdoor Run');
    expect(workoutName('HKWorkoutActivityTypeWalking', true, null)).toBe('Indoor Walk');
    expect(workoutName('HKWorkoutActivityTypeCycling', null, null)).toBe('Cycling');
    expect(workoutName('HKWorkoutActivityTypeSwimming', null, '1')).toBe('Pool Swim');
    expect(workoutName('HKWorkoutActivityTypeTraditionalStrengthTraining', true, null)).toBe('Traditional Strength Training');
    expect(workoutName('HKWorkoutActivityTypeHighIntensityIntervalTraining', null, null)).toBe('High Intensity Interval Training');
  });

  it('maps record values: percent fractions, Cal, heart rate triples, sleep hours, rejects', () => {
    const base = { sourceName: 'W', startDate: '2024-01-15 08:30:00 -0800', endDate: '2024-01-15 08:30:00 -0800' };
    expect(mapRecord({ ...base, unit: '%', value: '0.97' }, appleType('HKQuantityTypeIdentifierOxygenSaturation'))).toMatchObject({ qty: 97, unit: '%', endTime: null });
    expect(mapRecord({ ...base, unit: 'Cal', value: '1.5' }, appleType('HKQuantityTypeIdentifierActiveEnergyBurned'))).toMatchObject({ qty: 1.5, unit: 'kcal' });
    expect(mapRecord({ ...base, unit: 'count/min', value: '61' }, appleType('HKQuantityTypeIdentifierHeartRate'))).toMatchObject({ kind: 'heart_rate', min: 61, avg: 61, max: 61 });
    expect(mapRecord({ ...base, endDate: '2024-01-15 10:00:00 -0800', value: 'HKCategoryValueSleepAnalysisAsleepREM' }, appleType('HKCategoryTypeIdentifierSleepAnalysis')))
      .toMatchObject({ kind: 'sleep_stage', stage: 'REM', qty: 1.5, unit: 'hr' });
    expect(mapRecord({ ...base, unit: 'count', value: 'abc' }, appleType('HKQuantityTypeIdentifierStepCount'))).toBe('step_count value "abc" is not a number');
    expect(mapRecord({ ...base, startDate: 'yesterday', value: '1' }, appleType('HKQuantityTypeIdentifierStepCount'))).toBe('step_count startDate "yesterday" is not a date');
    expect(mapRecord({ ...base, unit: '%', value: '1.5' }, appleType('HKQuantityTypeIdentifierOxygenSaturation'))).toMatch(/above 100/);
  });

  it('parses dates through the one parser (also the 12-hour form) and device descriptions', () => {
    expect(parseHaeDate('2024-01-15 08:30:00 -0800')).toBe(Date.UTC(2024, 0, 15, 16, 30));
    expect(parseHaeDate('2024-01-15 8:30:00\u202fPM -0800')).toBe(Date.UTC(2024, 0, 16, 4, 30));
    expect(parseHaeDate('2024-01-15 12:05:00 AM +0000')).toBe(Date.UTC(2024, 0, 15, 0, 5));
    expect(parseHaeDate('nope')).toBeNull();
    expect(parseDevice('<<HKDevice: 0x283d0a1c0>, name:Apple Watch, manufacturer:Apple Inc., model:Watch, hardware:Watch6,1, software:10.2>')).toEqual({
      name: 'Apple Watch', manufacturer: 'Apple Inc.', model: 'Watch', hardware: 'Watch6,1', software: '10.2',
    });
  });

  it('detects the format by content', () => {
    expect(detectFormat(Buffer.from('\ufeff\n  <?xml version="1.0"?><HealthData>'))).toBe('apple-xml');
    expect(detectFormat(Buffer.from('<HealthData locale="en_US">'))).toBe('apple-xml');
    expect(detectFormat(Buffer.from('<!DOCTYPE HealthData [ ]>'))).toBe('apple-xml');
    expect(detectFormat(Buffer.from(' {"data":{}}'))).toBe('hae-json');
    expect(detectFormat(Buffer.from('<html>nope</html>'))).toBe('hae-json');
  });
});
