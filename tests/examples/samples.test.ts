/**
 * The sample exports in examples/ have the shapes and counts examples/README.md promises, and
 * the synthetic generator is deterministic, valid and counts what it writes.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import yauzl from 'yauzl';
import { afterAll, describe, expect, it } from 'vitest';
import { buildSamples } from '../../examples/build-samples.js';
import { generateExport, parseSize, TzClock } from '../../examples/generate.js';
import { makeZip, ZIP_ENTRY_NAME } from '../../examples/make-archives.js';

type Obj = Record<string, any>;

const EX = join(import.meta.dirname, '..', '..', 'examples');
const text = (name: string): string => readFileSync(join(EX, name), 'utf8');
const load = (name: string): Obj => JSON.parse(text(name)) as Obj;

const WATCH = 'Jane’s Apple Watch';
const PHONE = 'Jane’s iPhone';
const PHONE_WATCH = 'Jane’s iPhone|Jane’s Apple Watch';

/** Epoch ms of `2024-01-15 08:30:00 -0800` or `2024-01-15T08:30:00-08:00`; NaN otherwise. */
function parseDate(s: unknown): number {
  if (typeof s !== 'string') return Number.NaN;
  const m = /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.\d+)? ?([+-])(\d\d):?(\d\d)$/.exec(s);
  if (!m) return Number.NaN;
  const off = (m[7] === '-' ? -1 : 1) * (+m[8] * 60 + +m[9]);
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) - off * 60_000;
}

/** Every string value under `v` that looks like a date (HAE or ISO form). */
function dateStrings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') {
    if (/^\d{4}-\d\d-\d\d[ T]\d\d:\d\d/.test(v)) out.push(v);
  } else if (Array.isArray(v)) for (const x of v) dateStrings(x, out);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) dateStrings(x, out);
  return out;
}

const metricsOf = (doc: Obj): Map<string, Obj> => new Map((doc.data.metrics as Obj[]).map((m) => [m.name as string, m]));
const dayOf = (s: string): string => s.slice(0, 10);

describe('examples/: files are up to date', () => {
  it('every sample equals what build-samples.ts produces', () => {
    for (const [name, t] of Object.entries(buildSamples())) expect(text(name), name).toBe(t);
  });

  it('the .gz and .zip equal what make-archives.ts produces from sample-export.json', () => {
    const json = readFileSync(join(EX, 'sample-export.json'));
    expect(readFileSync(join(EX, 'sample-export.json.gz')).equals(gzipSync(json, { level: 9 }))).toBe(true);
    expect(readFileSync(join(EX, 'sample-export.zip')).equals(makeZip([{ name: ZIP_ENTRY_NAME, data: json }]))).toBe(true);
  });
});

describe('examples/: parsing', () => {
  it.each([
    'sample-export.json',
    'sample-export-later.json',
    'sleep-unaggregated.json',
    'bad-records.json',
    'not-hae.json',
  ])('%s is valid JSON', (name) => {
    expect(() => JSON.parse(text(name))).not.toThrow();
  });

  it('truncated-export.json is not valid JSON', () => {
    expect(() => JSON.parse(text('truncated-export.json'))).toThrow(SyntaxError);
  });

  it('the HAE samples use the envelope {"data": {...}}; not-hae.json does not', () => {
    for (const name of ['sample-export.json', 'sample-export-later.json', 'sleep-unaggregated.json', 'bad-records.json']) {
      const doc = load(name);
      expect(Object.keys(doc), name).toEqual(['data']);
      expect(Array.isArray(doc.data.metrics), name).toBe(true);
    }
    const geo = load('not-hae.json');
    expect(geo.data).toBeUndefined();
    expect(geo.type).toBe('FeatureCollection');
  });
});

