/**
 * Writes the small hand-made sample exports in examples/ (the JSON files are checked in; this
 * script is their source, so they can be regenerated after an edit here):
 *
 *   node --import tsx examples/build-samples.ts     # then: node --import tsx examples/make-archives.ts
 *
 * Every value below was chosen by hand (or drawn from a fixed seed); dates are formatted for
 * America/Los_Angeles with the offset in force at the instant (-0800 / -0700), so the files span
 * the US daylight-saving changes of 2024-03-10 (spring forward) and 2024-11-03 (fall back).
 * The expected counts documented in examples/README.md are printed at the end of a run and are
 * checked by tests/examples/samples.test.ts, which also checks that the files equal buildSamples().
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { TzClock, mulberry32, mix32, WATCH, PHONE, PHONE_WATCH } from './generate.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const MIN = 60_000;
const HOUR = 3_600_000;
const clock = new TzClock('America/Los_Angeles');

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

// ---------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------

/** UTC instant of a Los Angeles wall time `YYYY-MM-DD HH:MM[:SS]`; `fold` picks the later of an ambiguous (fall-back) time. */
function L(wall: string, fold: 0 | 1 = 0): number {
  const m = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d)(?::(\d\d))?$/.exec(wall);
  if (!m) throw new Error(`bad wall time ${wall}`);
  const w = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] ?? 0));
  const cands = [-420, -480].map((o) => w - o * MIN).filter((t, i) => clock.offsetAt(t) === [-420, -480][i]);
  cands.sort((a, b) => a - b);
  if (!cands.length) throw new Error(`${wall} does not exist in Los Angeles (spring-forward gap)`);
  return fold ? cands[cands.length - 1] : cands[0];
}
const D = (t: number): string => clock.format(t);
const ISO = (t: number): string => clock.formatIso(t);
const r2 = (x: number): number => Math.round(x * 100) / 100;
const r3 = (x: number): number => Math.round(x * 1000) / 1000;
function strHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = mix32(h, s.charCodeAt(i));
  return h;
}
const rng = (...keys: (string | number)[]): (() => number) =>
  mulberry32(mix32(...keys.map((k) => (typeof k === 'string' ? strHash(k) : k))));
const day = (t: number): string => D(t).slice(0, 10);
const hourOf = (t: number): number => +D(t).slice(11, 13);

/** Local hour starts from `from` to `to` inclusive (UTC steps: the skipped 02:00 never appears). */
function hours(from: string, to: string): number[] {
  const out: number[] = [];
  for (let t = L(from); t <= L(to); t += HOUR) out.push(t);
  return out;
}

/**
 * JSON text in the layout of the samples: containers expanded one member per line, except small
 * shallow values (a datapoint, a `{qty,units}`, a route point, a labels array) kept on one line;
 * a list of objects is always expanded, one element per line.
 */
function pretty(v: Json, indent = ''): string {
  const depth = (x: Json): number =>
    x !== null && typeof x === 'object' ? 1 + Math.max(0, ...Object.values(x).map(depth)) : 0;
  const hasObjectList = (x: Json): boolean =>
    x !== null &&
    typeof x === 'object' &&
    (Array.isArray(x) ? x.some((e) => e !== null && typeof e === 'object') : Object.values(x).some(hasObjectList));
  const flat = JSON.stringify(v);
  if (v === null || typeof v !== 'object') return flat;
  if (depth(v) <= 2 && flat.length <= 320 && !hasObjectList(v)) return flat;
  const inner = indent + '  ';
  if (Array.isArray(v)) {
    if (!v.length) return '[]';
    return '[\n' + v.map((x) => inner + pretty(x, inner)).join(',\n') + '\n' + indent + ']';
  }
  const keys = Object.keys(v);
  if (!keys.length) return '{}';
  return '{\n' + keys.map((k) => inner + JSON.stringify(k) + ': ' + pretty(v[k], inner)).join(',\n') + '\n' + indent + '}';
}

function write(name: string, text: string): void {
  writeFileSync(join(HERE, name), text);
  console.log(`wrote examples/${name} (${Buffer.byteLength(text)} bytes)`);
}

const metric = (name: string, units: string, data: Obj[]): Obj => ({ name, units, data });
const q = (t: number, qty: number, source: string, extra: Obj = {}): Obj => ({ date: D(t), qty, source, ...extra });

// ---------------------------------------------------------------------------------------------
// The person's days: 2024-03-09 (Sat) .. 2024-03-11 (Mon); clocks spring forward 2024-03-10 02:00
// ---------------------------------------------------------------------------------------------

