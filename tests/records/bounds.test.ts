/** The per-metric bounds table: documented, sane, and applied alike by the HAE and Apple readers. */
import { describe, expect, it } from 'vitest';
import { mapRecord } from '../../src/apple/map-record.js';
import { appleType } from '../../src/apple/type-map.js';
import { mapSlice } from '../../src/hae/map.js';
import { METRIC_BOUNDS, boundBroken } from '../../src/records/bounds.js';
import { isKnownMetric } from '../../src/records/known-metrics.js';

describe('METRIC_BOUNDS', () => {
  it('covers known metrics only, each range ordered and each bound with its reason', () => {
    for (const [metric, b] of Object.entries(METRIC_BOUNDS)) {
      expect(isKnownMetric(metric), metric).toBe(true);
      expect(b.why.length, metric).toBeGreaterThan(20);
      expect(Object.keys(b.units).length, metric).toBeGreaterThan(0);
      for (const [unit, [lo, hi]] of Object.entries(b.units)) expect(lo, `${metric} ${unit}`).toBeLessThanOrEqual(hi);
    }
    for (const m of ['resting_heart_rate', 'walking_heart_rate_average', 'heart_rate_variability', 'blood_oxygen_saturation', 'body_temperature', 'weight_body_mass', 'height', 'step_count', 'distance_walking_running', 'active_energy']) {
      expect(METRIC_BOUNDS[m], m).toBeDefined();
    }
  });

  it('boundBroken names the bound; inside it, other units, unknown metrics and odd names pass', () => {
    expect(boundBroken('resting_heart_rate', 'count/min', 400)).toBe(
      `resting_heart_rate qty 400 count/min is outside its bound 20..250 count/min (${METRIC_BOUNDS.resting_heart_rate.why})`,
    );
    expect(boundBroken('resting_heart_rate', 'count/min', 250)).toBeNull();
    expect(boundBroken('body_temperature', 'degC', 98.6)).toMatch(/outside its bound 10\.\.47 degC/);
    expect(boundBroken('body_temperature', 'degF', 98.6)).toBeNull();
    expect(boundBroken('weight_body_mass', 'stone', 9000)).toBeNull(); // a unit the table does not know
    expect(boundBroken('weight_body_mass', null, 9000)).toBeNull();
    expect(boundBroken('some_future_metric', 'count', 1e12)).toBeNull();
    expect(boundBroken('constructor', 'count', 1)).toBeNull();
    expect(boundBroken('height', '__proto__', 1)).toBeNull();
  });
});

describe('the HAE and Apple readers apply the same bounds', () => {
  const cases: [string, string, string, number, string][] = [
    // metric, HAE unit, Apple identifier, value, Apple unit
    ['resting_heart_rate', 'count/min', 'HKQuantityTypeIdentifierRestingHeartRate', 400, 'count/min'],
    ['heart_rate_variability', 'ms', 'HKQuantityTypeIdentifierHeartRateVariabilitySDNN', 2000, 'ms'],
    ['body_temperature', 'degC', 'HKQuantityTypeIdentifierBodyTemperature', 98.6, 'degC'],
    ['weight_body_mass', 'kg', 'HKQuantityTypeIdentifierBodyMass', 7000, 'kg'],
    ['height', 'cm', 'HKQuantityTypeIdentifierHeight', 1750, 'cm'],
    ['step_count', 'count', 'HKQuantityTypeIdentifierStepCount', 1_000_000, 'count'],
    ['active_energy', 'kcal', 'HKQuantityTypeIdentifierActiveEnergyBurned', 50_000, 'kcal'],
  ];

  it.each(cases)('%s %s: out of bounds is a reject naming the bound in both; in bounds is stored', (metric, unit, type, value, appleUnit) => {
    const date = '2024-01-15 08:30:00 -0800';
    const want = boundBroken(metric, unit, value);
    expect(want).toContain('outside its bound');
    const h = mapSlice('metrics', metric, unit, { date, qty: value, source: 'x' });
    expect(h.records).toEqual([]);
    expect(h.rejects.map((r) => r.reason)).toEqual([want]);
    const a = mapRecord({ type, unit: appleUnit, startDate: date, endDate: date, value: String(value), sourceName: 'x' }, appleType(type));
    expect(a).toBe(want);
    // a plausible value in the same unit passes both
    const ok = METRIC_BOUNDS[metric].units[unit][1];
    expect(mapSlice('metrics', metric, unit, { date, qty: ok, source: 'x' }).records).toHaveLength(1);
    expect(typeof mapRecord({ type, unit: appleUnit, startDate: date, endDate: date, value: String(ok) }, appleType(type))).toBe('object');
  });

  it('SpO2: Apple fractions become percent and meet the same 0..100 % bound as HAE', () => {
    const date = '2024-01-15 08:30:00 -0800';
    expect(mapSlice('metrics', 'blood_oxygen_saturation', '%', { date, qty: 97 }).records).toHaveLength(1);
    expect(mapSlice('metrics', 'blood_oxygen_saturation', '%', { date, qty: 140 }).rejects).toHaveLength(1);
    const t = appleType('HKQuantityTypeIdentifierOxygenSaturation');
    expect(mapRecord({ unit: '%', startDate: date, value: '0.97' }, t)).toMatchObject({ qty: 97 });
    expect(typeof mapRecord({ unit: '%', startDate: date, value: '1.4' }, t)).toBe('string');
  });
});