describe('sample-export.json', () => {
  const doc = load('sample-export.json');
  const metrics = metricsOf(doc);

  it('has the documented metrics and counts (290 datapoints)', () => {
    const expected: Record<string, [string, number]> = {
      active_energy: ['kcal', 33],
      apple_exercise_time: ['min', 8],
      apple_future_metric_2027: ['count', 2],
      apple_stand_hour: ['count', 14],
      basal_energy_burned: ['kcal', 56],
      blood_glucose: ['mg/dL', 4],
      blood_oxygen_saturation: ['%', 6],
      blood_pressure: ['mmHg', 3],
      body_fat_percentage: ['%', 2],
      dietary_energy_consumed: ['kcal', 7],
      distance_walking_running: ['km', 24],
      environmental_audio_exposure: ['dBASPL', 5],
      flights_climbed: ['count', 5],
      headache: ['', 1],
      heart_rate: ['count/min', 56],
      heart_rate_variability: ['ms', 6],
      respiratory_rate: ['count/min', 6],
      resting_heart_rate: ['count/min', 3],
      sleep_analysis: ['hr', 3],
      step_count: ['count', 34],
      time_in_daylight: ['min', 5],
      vo2_max: ['ml/(kg·min)', 1],
      walking_speed: ['km/hr', 4],
      weight_body_mass: ['kg', 2],
    };
    const got: Record<string, [string, number]> = {};
    for (const [name, m] of metrics) got[name] = [m.units, m.data.length];
    expect(got).toEqual(expected);
    expect([...metrics.values()].reduce((a, m) => a + m.data.length, 0)).toBe(290);
  });

  it('every datapoint has a parseable date and a known source; dates ascend within each metric', () => {
    const sources = new Set<string>();
    for (const [name, m] of metrics) {
      let prev = -Infinity;
      for (const r of m.data as Obj[]) {
        const t = parseDate(r.date);
        expect(t, `${name} ${r.date}`).not.toBeNaN();
        expect(t, `${name} ${r.date}`).toBeGreaterThan(prev);
        prev = t;
        sources.add(r.source);
      }
    }
    expect(sources).toContain(WATCH);
    expect(sources).toContain(PHONE);
    expect(sources).toContain(PHONE_WATCH);
  });

  it('spans the 2024-03-10 spring-forward: both offsets, correct for Los Angeles, no 02:xx that day', () => {
    const all = dateStrings(doc);
    expect(all.length).toBeGreaterThan(600);
    expect(all.some((s) => s.endsWith(' -0800'))).toBe(true);
    expect(all.some((s) => s.endsWith(' -0700'))).toBe(true);
    expect(all.some((s) => s.endsWith('-08:00'))).toBe(true); // ISO form (stateOfMind)
    expect(all.filter((s) => s.startsWith('2024-03-10 02:'))).toEqual([]);
    const clock = new TzClock('America/Los_Angeles');
    for (const s of all) {
      const t = parseDate(s);
      expect(t, s).not.toBeNaN();
      if (!s.includes('T')) expect(clock.format(t), s).toBe(s);
    }
    const hr = metrics.get('heart_rate')!.data as Obj[];
    expect(hr.map((r) => r.date)).toEqual(
      expect.arrayContaining(['2024-03-10 01:00:00 -0800', '2024-03-10 03:00:00 -0700']),
    );
  });

  it('has the special shapes', () => {
    for (const r of metrics.get('heart_rate')!.data as Obj[]) {
      expect(typeof r.Min).toBe('number');
      expect(typeof r.Avg).toBe('number');
      expect(typeof r.Max).toBe('number');
      expect(r.Min).toBeLessThanOrEqual(r.Avg);
      expect(r.Avg).toBeLessThanOrEqual(r.Max);
      expect(r.qty).toBeUndefined();
    }
    for (const r of metrics.get('blood_pressure')!.data as Obj[]) expect(r.systolic).toBeGreaterThan(r.diastolic);
    const meals = (metrics.get('blood_glucose')!.data as Obj[]).map((r) => r.mealTime);
    expect(meals.every((x) => typeof x === 'string')).toBe(true);
    expect(new Set(meals)).toEqual(new Set(['Before Meal', 'After Meal', 'Unspecified']));
    const cat = metrics.get('headache')!.data[0] as Obj;
    expect(cat.qty).toBeUndefined();
    expect(typeof cat.value).toBe('string');
    for (const r of metrics.get('blood_oxygen_saturation')!.data as Obj[]) expect(r.qty).toBeLessThanOrEqual(100);
  });

  it('sleep nights are aggregated, dated at midnight, with durations consistent with their times', () => {
    const nights = metrics.get('sleep_analysis')!.data as Obj[];
    expect(nights.map((n) => n.date)).toEqual([
      '2024-03-09 00:00:00 -0800',
      '2024-03-10 00:00:00 -0800',
      '2024-03-11 00:00:00 -0700',
    ]);
    for (const n of nights) {
      for (const k of ['totalSleep', 'core', 'deep', 'rem', 'awake', 'inBed']) expect(typeof n[k], k).toBe('number');
      for (const k of ['sleepStart', 'sleepEnd', 'inBedStart', 'inBedEnd']) expect(parseDate(n[k]), k).not.toBeNaN();
      expect(n.totalSleep).toBeCloseTo(n.core + n.deep + n.rem, 2);
      const span = (parseDate(n.sleepEnd) - parseDate(n.sleepStart)) / 3_600_000;
      expect(n.totalSleep + n.awake).toBeCloseTo(span, 2);
      expect(n.inBed).toBeCloseTo((parseDate(n.inBedEnd) - parseDate(n.inBedStart)) / 3_600_000, 2);
    }
    // The DST night starts -0800 and ends -0700, and lasted about 7 h, not 8.
    expect(nights[1].sleepStart.endsWith('-0800') && nights[1].sleepEnd.endsWith('-0700')).toBe(true);
    expect(nights[1].totalSleep + nights[1].awake).toBeLessThan(7.1);
  });

  const workouts = doc.data.workouts as Obj[];

  it('has a v1 workout without id (Outdoor Run, {qty,units} summaries, lat/lon route, {date,qty,units} heart rate)', () => {
    const v1 = workouts.filter((w) => w.id === undefined);
    expect(v1).toHaveLength(1);
    const w = v1[0];
    expect(w.name).toBe('Outdoor Run');
    for (const k of ['activeEnergy', 'distance']) expect(Object.keys(w[k]).sort(), k).toEqual(['qty', 'units']);
    expect(Object.keys(w.elevation).sort()).toEqual(['ascent', 'descent', 'units']);
    expect(w.route.length).toBeGreaterThanOrEqual(45);
    for (const p of w.route) expect(Object.keys(p).sort()).toEqual(['altitude', 'lat', 'lon', 'timestamp']);
    for (const h of w.heartRateData) expect(Object.keys(h).sort()).toEqual(['date', 'qty', 'units']);
    expect(w.duration).toBe((parseDate(w.end) - parseDate(w.start)) / 1000);
  });

  it('has a full v2 workout', () => {
    const w = workouts.find((x) => x.id === 'A3B9C2D1-7E4F-4A6B-8C5D-2E1F0A9B8C7D')!;
    expect(w.id).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/);
    for (const k of ['id', 'name', 'start', 'end', 'duration', 'location', 'activeEnergyBurned', 'distance', 'intensity', 'avgSpeed', 'temperature', 'humidity', 'heartRateData', 'heartRateRecovery', 'activeEnergy', 'stepCount', 'route', 'metadata']) {
      expect(w, k).toHaveProperty(k);
    }
    expect(w.metadata).toEqual({});
    expect(w.location).toBe('Outdoor');
    for (const h of w.heartRateData) expect(Object.keys(h).sort()).toEqual(['Avg', 'Max', 'Min', 'date', 'source', 'units']);
    expect(w.route.length).toBeGreaterThanOrEqual(55);
    const keys = ['altitude', 'course', 'courseAccuracy', 'horizontalAccuracy', 'latitude', 'longitude', 'speed', 'speedAccuracy', 'timestamp', 'verticalAccuracy'];
    let prev = -Infinity;
    for (const p of w.route) {
      expect(Object.keys(p).sort()).toEqual(keys);
      expect(Math.abs(p.latitude)).toBeLessThanOrEqual(90);
      const t = parseDate(p.timestamp);
      expect(t).toBeGreaterThan(prev);
      prev = t;
    }
    expect(w.activeEnergy.length).toBeGreaterThan(10);
    expect(w.stepCount.length).toBeGreaterThan(10);
  });

  it('has two distinct workouts on the same day with the same name', () => {
    const byKey = new Map<string, Obj[]>();
    for (const w of workouts) {
      const k = `${w.name}|${dayOf(w.start)}`;
      byKey.set(k, [...(byKey.get(k) ?? []), w]);
    }
    const pairs = [...byKey.values()].filter((l) => l.length > 1);
    expect(pairs).toHaveLength(1);
    expect(pairs[0][0].id).not.toBe(pairs[0][1].id);
    expect(pairs[0][0].start).not.toBe(pairs[0][1].start);
  });

  it('has a v2 workout whose heartRateData is really the ~2-minute recovery series', () => {
    const quirky = workouts.filter(
      (w) =>
        w.id &&
        w.heartRateRecovery === undefined &&
        w.heartRateData?.length &&
        w.heartRateData.every((h: Obj) => h.Min === h.Avg && h.Avg === h.Max) &&
        parseDate(w.heartRateData[0].date) === parseDate(w.end),
    );
    expect(quirky.map((w) => w.name)).toEqual(['Elliptical']);
    const hr = quirky[0].heartRateData as Obj[];
    const span = parseDate(hr[hr.length - 1].date) - parseDate(hr[0].date);
    expect(span).toBeGreaterThanOrEqual(90_000);
    expect(span).toBeLessThanOrEqual(180_000);
    // every other workout's session heart rate starts at (or near) its start
    for (const w of workouts.filter((x) => x !== quirky[0] && x.heartRateData)) {
      expect(Math.abs(parseDate(w.heartRateData[0].date) - parseDate(w.start))).toBeLessThan(60_000);
    }
  });

  it('has a workout with an empty route array', () => {
    expect(workouts.some((w) => Array.isArray(w.route) && w.route.length === 0)).toBe(true);
  });

  it('has the newer sections, each small', () => {
    const d = doc.data;
    const sizes = Object.fromEntries(
      ['stateOfMind', 'ecg', 'symptoms', 'medications', 'cycleTracking', 'heartRateNotifications'].map((k) => [k, d[k].length]),
    );
    expect(sizes).toEqual({ stateOfMind: 2, ecg: 1, symptoms: 2, medications: 2, cycleTracking: 1, heartRateNotifications: 1 });
    const ecg = d.ecg[0];
    expect(ecg.voltageMeasurements.length).toBeGreaterThan(10);
    expect(ecg.voltageMeasurements.length).toBe(ecg.numberOfVoltageMeasurements);
    for (const k of ['classification', 'averageHeartRate', 'samplingFrequency', 'start', 'end']) expect(ecg, k).toHaveProperty(k);
    expect(parseDate(d.stateOfMind[0].start)).not.toBeNaN();
    expect(d.stateOfMind[0].start).toContain('T');
  });
});