/** Hourly step counts by local day; index = local hour (hour 2 of 03-10 does not exist). */
const STEPS: Record<string, number[]> = {
  //            00 01 02 03 04 05  06    07   08   09    10    11   12   13  14    15   16    17   18   19   20   21  22 23
  '2024-03-09': [0, 0, 0, 0, 0, 0, 112, 5489, 642, 380, 1210, 95, 860, 432, 0, 1544, 310, 2788, 935, 402, 188, 96, 0, 0],
  '2024-03-10': [0, 0, 0, 0, 0, 0, 0, 64, 388, 720, 3904, 1822, 640, 215, 1304, 507, 1690, 1210, 1020, 455, 230, 58, 0, 0],
  // Exported at 09:40: the 09:00 hour is still running (212 steps so far).
  '2024-03-11': [0, 0, 0, 0, 0, 0, 96, 1250, 802, 212, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
};
/** What the later export (2024-03-11 13:05) knows about 2024-03-11: the 09:00 hour completed, and more. */
const STEPS_LATER: Record<number, number> = { 9: 655, 10: 230, 11: 188, 12: 1610 };

/** Sleep windows: [sleepEnd/wake of the night ending that morning, inBed start of that evening]. */
const AWAKE: Record<string, [string, string]> = {
  '2024-03-09': ['2024-03-09 06:52', '2024-03-09 22:58'],
  '2024-03-10': ['2024-03-10 07:21', '2024-03-10 22:41'],
  '2024-03-11': ['2024-03-11 06:35', '2024-03-11 23:10'],
};
const asleepAt = (t: number): boolean => {
  const [a, b] = AWAKE[day(t)];
  return t + HOUR <= L(a) || t >= L(b);
};

/** Hand-set heart rate of notable hours: [Min, Avg, Max]. */
const HR_OVERRIDE: Record<string, [number, number, number]> = {
  '2024-03-09 07': [63, 127.45, 171], // Outdoor Run 07:12-07:44
  '2024-03-09 17': [71, 104.36, 152], // Elliptical 17:30-18:05
  '2024-03-09 18': [68, 89.12, 141], // end of the elliptical + recovery
  '2024-03-10 10': [74, 103.58, 124], // Outdoor Walk 10:05-11:03
  '2024-03-10 11': [70, 88.9, 119],
  '2024-03-10 14': [66, 86.75, 128], // high heart rate notification at 14:12
  '2024-03-10 16': [68, 92.4, 118], // second Outdoor Walk 16:40-17:12
  '2024-03-10 17': [67, 85.1, 112],
  '2024-03-11 07': [64, 104.2, 139], // Traditional Strength Training 07:00-07:45
  '2024-03-11 12': [66, 88.65, 117], // Outdoor Walk 12:10-12:38 (later export)
};

function hrAt(t: number): Obj {
  const key = D(t).slice(0, 13);
  const o = HR_OVERRIDE[key];
  if (o) return { date: D(t), Min: o[0], Avg: o[1], Max: o[2], source: WATCH };
  const r = rng('hr', t);
  const sleeping = asleepAt(t);
  const avg = sleeping ? 53 + r() * 5 : 66 + r() * 14;
  const min = Math.round(avg - (sleeping ? 2 + r() * 3 : 6 + r() * 8));
  const max = Math.round(avg + (sleeping ? 3 + r() * 5 : 10 + r() * 25));
  return { date: D(t), Min: min, Avg: r2(avg), Max: max, source: WATCH };
}

function stepsAt(t: number, later = false): number {
  const h = hourOf(t);
  if (later && day(t) === '2024-03-11' && STEPS_LATER[h] !== undefined) return STEPS_LATER[h];
  return STEPS[day(t)][h];
}

/** Active kcal of an hour: walking plus the hour's workout share (hand-set). */
const WORKOUT_KCAL: Record<string, number> = {
  '2024-03-09 07': 372.41,
  '2024-03-09 17': 258.7,
  '2024-03-09 18': 42.9,
  '2024-03-10 10': 250.6,
  '2024-03-10 11': 17.7,
  '2024-03-10 16': 58.2,
  '2024-03-10 17': 40.3,
  '2024-03-11 07': 226.3,
  '2024-03-11 12': 121.7,
};
function activeKcalAt(t: number, steps: number): number {
  const r = rng('kcal', t);
  return r3(steps * 0.0412 + 2.2 + r() * 5.5 + (WORKOUT_KCAL[D(t).slice(0, 13)] ?? 0) * (steps ? 0.82 : 1));
}

// ---------------------------------------------------------------------------------------------
// Workouts
// ---------------------------------------------------------------------------------------------

const KCAL_HR_KG = 'kcal/hr·kg';

/** Per-minute v2 heart-rate series around a target. */
function hrSeries(start: number, minutes: number, target: number, seed: string): Obj[] {
  const r = rng(seed);
  const out: Obj[] = [];
  let lv = 92;
  for (let i = 0; i < minutes; i++) {
    lv += (target + 6 * Math.sin(i / 5) - lv) * 0.45 + (r() - 0.5) * 4;
    const min = Math.round(lv - 2 - r() * 5);
    const max = Math.round(lv + 2 + r() * 6);
    out.push({ date: D(start + i * MIN), Min: min, Avg: r2(lv), Max: max, units: 'count/min', source: WATCH });
  }
  return out;
}

function qtySeries(start: number, minutes: number, per: () => number, units: string): Obj[] {
  const out: Obj[] = [];
  for (let i = 0; i < minutes; i++) out.push({ date: D(start + i * MIN), qty: per(), units, source: WATCH });
  return out;
}

/** v1 run: 1.5 laps of the Silver Lake Reservoir loop, 50 points. */
function runRouteV1(start: number, durS: number): Obj[] {
  const r = rng('route-v1');
  const out: Obj[] = [];
  for (let i = 0; i < 50; i++) {
    const a = -Math.PI / 2 + (3 * Math.PI * i) / 49;
    out.push({
      lat: r6(34.0935 + 0.0068 * Math.sin(a) + (r() - 0.5) * 0.00008),
      lon: r6(-118.27 + 0.0042 * Math.cos(a) + (r() - 0.5) * 0.00008),
      altitude: r2(138 + 6 * Math.sin(a) + r()),
      timestamp: D(start + Math.round((i * durS) / 49) * 1000),
    });
  }
  return out;
}
function r6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/** v2 route: a walk as a smooth random walk, `n` points evenly spread over the workout. */
function walkRouteV2(start: number, durS: number, n: number, lat0: number, lon0: number, seed: string): Obj[] {
  const r = rng(seed);
  const out: Obj[] = [];
  let lat = lat0;
  let lon = lon0;
  let alt = 112 + r() * 10;
  let heading = r() * 360;
  const step = durS / (n - 1);
  for (let i = 0; i < n; i++) {
    const speed = 1.25 + r() * 0.3;
    if (i > 0) {
      heading = (heading + (r() - 0.5) * 50 + 360) % 360;
      const h = (heading * Math.PI) / 180;
      lat += (speed * step * Math.cos(h)) / 111_320;
      lon += (speed * step * Math.sin(h)) / (111_320 * Math.cos((lat * Math.PI) / 180));
      alt += (r() - 0.5) * 2.5;
    }
    out.push({
      latitude: r6(lat),
      longitude: r6(lon),
      altitude: r2(alt),
      course: r2(heading),
      courseAccuracy: r2(3 + r() * 12),
      speed: r2(speed),
      speedAccuracy: r2(0.3 + r() * 0.5),
      horizontalAccuracy: r2(2 + r() * 4),
      verticalAccuracy: r2(1.5 + r() * 3),
      timestamp: D(start + Math.round(i * step) * 1000),
    });
  }
  return out;
}

function recoveryV2(end: number, values: number[]): Obj[] {
  // One sample per minute for two minutes after the end (Min == Avg == Max: single readings).
  return values.map((v, i) => ({ date: D(end + i * MIN), Min: v, Avg: v, Max: v, units: 'count/min', source: WATCH }));
}

function workoutRunV1(): Obj {
  const start = L('2024-03-09 07:12:04');
  const end = L('2024-03-09 07:44:16');
  const durS = (end - start) / 1000;
  const r = rng('run-v1-hr');
  const hr: Obj[] = [];
  let lv = 98;
  for (let i = 0; i * 60 < durS; i++) {
    lv += (158 + 5 * Math.sin(i / 4) - lv) * 0.35 + (r() - 0.5) * 5;
    hr.push({ date: D(start + i * MIN), qty: Math.round(lv), units: 'count/min' });
  }
  return {
    name: 'Outdoor Run',
    start: D(start),
    end: D(end),
    duration: durS,
    activeEnergy: { qty: 372.41, units: 'kcal' },
    distance: { qty: 5.52, units: 'km' },
    elevation: { ascent: 38.6, descent: 37.9, units: 'm' },
    stepCount: { qty: 5236, units: 'count' },
    intensity: { qty: 10.9, units: KCAL_HR_KG },
    temperature: { qty: 11.2, units: 'degC' },
    humidity: { qty: 78, units: '%' },
    heartRateData: hr,
    heartRateRecovery: [
      { date: D(end), qty: 161, units: 'count/min' },
      { date: D(end + MIN), qty: 138, units: 'count/min' },
      { date: D(end + 2 * MIN), qty: 121, units: 'count/min' },
    ],
    route: runRouteV1(start, durS),
  };
}

function workoutEllipticalQuirk(): Obj {
  // v2, but heartRateData holds the ~2-minute recovery series (every 10 s from the end,
  // Min == Avg == Max) and heartRateRecovery is missing: the quirk of hae-format.md.
  const start = L('2024-03-09 17:30:00');
  const end = L('2024-03-09 18:05:00');
  const vals = [141, 138, 136, 133, 131, 128, 126, 124, 121, 119, 118, 116, 114];
  const r = rng('ell-kcal');
  return {
    id: '6F1C2A8E-3B4D-4E5F-9A7B-1C2D3E4F5A6B',
    name: 'Elliptical',
    start: D(start),
    end: D(end),
    duration: (end - start) / 1000,
    location: 'Indoor',
    activeEnergyBurned: { qty: 301.6, units: 'kcal' },
    intensity: { qty: 8.4, units: KCAL_HR_KG },
    heartRateData: vals.map((v, i) => ({ date: D(end + i * 10_000), Min: v, Avg: v, Max: v, units: 'count/min', source: WATCH })),
    activeEnergy: qtySeries(start, 35, () => r3(7.6 + r() * 2.2), 'kcal'),
    metadata: {},
  };
}

function workoutWalkV2(): Obj {
  const start = L('2024-03-10 10:05:12');
  const end = L('2024-03-10 11:03:40');
  const durS = (end - start) / 1000;
  const rk = rng('walk-kcal');
  const rs = rng('walk-steps');
  return {
    id: 'A3B9C2D1-7E4F-4A6B-8C5D-2E1F0A9B8C7D',
    name: 'Outdoor Walk',
    start: D(start),
    end: D(end),
    duration: durS,
    location: 'Outdoor',
    activeEnergyBurned: { qty: 268.3, units: 'kcal' },
    distance: { qty: 4.87, units: 'km' },
    intensity: { qty: 4.3, units: KCAL_HR_KG },
    avgSpeed: { qty: 5.0, units: 'km/hr' },
    elevationUp: { qty: 21.4, units: 'm' },
    temperature: { qty: 14.6, units: 'degC' },
    humidity: { qty: 62, units: '%' },
    heartRateData: hrSeries(start, 58, 104, 'walk-hr'),
    heartRateRecovery: recoveryV2(end, [106, 94, 88]),
    activeEnergy: qtySeries(start, 58, () => r3(4.1 + rk() * 1.2), 'kcal'),
    stepCount: qtySeries(start, 58, () => Math.round(98 + rs() * 22), 'count'),
    route: walkRouteV2(start, durS, 60, 34.0781, -118.2606, 'walk-route'),
    metadata: {},
  };
}

function workoutStrength(): Obj {
  const start = L('2024-03-11 07:00:00');
  const end = L('2024-03-11 07:45:30');
  const minutes = Math.floor((end - start) / MIN);
  const r = rng('strength');
  return {
    id: 'C7E2F9A0-1B3D-4C5E-8F7A-9B0C1D2E3F40',
    name: 'Traditional Strength Training',
    start: D(start),
    end: D(end),
    duration: (end - start) / 1000,
    location: 'Indoor',
    activeEnergyBurned: { qty: 226.3, units: 'kcal' },
    intensity: { qty: 5.1, units: KCAL_HR_KG },
    heartRateData: hrSeries(start, minutes, 112, 'strength-hr'),
    heartRateRecovery: recoveryV2(end, [118, 101, 93]),
    activeEnergy: qtySeries(start, minutes, () => r3(4.2 + r() * 1.8), 'kcal'),
    route: [], // present although an indoor workout has none (seen in real exports)
    metadata: {},
  };
}

/** The second "Outdoor Walk" of 2024-03-10: same day, same name, a different workout. */
function workoutSecondWalk(): Obj {
  const start = L('2024-03-10 16:40:20');
  const end = L('2024-03-10 17:12:50');
  const durS = (end - start) / 1000;
  const minutes = Math.floor(durS / 60);
  const rk = rng('walk2-kcal');
  const rs = rng('walk2-steps');
  return {
    id: 'B5C4D3E2-F1A0-4B9C-8D7E-6F5A4B3C2D1E',
    name: 'Outdoor Walk',
    start: D(start),
    end: D(end),
    duration: durS,
    location: 'Outdoor',
    activeEnergyBurned: { qty: 98.5, units: 'kcal' },
    distance: { qty: 2.64, units: 'km' },
    intensity: { qty: 3.9, units: KCAL_HR_KG },
    avgSpeed: { qty: 4.87, units: 'km/hr' },
    temperature: { qty: 16.1, units: 'degC' },
    humidity: { qty: 55, units: '%' },
    heartRateData: hrSeries(start, minutes, 97, 'walk2-hr'),
    heartRateRecovery: recoveryV2(end, [98, 90, 84]),
    activeEnergy: qtySeries(start, minutes, () => r3(2.9 + rk() * 0.9), 'kcal'),
    stepCount: qtySeries(start, minutes, () => Math.round(96 + rs() * 20), 'count'),
    route: walkRouteV2(start, durS, 20, 34.0869, -118.2702, 'walk2-route'),
    metadata: {},
  };
}

function workoutNoonWalkLater(): Obj {
  const start = L('2024-03-11 12:10:05');
  const end = L('2024-03-11 12:38:40');
  const durS = (end - start) / 1000;
  const rk = rng('eve-kcal');
  const rs = rng('eve-steps');
  return {
    id: 'E9A8B7C6-D5E4-4F3A-8B2C-1D0E9F8A7B6C',
    name: 'Outdoor Walk',
    start: D(start),
    end: D(end),
    duration: durS,
    location: 'Outdoor',
    activeEnergyBurned: { qty: 121.7, units: 'kcal' },
    distance: { qty: 2.31, units: 'km' },
    intensity: { qty: 4.0, units: KCAL_HR_KG },
    avgSpeed: { qty: 4.85, units: 'km/hr' },
    temperature: { qty: 17.3, units: 'degC' },
    humidity: { qty: 48, units: '%' },
    heartRateData: hrSeries(start, 28, 99, 'eve-hr'),
    heartRateRecovery: recoveryV2(end, [101, 91, 86]),
    activeEnergy: qtySeries(start, 28, () => r3(3.9 + rk() * 1.1), 'kcal'),
    stepCount: qtySeries(start, 28, () => Math.round(95 + rs() * 20), 'count'),
    route: walkRouteV2(start, durS, 25, 34.0902, -118.2771, 'eve-route'),
    metadata: {},
  };
}

// ---------------------------------------------------------------------------------------------
// sample-export.json
// ---------------------------------------------------------------------------------------------

const SAMPLE_FROM = '2024-03-09 00:00';
const SAMPLE_LAST_FULL_HOUR = '2024-03-11 08:00'; // exported 2024-03-11 09:40 -0700
const SOURCE_SCALE = 'Withings Body+';
const SOURCE_CUFF = 'Withings BPM Connect';
const SOURCE_FOOD = 'MyFitnessPal';

function sleepNight(dateWall: string, inBedStart: number, sleepStart: number, sleepEnd: number, inBedEnd: number, awake: number, deep: number, rem: number): Obj {
  const span = (sleepEnd - sleepStart) / HOUR; // real elapsed time: across DST too
  const asleep = span - awake;
  return {
    date: D(L(dateWall)),
    totalSleep: r3(asleep),
    core: r3(asleep - deep - rem),
    deep,
    rem,
    awake,
    inBed: r3((inBedEnd - inBedStart) / HOUR),
    sleepStart: D(sleepStart),
    sleepEnd: D(sleepEnd),
    inBedStart: D(inBedStart),
    inBedEnd: D(inBedEnd),
    source: WATCH,
  };
}

const NIGHTS: Obj[] = [
  sleepNight('2024-03-09 00:00', L('2024-03-08 22:47:10'), L('2024-03-08 23:02:40'), L('2024-03-09 06:41:55'), L('2024-03-09 06:52:30'), 0.317, 0.95, 1.72),
  // The spring-forward night: 23:11 PST to 07:12 PDT is 7.02 h, not 8.02 h.
  sleepNight('2024-03-10 00:00', L('2024-03-09 22:58:05'), L('2024-03-09 23:11:30'), L('2024-03-10 07:12:45'), L('2024-03-10 07:21:00'), 0.283, 0.91, 1.55),
  sleepNight('2024-03-11 00:00', L('2024-03-10 22:41:20'), L('2024-03-10 22:55:00'), L('2024-03-11 06:28:10'), L('2024-03-11 06:35:40'), 0.236, 1.05, 1.83),
];

function hourlyMetrics(from: string, to: string, stepTo: string, later: boolean): Obj[] {
  const hs = hours(from, to);
  const stepHours = hours(from, stepTo);
  const stepData = stepHours.filter((t) => stepsAt(t, later) > 0).map((t) => q(t, stepsAt(t, later), PHONE_WATCH));
  const active = hs.filter((t) => stepsAt(t, later) > 0).map((t) => q(t, activeKcalAt(t, stepsAt(t, later)), PHONE_WATCH));
  const basal = hs.map((t) => {
    const r = rng('basal', t);
    return q(t, r3((asleepAt(t) ? 57.9 : 64.2) + r() * 4.5), WATCH);
  });
  const dist = hs.filter((t) => stepsAt(t, later) >= 300).map((t) => q(t, r3(stepsAt(t, later) * 0.000762), PHONE_WATCH));
  const hr = hs.map(hrAt);
  return [
    metric('active_energy', 'kcal', active),
    metric('basal_energy_burned', 'kcal', basal),
    metric('distance_walking_running', 'km', dist),
    metric('heart_rate', 'count/min', hr),
    metric('step_count', 'count', stepData),
  ];
}

const STAND_HOURS: Record<string, number[]> = {
  '2024-03-09': [7, 9, 10, 12, 15, 17],
  '2024-03-10': [8, 10, 11, 14, 16, 18],
  '2024-03-11': [7, 8],
};

function sampleExport(): Obj {
  const [active, basal, dist, hr, steps] = hourlyMetrics(SAMPLE_FROM, SAMPLE_LAST_FULL_HOUR, '2024-03-11 09:00', false);
  const night = (wall: string): number => L(wall);
  const metrics: Obj[] = [
    active,
    metric('apple_exercise_time', 'min', [
      q(L('2024-03-09 07:00'), 33, WATCH),
      q(L('2024-03-09 17:00'), 30, WATCH),
      q(L('2024-03-09 18:00'), 5, WATCH),
      q(L('2024-03-10 10:00'), 55, WATCH),
      q(L('2024-03-10 11:00'), 4, WATCH),
      q(L('2024-03-10 16:00'), 20, WATCH),
      q(L('2024-03-10 17:00'), 13, WATCH),
      q(L('2024-03-11 07:00'), 38, WATCH),
    ]),
    // A name no list knows (a future iOS metric): data, not an error.
    metric('apple_future_metric_2027', 'count', [
      q(L('2024-03-10 09:00'), 3, WATCH),
      q(L('2024-03-11 09:00'), 5, WATCH),
    ]),
    metric(
      'apple_stand_hour',
      'count',
      Object.entries(STAND_HOURS).flatMap(([d, hs]) => hs.map((h) => q(L(`${d} ${String(h).padStart(2, '0')}:00`), 1, WATCH))),
    ),
    basal,
    metric('blood_glucose', 'mg/dL', [
      q(L('2024-03-09 07:55'), 92, PHONE, { mealTime: 'Before Meal' }),
      q(L('2024-03-09 09:10'), 128, PHONE, { mealTime: 'After Meal' }),
      q(L('2024-03-10 13:20'), 104, PHONE, { mealTime: 'Unspecified' }),
      q(L('2024-03-11 08:40'), 131, PHONE, { mealTime: 'After Meal' }),
    ]),
    metric('blood_oxygen_saturation', '%', [
      q(night('2024-03-09 02:14:30'), 96, WATCH),
      q(night('2024-03-09 04:37:10'), 97, WATCH),
      q(night('2024-03-10 01:22:45'), 95, WATCH),
      q(night('2024-03-10 04:48:20'), 97, WATCH),
      q(night('2024-03-11 00:53:05'), 98, WATCH),
      q(night('2024-03-11 03:40:50'), 96, WATCH),
    ]),
    metric('blood_pressure', 'mmHg', [
      { date: D(L('2024-03-09 07:02:10')), systolic: 117, diastolic: 76, source: SOURCE_CUFF },
      { date: D(L('2024-03-10 08:15:40')), systolic: 121, diastolic: 79, source: SOURCE_CUFF },
      { date: D(L('2024-03-11 06:50:05')), systolic: 114, diastolic: 74, source: SOURCE_CUFF },
    ]),
    metric('body_fat_percentage', '%', [
      q(L('2024-03-09 06:58:12'), 24.6, SOURCE_SCALE),
      q(L('2024-03-11 06:45:33'), 24.3, SOURCE_SCALE),
    ]),
    metric('dietary_energy_consumed', 'kcal', [
      q(L('2024-03-09 08:30'), 512, SOURCE_FOOD),
      q(L('2024-03-09 12:45'), 684, SOURCE_FOOD),
      q(L('2024-03-09 19:20'), 835, SOURCE_FOOD),
      q(L('2024-03-10 09:00'), 466, SOURCE_FOOD),
      q(L('2024-03-10 13:10'), 721, SOURCE_FOOD),
      q(L('2024-03-10 19:05'), 902, SOURCE_FOOD),
      q(L('2024-03-11 07:55'), 430, SOURCE_FOOD),
    ]),
    dist,
    metric('environmental_audio_exposure', 'dBASPL', [
      q(L('2024-03-09 12:00'), 68.4, WATCH),
      q(L('2024-03-09 19:00'), 74.9, WATCH),
      q(L('2024-03-10 15:00'), 61.2, WATCH),
      q(L('2024-03-10 19:00'), 72.5, WATCH),
      q(L('2024-03-11 08:00'), 66.8, WATCH),
    ]),
    metric('flights_climbed', 'count', [
      q(L('2024-03-09 10:00'), 3, PHONE_WATCH),
      q(L('2024-03-09 15:00'), 2, PHONE_WATCH),
      q(L('2024-03-10 10:00'), 6, PHONE_WATCH),
      q(L('2024-03-10 14:00'), 1, PHONE_WATCH),
      q(L('2024-03-11 08:00'), 4, PHONE_WATCH),
    ]),
    // A category sample: a string `value` instead of `qty`.
    metric('headache', '', [{ date: D(L('2024-03-10 15:30')), value: 'Mild', source: PHONE }]),
    hr,
    metric('heart_rate_variability', 'ms', [
      q(night('2024-03-09 02:16:00'), 41.27, WATCH),
      q(night('2024-03-09 05:02:00'), 47.83, WATCH),
      q(night('2024-03-10 01:25:00'), 38.66, WATCH),
      q(night('2024-03-10 05:11:00'), 44.05, WATCH),
      q(night('2024-03-11 00:58:00'), 52.4, WATCH),
      q(night('2024-03-11 04:12:00'), 49.18, WATCH),
    ]),
    metric('respiratory_rate', 'count/min', [
      q(night('2024-03-09 02:30:00'), 14.5, WATCH),
      q(night('2024-03-09 05:10:00'), 15, WATCH),
      q(night('2024-03-10 01:40:00'), 14, WATCH),
      q(night('2024-03-10 05:30:00'), 15.5, WATCH),
      q(night('2024-03-11 01:15:00'), 13.5, WATCH),
      q(night('2024-03-11 04:20:00'), 14.5, WATCH),
    ]),
    metric('resting_heart_rate', 'count/min', [
      q(L('2024-03-09 00:00'), 56, WATCH),
      q(L('2024-03-10 00:00'), 55, WATCH),
      q(L('2024-03-11 00:00'), 57, WATCH),
    ]),
    metric('sleep_analysis', 'hr', NIGHTS),
    steps,
    metric('time_in_daylight', 'min', [
      q(L('2024-03-09 07:00'), 29, WATCH),
      q(L('2024-03-09 12:00'), 14, WATCH),
      q(L('2024-03-10 10:00'), 58, WATCH),
      q(L('2024-03-10 15:00'), 21, WATCH),
      q(L('2024-03-11 08:00'), 9, WATCH),
    ]),
    metric('vo2_max', 'ml/(kg·min)', [q(L('2024-03-09 07:45:30'), 42.37, WATCH)]),
    metric('walking_speed', 'km/hr', [
      q(L('2024-03-09 12:14'), 4.9, PHONE),
      q(L('2024-03-10 10:30'), 5.1, PHONE),
      q(L('2024-03-10 16:02'), 4.7, PHONE),
      q(L('2024-03-11 08:20'), 4.8, PHONE),
    ]),
    metric('weight_body_mass', 'kg', [
      q(L('2024-03-09 06:58:12'), 63.8, SOURCE_SCALE),
      q(L('2024-03-11 06:45:33'), 63.55, SOURCE_SCALE),
    ]),
  ];

  const ecgStart = L('2024-03-10 21:14:03');
  const ecgR = rng('ecg');
  const voltage: Obj[] = [];
  for (let i = 0; i < 40; i++) {
    // A QRS-ish bump in the middle of 40 samples at 512 Hz.
    const x = i - 20;
    const v = 1100 * Math.exp(-(x * x) / 3) - 120 * Math.exp(-((x + 5) * (x + 5)) / 2) + (ecgR() - 0.5) * 30;
    voltage.push({ timeSinceSampleStart: r6(i / 512), voltage: r2(v), units: 'µV' });
  }

  return {
    data: {
      metrics,
      workouts: [workoutRunV1(), workoutEllipticalQuirk(), workoutWalkV2(), workoutSecondWalk(), workoutStrength()],
      stateOfMind: [
        {
          id: '0B1C2D3E-4F50-4617-8293-A4B5C6D7E8F9',
          kind: 'dailyMood',
          start: ISO(L('2024-03-09 21:30:12')),
          end: ISO(L('2024-03-09 21:30:12')),
          valence: 0.55,
          valenceClassification: 'pleasant',
          labels: ['Happy', 'Grateful'],
          associations: ['Family', 'Fitness'],
          metadata: {},
        },
        {
          id: '1C2D3E4F-5061-4728-93A4-B5C6D7E8F90A',
          kind: 'momentaryEmotion',
          start: ISO(L('2024-03-11 08:15:40')),
          end: ISO(L('2024-03-11 08:15:40')),
          valence: -0.28,
          valenceClassification: 'slightlyUnpleasant',
          labels: ['Stressed'],
          associations: ['Work'],
          metadata: {},
        },
      ],
      ecg: [
        {
          start: D(ecgStart),
          end: D(ecgStart + 30_000),
          classification: 'Sinus Rhythm',
          severity: 'None',
          averageHeartRate: 68,
          numberOfVoltageMeasurements: voltage.length,
          samplingFrequency: 512,
          source: WATCH,
          voltageMeasurements: voltage,
        },
      ],
      symptoms: [
        { start: D(L('2024-03-10 15:00')), end: D(L('2024-03-10 15:00')), name: 'Fatigue', severity: 'Mild', userEntered: true, source: PHONE },
        { start: D(L('2024-03-11 09:20')), end: D(L('2024-03-11 09:20')), name: 'Coughing', severity: 'Moderate', userEntered: true, source: PHONE },
      ],
      medications: [
        {
          displayText: 'Ibuprofen',
          nickname: null,
          form: 'Tablet',
          status: 'Taken',
          isArchived: false,
          dosage: { qty: 200, units: 'mg' },
          scheduledDate: null,
          start: D(L('2024-03-10 15:40')),
          end: D(L('2024-03-10 15:40')),
          source: PHONE,
        },
        {
          displayText: 'Vitamin D3',
          nickname: 'Vit D',
          form: 'Capsule',
          status: 'Taken',
          isArchived: false,
          dosage: { qty: 1000, units: 'IU' },
          scheduledDate: D(L('2024-03-11 08:00')),
          start: D(L('2024-03-11 08:02')),
          end: D(L('2024-03-11 08:02')),
          source: PHONE,
        },
      ],
      cycleTracking: [
        {
          start: D(L('2024-03-09 00:00')),
          end: D(L('2024-03-10 00:00')),
          name: 'Menstrual Flow',
          value: 'Light',
          isCycleStart: true,
          source: PHONE,
        },
      ],
      heartRateNotifications: [
        {
          start: D(L('2024-03-10 14:12:00')),
          end: D(L('2024-03-10 14:22:00')),
          threshold: { qty: 120, units: 'count/min' },
          heartRate: [
            { date: D(L('2024-03-10 14:12:00')), qty: 124, units: 'count/min' },
            { date: D(L('2024-03-10 14:15:00')), qty: 128, units: 'count/min' },
            { date: D(L('2024-03-10 14:18:00')), qty: 123, units: 'count/min' },
            { date: D(L('2024-03-10 14:21:00')), qty: 121, units: 'count/min' },
          ],
          source: WATCH,
        },
      ],
    },
  };
}

// ---------------------------------------------------------------------------------------------
// sample-export-later.json: the same phone, exported again at 2024-03-11 13:05 -0700 by an
// automation whose window starts at 07:00 (so it overlaps sample-export.json from 07:00 to 09:40).
// ---------------------------------------------------------------------------------------------

function sampleExportLater(first: Obj): Obj {
  const [active, basal, dist, hr, steps] = hourlyMetrics('2024-03-11 07:00', '2024-03-11 12:00', '2024-03-11 12:00', true);
  const fm = (first.data as Obj).metrics as Obj[];
  const pick = (name: string, pred: (r: Obj) => boolean): Obj[] =>
    ((fm.find((m) => m.name === name) as Obj).data as Obj[]).filter(pred);
  const since = L('2024-03-11 07:00');
  const after = (r: Obj): boolean => parseHae(r.date as string) >= since;
  const firstWorkouts = (first.data as Obj).workouts as Obj[];
  return {
    data: {
      metrics: [
        active,
        metric('apple_exercise_time', 'min', [...pick('apple_exercise_time', after), q(L('2024-03-11 12:00'), 28, WATCH)]),
        metric('apple_stand_hour', 'count', [...pick('apple_stand_hour', after), q(L('2024-03-11 10:00'), 1, WATCH), q(L('2024-03-11 12:00'), 1, WATCH)]),
        basal,
        metric('dietary_energy_consumed', 'kcal', [...pick('dietary_energy_consumed', after), q(L('2024-03-11 12:50'), 655, SOURCE_FOOD)]),
        dist,
        metric('environmental_audio_exposure', 'dBASPL', [...pick('environmental_audio_exposure', after), q(L('2024-03-11 11:00'), 63.9, WATCH)]),
        hr,
        metric('resting_heart_rate', 'count/min', pick('resting_heart_rate', (r) => r.date === D(L('2024-03-11 00:00')))),
        metric('sleep_analysis', 'hr', pick('sleep_analysis', (r) => r.date === D(L('2024-03-11 00:00')))),
        steps,
      ],
      workouts: [firstWorkouts.find((w) => w.id === 'C7E2F9A0-1B3D-4C5E-8F7A-9B0C1D2E3F40') as Obj, workoutNoonWalkLater()],
      stateOfMind: [
        {
          id: '2D3E4F50-6172-4839-A4B5-C6D7E8F90A1B',
          kind: 'momentaryEmotion',
          start: ISO(L('2024-03-11 12:41:02')),
          end: ISO(L('2024-03-11 12:41:02')),
          valence: 0.31,
          valenceClassification: 'slightlyPleasant',
          labels: ['Calm', 'Relieved'],
          associations: ['Fitness'],
          metadata: {},
        },
      ],
    },
  };
}

// ---------------------------------------------------------------------------------------------
// sleep-unaggregated.json: three nights of stage intervals around the 2024-11-03 fall-back
// ---------------------------------------------------------------------------------------------

function sleepUnaggregated(): Obj {
  const stages: Obj[] = [];
  const interval = (a: number, b: number, value: string, source: string): void => {
    stages.push({ startDate: D(a), endDate: D(b), qty: r3((b - a) / HOUR), value, source });
  };
  const night = (inBed: [number, number], sleepStart: number, plan: [string, number][], source = WATCH): void => {
    interval(inBed[0], inBed[1], 'In Bed', PHONE);
    let t = sleepStart;
    for (const [v, min] of plan) {
      interval(t, t + min * MIN, v, source);
      t += min * MIN;
    }
  };
  // Night A, 2024-11-01 → 02 (PDT all night).
  night([L('2024-11-01 22:51:00'), L('2024-11-02 06:58:00')], L('2024-11-01 23:02:30'), [
    ['Core', 24], ['Deep', 41], ['Core', 33], ['REM', 19], ['Awake', 3], ['Core', 47], ['Deep', 28],
    ['REM', 26], ['Core', 52], ['Awake', 4], ['REM', 31], ['Core', 44], ['REM', 36], ['Core', 22],
  ]);
  // Night B, 2024-11-02 → 03: clocks fall back at 02:00 PDT → 01:00 PST. The 4th stage (REM)
  // runs from 01:40 -0700 to 01:15 -0800: the wall clock goes backwards, the interval is 35 min.
  night([L('2024-11-02 23:05:00'), L('2024-11-03 06:49:00')], L('2024-11-02 23:18:00'), [
    ['Core', 36], ['Deep', 44], ['Core', 62], ['REM', 35], ['Core', 50], ['Awake', 6], ['Deep', 25],
    ['Core', 48], ['REM', 29], ['Core', 41], ['REM', 38], ['Awake', 2], ['Core', 31],
  ]);
  // Night C, 2024-11-03 → 04 (PST): the stages come from a third-party app as plain "Asleep".
  night([L('2024-11-03 22:36:00'), L('2024-11-04 06:41:00')], L('2024-11-03 22:49:00'), [
    ['Asleep', 142], ['Awake', 9], ['Asleep', 188], ['Awake', 4], ['Asleep', 121],
  ], 'AutoSleep');
  const at = (s: Obj): number => parseHae(s.startDate as string);
  stages.sort((a, b) => at(a) - at(b));
  return { data: { metrics: [metric('sleep_analysis', 'hr', stages)] } };
}

/** Epoch ms of `2024-01-15 08:30:00 -0800` (only the form this script writes). */
function parseHae(s: string): number {
  const m = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)$/.exec(s);
  if (!m) throw new Error(`not an HAE date: ${s}`);
  const off = (m[7] === '-' ? -1 : 1) * (+m[8] * 60 + +m[9]);
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) - off * MIN;
}

