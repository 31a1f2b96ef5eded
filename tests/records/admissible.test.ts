/**
 * recordProblem has a fast path (no allocation, a memory of texts found fine) and a slow one
 * that words the reason. For every record kind and every text and instant in it, an unstorable
 * value must be refused, whichever path sees it first, and a storable record must pass.
 */
import { describe, expect, it } from 'vitest';
import { MAX_KEY_BYTES, latestRecordMs, recordProblem } from '../../src/records/admissible.js';
import type { HealthRecord } from '../../src/records/model.js';

const T = Date.UTC(2024, 4, 1, 8);
const EXTRA = { note: 'fine', nested: [{ k: 'v' }] };

const SAMPLES: HealthRecord[] = [
  { kind: 'quantity', metric: 'step_count', unit: 'count', time: T, endTime: T + 60_000, source: 'Watch', qty: 5, text: 'x', extra: EXTRA },
  { kind: 'heart_rate', time: T, source: 'Watch', unit: 'count/min', min: 60, avg: 62, max: 65, extra: EXTRA },
  { kind: 'blood_pressure', time: T, source: 'Cuff', unit: 'mmHg', systolic: 120, diastolic: 80, extra: EXTRA },
  {
    kind: 'sleep_night', time: T, source: 'Watch', unit: 'hr', totalSleep: 7, core: 3, deep: 1, rem: 2, awake: 0.5, inBed: 8, asleep: 0,
    sleepStart: T - 8 * 3600_000, sleepEnd: T, inBedStart: T - 8.5 * 3600_000, inBedEnd: T, extra: EXTRA,
  },
  { kind: 'sleep_stage', time: T, endTime: T + 600_000, stage: 'Deep', source: 'Watch', unit: 'hr', qty: 0.2, extra: EXTRA },
  {
    kind: 'workout', workoutId: 'W1', idDerived: false, exportVersion: 2, name: 'Run', time: T, endTime: T + 1800_000, durationS: 1800,
    location: 'Outdoor', activeEnergy: { qty: 300, unit: 'kcal' }, distance: { qty: 5, unit: 'km' }, summary: { a: 'b' }, metadata: { c: 'd' },
    heartRateLooksLikeRecovery: false, routePoints: 0,
  },
  {
    kind: 'route_point', workoutId: 'W1', time: T, seq: 0, latitude: 52, longitude: 4, altitude: null, course: null, courseAccuracy: null,
    speed: null, speedAccuracy: null, horizontalAccuracy: null, verticalAccuracy: null,
  },
  { kind: 'workout_heart_rate', workoutId: 'W1', series: 'session', time: T, source: 'Watch', unit: 'bpm', min: null, avg: 120, max: null },
  { kind: 'workout_series', workoutId: 'W1', series: 'stepCount', time: T, source: 'Watch', unit: 'count', qty: 80 },
  { kind: 'event', section: 'stateOfMind', time: T, endTime: null, eventKey: 'som-1', source: 'iPhone', data: { valence: 0.2 } },
] as HealthRecord[];

const INSTANTS = ['time', 'endTime', 'sleepStart', 'sleepEnd', 'inBedStart', 'inBedEnd'];
/** Texts fixed by the code, never read from input. */
const NOT_INPUT = new Set(['kind', 'series:workout_heart_rate']);

const latest = latestRecordMs();
const withField = (r: HealthRecord, k: string, v: unknown) => ({ ...r, [k]: v }) as HealthRecord;

describe('recordProblem, every kind and field', () => {
  it.each(SAMPLES.map((r) => [r.kind, r] as const))('%s: storable as it is', (_kind, r) => {
    expect(recordProblem(r, latest)).toBeNull();
  });

  it.each(SAMPLES.map((r) => [r.kind, r] as const))('%s: a NUL or a lone surrogate in any text, an instant out of range', (_kind, r) => {
    const texts = Object.keys(r).filter((k) => typeof (r as unknown as Record<string, unknown>)[k] === 'string' && !NOT_INPUT.has(k) && !NOT_INPUT.has(`${k}:${r.kind}`));
    expect(texts.length).toBeGreaterThan(0);
    for (const k of texts) {
      // Seen fine first (the fast path remembers it), then broken: still refused.
      expect(recordProblem(r, latest)).toBeNull();
      expect(recordProblem(withField(r, k, `a\u0000b`), latest), `${r.kind}.${k} with NUL`).toMatch(/NUL/);
      expect(recordProblem(withField(r, k, `lone \ud800`), latest), `${r.kind}.${k} with a lone surrogate`).toMatch(/surrogate/);
    }
    for (const k of INSTANTS.filter((k) => typeof (r as unknown as Record<string, unknown>)[k] === 'number')) {
      expect(recordProblem(withField(r, k, Date.UTC(1850, 0, 1)), latest), `${r.kind}.${k} in 1850`).toMatch(/outside the accepted range/);
      expect(recordProblem(withField(r, k, latest + 1), latest), `${r.kind}.${k} past tomorrow`).toMatch(/outside the accepted range/);
      expect(recordProblem(withField(r, k, NaN), latest), `${r.kind}.${k} NaN`).not.toBeNull();
    }
    const json = Object.keys(r).filter((k) => ['extra', 'summary', 'metadata', 'data'].includes(k));
    for (const k of json) {
      expect(recordProblem(withField(r, k, { deep: [{ bad: 'x\u0000' }] }), latest), `${r.kind}.${k} holding a NUL`).toMatch(/NUL/);
      expect(recordProblem(withField(r, k, { ['key\u0000']: 1 }), latest), `${r.kind}.${k} with a NUL key`).toMatch(/NUL/);
    }
  });

  it('key length is counted in UTF-8 bytes: 1,000 two-byte characters pass, 2,001 ASCII do not', () => {
    const q = SAMPLES[0];
    // 1,000 units could be 3,000 bytes: the fast path hands it to the exact count.
    expect(recordProblem(withField(q, 'source', 'é'.repeat(1000 - 'step_count'.length)), latest)).toBeNull();
    expect(recordProblem(withField(q, 'source', 'x'.repeat(MAX_KEY_BYTES + 1 - 'step_count'.length)), latest)).toMatch(
      /metric \+ source is 2001 bytes long; at most 2000/,
    );
  });
});