describe('sample-export.json.gz and sample-export.zip', () => {
  const json = readFileSync(join(EX, 'sample-export.json'));

  it('gunzips to sample-export.json', () => {
    expect(gunzipSync(readFileSync(join(EX, 'sample-export.json.gz'))).equals(json)).toBe(true);
  });

  it('unzips (yauzl) to one entry equal to sample-export.json', async () => {
    const entries = await new Promise<{ name: string; data: Buffer }[]>((resolve, reject) => {
      yauzl.fromBuffer(readFileSync(join(EX, 'sample-export.zip')), { lazyEntries: true }, (err, zip) => {
        if (err || !zip) return reject(err);
        const out: { name: string; data: Buffer }[] = [];
        zip.on('error', reject);
        zip.on('end', () => resolve(out));
        zip.on('entry', (entry: yauzl.Entry) => {
          zip.openReadStream(entry, (e2, stream) => {
            if (e2 || !stream) return reject(e2);
            const chunks: Buffer[] = [];
            stream.on('data', (c: Buffer) => chunks.push(c));
            stream.on('error', reject);
            stream.on('end', () => {
              out.push({ name: entry.fileName, data: Buffer.concat(chunks) });
              zip.readEntry();
            });
          });
        });
        zip.readEntry();
      });
    });
    expect(entries.map((e) => e.name)).toEqual([ZIP_ENTRY_NAME]);
    expect(entries[0].data.equals(json)).toBe(true);
  });
});