// ---------------------------------------------------------------------------------------------
// bad-records.json: a valid export with a few bad records among good ones (see README.md)
// ---------------------------------------------------------------------------------------------

function badRecords(): Obj {
  const hrRec = (t: number, min: number, avg: number, max: number): Obj => ({ date: D(t), Min: min, Avg: avg, Max: max, source: WATCH });
  const routeStart = L('2024-11-02 08:10:00');
  const route: Obj[] = walkRouteV2(routeStart, 660, 12, 34.0935, -118.2768, 'bad-route').map((p) => ({ ...p, speed: r2((p.speed as number) * 2.1) }));
  route[7] = { ...route[7], latitude: 123 }; // BAD: latitude outside -90..90
  return {
    data: {
      metrics: [
        metric('active_energy', 'kcal', [
          q(L('2024-11-02 08:00'), 61.204, PHONE_WATCH),
          { qty: 18.5, source: PHONE_WATCH }, // BAD: no date
          q(L('2024-11-02 10:00'), 22.913, PHONE_WATCH),
          q(L('2024-11-02 11:00'), 35.06, PHONE_WATCH),
        ]),
        metric('blood_pressure', 'mmHg', [
          { date: D(L('2024-11-01 07:05:00')), systolic: 118, diastolic: 76, source: 'Withings BPM Connect' },
          { date: D(L('2024-11-02 07:04:00')), systolic: 85, diastolic: 130, source: 'Withings BPM Connect' }, // BAD: diastolic > systolic
          { date: D(L('2024-11-03 07:12:00')), systolic: 121, diastolic: 79, source: 'Withings BPM Connect' },
        ]),
        metric('heart_rate', 'count/min', [
          hrRec(L('2024-11-03 00:30'), 54, 57.2, 61),
          hrRec(L('2024-11-03 01:30', 0), 52, 55.6, 60), // 01:30 PDT
          hrRec(L('2024-11-03 01:30', 1), 51, 54.9, 58), // 01:30 PST, one hour later: distinct and good
          hrRec(L('2024-11-03 02:30'), 53, 900, 61), // BAD: Avg 900
          hrRec(L('2024-11-03 03:30'), 52, 56.1, 59),
          hrRec(L('2024-11-03 04:30'), 53, 55.8, 60),
        ]),
        metric('resting_heart_rate', 'count/min', [q(L('2024-11-02 00:00'), 56, WATCH), q(L('2024-11-03 00:00'), 55, WATCH)]),
        metric('step_count', 'count', [
          q(L('2024-11-02 08:00'), 1412, PHONE_WATCH),
          q(L('2024-11-02 09:00'), -250, PHONE_WATCH), // BAD: negative count
          q(L('2024-11-02 10:00'), 533, PHONE_WATCH),
          { date: D(L('2024-11-02 11:00')), qty: 'lots', source: PHONE_WATCH }, // BAD: qty is not a number
          q(L('2024-11-02 12:00'), 867, PHONE_WATCH),
          q(L('2024-11-02 13:00'), 302, PHONE_WATCH),
        ]),
        metric('weight_body_mass', 'kg', [
          q(L('2024-11-01 07:02:00'), 63.4, 'Withings Body+'),
          { date: 'yesterday', qty: 63.5, source: 'Withings Body+' }, // BAD: not a date
          q(L('2024-11-03 07:10:00'), 63.3, 'Withings Body+'),
        ]),
      ],
      workouts: [
        {
          id: 'F0E1D2C3-B4A5-4968-8776-5A4B3C2D1E0F',
          name: 'Outdoor Run',
          start: D(routeStart),
          end: D(routeStart + 660_000),
          duration: 660,
          location: 'Outdoor',
          activeEnergyBurned: { qty: 131.2, units: 'kcal' },
          distance: { qty: 2.01, units: 'km' },
          heartRateData: hrSeries(routeStart, 11, 150, 'bad-hr'),
          heartRateRecovery: recoveryV2(routeStart + 660_000, [149, 127, 112]),
          route,
          metadata: {},
        },
      ],
    },
  };
}