/** Records of an export keyed as the importer identifies them (see README "expected outcome"). */
function keyed(doc: Obj): Map<string, { group: string; value: string }> {
  const out = new Map<string, { group: string; value: string }>();
  const d = doc.data;
  for (const m of d.metrics ?? []) {
    for (const r of m.data) out.set(`${m.name}|${parseDate(r.date ?? r.startDate)}|${r.source}`, { group: m.name, value: JSON.stringify(r) });
  }
  for (const w of d.workouts ?? []) {
    const id = w.id ?? `${w.name}|${parseDate(w.start)}|${parseDate(w.end)}`;
    const summary: Obj = {};
    for (const [k, v] of Object.entries(w)) {
      if (Array.isArray(v)) {
        for (const e of v as Obj[]) out.set(`w|${id}|${k}|${parseDate(e.date ?? e.timestamp)}`, { group: `workouts.${k}`, value: JSON.stringify(e) });
      } else summary[k] = v;
    }
    out.set(`w|${id}`, { group: 'workouts', value: JSON.stringify(summary) });
  }
  for (const [k, v] of Object.entries(d)) {
    if (k === 'metrics' || k === 'workouts') continue;
    for (const e of v as Obj[]) out.set(`${k}|${e.id ?? JSON.stringify(e)}`, { group: k, value: JSON.stringify(e) });
  }
  return out;
}

describe('sample-export-later.json', () => {
  it('gives the documented inserted / updated / unchanged counts when imported after sample-export.json', () => {
    const first = keyed(load('sample-export.json'));
    const later = keyed(load('sample-export-later.json'));
    const got: Record<string, [number, number, number]> = {};
    for (const [k, v] of later) {
      const r = (got[v.group] ??= [0, 0, 0]);
      const old = first.get(k);
      if (!old) r[0]++;
      else if (old.value !== v.value) r[1]++;
      else r[2]++;
    }
    // [inserted, updated, unchanged], as in examples/README.md
    expect(got).toEqual({
      active_energy: [4, 0, 2],
      apple_exercise_time: [1, 0, 1],
      apple_stand_hour: [2, 0, 2],
      basal_energy_burned: [4, 0, 2],
      dietary_energy_consumed: [1, 0, 1],
      distance_walking_running: [2, 0, 2],
      environmental_audio_exposure: [1, 0, 1],
      heart_rate: [4, 0, 2],
      resting_heart_rate: [0, 0, 1],
      sleep_analysis: [0, 0, 1],
      step_count: [3, 1, 2],
      workouts: [1, 0, 1],
      'workouts.route': [25, 0, 0],
      'workouts.heartRateData': [28, 0, 45],
      'workouts.heartRateRecovery': [3, 0, 3],
      'workouts.activeEnergy': [28, 0, 45],
      'workouts.stepCount': [28, 0, 0],
      stateOfMind: [1, 0, 0],
    });
  });

  it("re-sends today's running step_count hour with a larger, completed value", () => {
    const find = (name: string): Obj =>
      metricsOf(load(name)).get('step_count')!.data.find((r: Obj) => r.date === '2024-03-11 09:00:00 -0700');
    const a = find('sample-export.json');
    const b = find('sample-export-later.json');
    expect(a.source).toBe(PHONE_WATCH);
    expect(b.source).toBe(PHONE_WATCH);
    expect(a.qty).toBe(212);
    expect(b.qty).toBe(655);
  });
});

describe('bad-records.json', () => {
  const doc = load('bad-records.json');

  /** The documented rules, applied independently of the importer. */
  function problem(metric: string, r: Obj): string | null {
    if (r.date === undefined) return 'no date';
    if (Number.isNaN(parseDate(r.date))) return 'bad date';
    if (metric === 'heart_rate') {
      for (const k of ['Min', 'Avg', 'Max']) if (!(typeof r[k] === 'number' && r[k] >= 1 && r[k] <= 300)) return `${k} out of range`;
      return null;
    }
    if (metric === 'blood_pressure') return r.diastolic > r.systolic ? 'diastolic > systolic' : null;
    if (typeof r.qty !== 'number') return 'qty not a number';
    if (r.qty < 0) return 'negative';
    return null;
  }

  it('has the documented good and bad counts per metric', () => {
    const got: Record<string, [number, number]> = {};
    const bad: string[] = [];
    (doc.data.metrics as Obj[]).forEach((m, mi) => {
      got[m.name] = [0, 0];
      (m.data as Obj[]).forEach((r, i) => {
        const p = problem(m.name, r);
        got[m.name][p ? 1 : 0]++;
        if (p) bad.push(`metrics[${mi}].data[${i}]: ${p}`);
      });
    });
    expect(got).toEqual({
      active_energy: [3, 1],
      blood_pressure: [2, 1],
      heart_rate: [5, 1],
      resting_heart_rate: [2, 0],
      step_count: [4, 2],
      weight_body_mass: [2, 1],
    });
    expect(bad).toEqual([
      'metrics[0].data[1]: no date',
      'metrics[1].data[1]: diastolic > systolic',
      'metrics[2].data[3]: Avg out of range',
      'metrics[4].data[1]: negative',
      'metrics[4].data[3]: qty not a number',
      'metrics[5].data[1]: bad date',
    ]);
  });

  it('has one good workout whose route holds exactly one bad point (latitude 123 at route[7])', () => {
    const ws = doc.data.workouts as Obj[];
    expect(ws).toHaveLength(1);
    const route = ws[0].route as Obj[];
    expect(route).toHaveLength(12);
    const badIdx = route.map((p, i) => (Math.abs(p.latitude) > 90 || Math.abs(p.longitude) > 180 ? i : -1)).filter((i) => i >= 0);
    expect(badIdx).toEqual([7]);
    expect(route[7].latitude).toBe(123);
    expect(ws[0].heartRateData).toHaveLength(11);
    expect(ws[0].heartRateRecovery).toHaveLength(3);
  });

  it('keeps the repeated fall-back wall time as two distinct, valid instants', () => {
    const hr = metricsOf(doc).get('heart_rate')!.data as Obj[];
    expect(hr[1].date).toBe('2024-11-03 01:30:00 -0700');
    expect(hr[2].date).toBe('2024-11-03 01:30:00 -0800');
    expect(parseDate(hr[2].date) - parseDate(hr[1].date)).toBe(3_600_000);
  });
});