// ---------------------------------------------------------------------------------------------
// not-hae.json: valid JSON, but a GeoJSON route, not an HAE export
// ---------------------------------------------------------------------------------------------

function notHae(): Obj {
  const pts = runRouteV1(L('2024-03-09 07:12:04'), 1932).slice(0, 12);
  return {
    type: 'FeatureCollection',
    features: [
      {
        type: 'Feature',
        properties: { name: 'Silver Lake loop', activity: 'Outdoor Run', date: '2024-03-09' },
        geometry: { type: 'LineString', coordinates: pts.map((p) => [p.lon, p.lat, p.altitude]) },
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Summaries (printed, documented in README.md, asserted by the tests)
// ---------------------------------------------------------------------------------------------

function summary(doc: Obj): Record<string, number> {
  const out: Record<string, number> = {};
  const data = doc.data as Obj;
  for (const m of (data.metrics as Obj[]) ?? []) out[m.name as string] = (m.data as Obj[]).length;
  for (const [k, v] of Object.entries(data)) {
    if (k === 'metrics' || !Array.isArray(v)) continue;
    out[k] = v.length;
    if (k === 'workouts') {
      for (const w of v as Obj[]) {
        for (const [wk, wv] of Object.entries(w)) {
          if (Array.isArray(wv)) out[`workouts.${wk}`] = (out[`workouts.${wk}`] ?? 0) + wv.length;
        }
      }
    }
  }
  return out;
}

/** The text of every sample file, by file name (nothing is written). */
export function buildSamples(): Record<string, string> {
  const sample = sampleExport();
  const sampleText = pretty(sample) + '\n';
  // truncated-export.json: sample-export.json cut inside the 3rd blood_glucose record, in the
  // middle of its "mealTime" string (no closing brackets, no newline).
  const marker = '"mealTime":"Unsp';
  const at = sampleText.indexOf(marker);
  if (at < 0) throw new Error('truncation marker not found');
  return {
    'sample-export.json': sampleText,
    'sample-export-later.json': pretty(sampleExportLater(sample)) + '\n',
    'sleep-unaggregated.json': pretty(sleepUnaggregated()) + '\n',
    'bad-records.json': pretty(badRecords()) + '\n',
    'not-hae.json': pretty(notHae()) + '\n',
    'truncated-export.json': sampleText.slice(0, at + marker.length),
  };
}

function main(): void {
  const files = buildSamples();
  for (const [name, text] of Object.entries(files)) write(name, text);
  for (const name of ['sample-export.json', 'sample-export-later.json']) {
    console.log(`${name}:`, JSON.stringify(summary(JSON.parse(files[name]) as Obj)));
  }
  console.log('(now run examples/make-archives.ts if sample-export.json changed)');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