/** Closes the open arrays/objects of a JSON prefix that ends right after a complete value. */
function closeJson(prefix: string): string {
  const stack: string[] = [];
  let inStr = false;
  for (let i = 0; i < prefix.length; i++) {
    const c = prefix[i];
    if (inStr) {
      if (c === '\\') i++;
      else if (c === '"') inStr = false;
    } else if (c === '"') inStr = true;
    else if (c === '{') stack.push('}');
    else if (c === '[') stack.push(']');
    else if (c === '}' || c === ']') stack.pop();
  }
  return prefix + stack.reverse().join('');
}

describe('truncated-export.json', () => {
  const t = text('truncated-export.json');

  it('is a prefix of sample-export.json cut inside a record', () => {
    expect(text('sample-export.json').startsWith(t)).toBe(true);
    expect(Buffer.byteLength(t)).toBe(11_890);
    expect(t.endsWith('"mealTime":"Unsp')).toBe(true);
  });

  it('holds the documented complete records before the cut', () => {
    const lastComplete = t.lastIndexOf('},\n');
    const doc = JSON.parse(closeJson(t.slice(0, lastComplete + 1))) as Obj;
    const counts = Object.fromEntries((doc.data.metrics as Obj[]).map((m) => [m.name, m.data.length]));
    expect(counts).toEqual({
      active_energy: 33,
      apple_exercise_time: 8,
      apple_future_metric_2027: 2,
      apple_stand_hour: 14,
      basal_energy_burned: 56,
      blood_glucose: 2,
    });
    expect(Object.keys(doc.data)).toEqual(['metrics']);
  });
});

describe('sleep-unaggregated.json', () => {
  const stages = load('sleep-unaggregated.json').data.metrics[0].data as Obj[];

  it('holds stage intervals only, with the documented counts', () => {
    expect(stages).toHaveLength(35);
    const byValue: Record<string, number> = {};
    for (const s of stages) {
      expect(Object.keys(s).sort()).toEqual(['endDate', 'qty', 'source', 'startDate', 'value']);
      byValue[s.value] = (byValue[s.value] ?? 0) + 1;
    }
    expect(byValue).toEqual({ 'In Bed': 3, Core: 12, Deep: 4, REM: 7, Awake: 6, Asleep: 3 });
  });

  it('qty is the real duration in hours, also across the fall-back', () => {
    let prev = -Infinity;
    for (const s of stages) {
      const a = parseDate(s.startDate);
      const b = parseDate(s.endDate);
      expect(b).toBeGreaterThan(a);
      expect(s.qty).toBeCloseTo((b - a) / 3_600_000, 3);
      expect(a).toBeGreaterThanOrEqual(prev);
      prev = a;
    }
    const backwards = stages.filter((s) => s.endDate.slice(11, 19) < s.startDate.slice(11, 19) && dayOf(s.startDate) === dayOf(s.endDate));
    expect(backwards.map((s) => [s.startDate, s.endDate, s.qty, s.value])).toEqual([
      ['2024-11-03 01:40:00 -0700', '2024-11-03 01:15:00 -0800', 0.583, 'REM'],
    ]);
  });
});

describe('examples/generate.ts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hae-gen-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const size = 2 * 1024 * 1024;
  const opts = { sizeBytes: size, seed: 42, start: '2024-11-01', timeZone: 'America/Los_Angeles' };

  it('parses sizes', () => {
    expect(parseSize('2048')).toBe(2048);
    expect(parseSize('64KB')).toBe(64 * 1024);
    expect(parseSize('1.5mb')).toBe(1.5 * 1024 * 1024);
    expect(parseSize('1GB')).toBe(1024 ** 3);
    expect(() => parseSize('lots')).toThrow();
  });

  it('a 2 MB generation is deterministic, valid, counted right and time-ordered', async () => {
    const a = join(dir, 'a.json');
    const b = join(dir, 'b.json');
    const ra = await generateExport({ ...opts, out: a });
    const rb = await generateExport({ ...opts, out: b });
    const sha = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex');
    expect(sha(a)).toBe(sha(b));
    expect(rb).toEqual(ra);

    expect(ra.bytes).toBe(statSync(a).size);
    expect(ra.bytes).toBeGreaterThanOrEqual(size);
    expect(ra.bytes).toBeLessThan(size + 512 * 1024);

    const doc = JSON.parse(readFileSync(a, 'utf8')) as Obj;
    const counts: Record<string, number> = {};
    const add = (k: string, n: number): void => {
      if (n) counts[k] = (counts[k] ?? 0) + n;
    };
    const clock = new TzClock('America/Los_Angeles');
    const offsets = new Set<string>();
    const names = (doc.data.metrics as Obj[]).map((m) => m.name);
    expect(names).toEqual([...names].sort());
    for (const m of doc.data.metrics as Obj[]) {
      add(m.name, m.data.length);
      let prev = -Infinity;
      for (const r of m.data as Obj[]) {
        const t = parseDate(r.date);
        expect(t, `${m.name} ${r.date}`).toBeGreaterThan(prev);
        prev = t;
        offsets.add(r.date.slice(-5));
        expect(r.source).toMatch(/^(Jane’s|Withings)/);
      }
    }
    // Offsets are right for the zone (spot check: every heart-rate record).
    const hr = (doc.data.metrics as Obj[]).find((m) => m.name === 'heart_rate')!.data as Obj[];
    expect(hr.length).toBeGreaterThan(1000);
    for (const r of hr) expect(clock.format(parseDate(r.date))).toBe(r.date);
    expect(offsets).toEqual(new Set(['-0700', '-0800'])); // starts 2024-11-01: crosses the fall-back

    let prevStart = -Infinity;
    for (const w of doc.data.workouts as Obj[]) {
      add('workouts', 1);
      const s = parseDate(w.start);
      expect(s).toBeGreaterThan(prevStart);
      prevStart = s;
      for (const k of ['route', 'heartRateData', 'heartRateRecovery', 'activeEnergy', 'stepCount']) {
        if (!Array.isArray(w[k])) continue;
        add(`workouts.${k}`, w[k].length);
        let prev = -Infinity;
        for (const e of w[k] as Obj[]) {
          const t = parseDate(e.date ?? e.timestamp);
          expect(t).toBeGreaterThanOrEqual(prev);
          prev = t;
        }
      }
    }
    expect(counts).toEqual(ra.counts);
    expect(ra.totalRecords).toBe(Object.values(counts).reduce((x, y) => x + y, 0));
    expect(doc.data.workouts.length).toBeGreaterThan(0);
    expect(counts['workouts.route']).toBeGreaterThan(0);
  });

  it('a different seed gives different content', async () => {
    const c = join(dir, 'c.json');
    const rc = await generateExport({ ...opts, sizeBytes: 256 * 1024, seed: 7, out: c });
    const rd = await generateExport({ ...opts, sizeBytes: 256 * 1024, seed: 8, out: join(dir, 'd.json') });
    expect(readFileSync(c).equals(readFileSync(join(dir, 'd.json')))).toBe(false);
    expect(rc.bytes).toBeGreaterThanOrEqual(256 * 1024);
    expect(rd.bytes).toBeGreaterThanOrEqual(256 * 1024);
  });
});
