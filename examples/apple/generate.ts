/**
 * Synthetic Apple Health export generator (the Health app's "Export All Health Data", unzipped):
 * writes `<dir>/apple_health_export/export.xml` of about the requested size, streamed (never
 * built in memory), plus `workout-routes/*.gpx` for the outdoor workouts, for benchmarks.
 *
 *   node --import tsx examples/apple/generate.ts --size 1GB --dir /tmp/apple [--seed 42] [--start 2016-01-01]
 *
 * Layout like a real export.xml: the DTD header, ExportDate, Me, then the Records grouped by
 * type (each type in time order over the whole span), blood-pressure Correlations, Workouts
 * (WorkoutStatistics, WorkoutEvents, a WorkoutRoute FileReference on outdoor ones), and one
 * ActivitySummary per day. Per day: ~350 heart-rate samples (half with a motion-context
 * MetadataEntry), ~100 step / 80 distance / 120 active-energy intervals, 46 basal energy, 16
 * stand hours, ~12 sleep stages, SpO2 and respiratory rate at night, 4 HRV samples with their
 * beat-to-beat lists, daily resting heart rate, weekly weight, blood pressure every third day,
 * a workout every third day. Dates carry the user's offset (America/Los_Angeles: DST changes
 * show). Deterministic for a given seed, start and size.
 */
import { createWriteStream, mkdirSync, writeFileSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { TzClock, mix32, mulberry32, parseSize } from '../generate.js';

const MIN = 60_000;
const DAY = 86_400_000;
const TZ = 'America/Los_Angeles';
const WATCH = 'Jane’s Apple Watch';
const PHONE = 'Jane’s iPhone';
const DEVICE =
  '&lt;&lt;HKDevice: 0x283d0a1c0&gt;, name:Apple Watch, manufacturer:Apple Inc., model:Watch, hardware:Watch6,1, software:10.2&gt;';
const PHONE_DEVICE =
  '&lt;&lt;HKDevice: 0x2809a4320&gt;, name:iPhone, manufacturer:Apple Inc., model:iPhone, hardware:iPhone14,5, software:17.2&gt;';

export interface AppleGenerateOptions {
  sizeBytes: number;
  /** Output folder; the export goes to <dir>/apple_health_export/. */
  dir: string;
  seed?: number;
  /** First day (UTC date), default 2016-01-01. */
  start?: string;
}

export interface AppleGenerateResult {
  /** Path of export.xml. */
  xml: string;
  xmlBytes: number;
  days: number;
  /** Elements that become records or rejects: Records, Correlations, Workouts, ActivitySummaries. */
  xmlRecords: number;
  routes: number;
  routePoints: number;
  /** xmlRecords + routePoints: the records an import reads. */
  totalRecords: number;
}

const HEAD = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!-- HealthKit Export Version: 14 -->
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary|ClinicalRecord|Audiogram|VisionPrescription)*)>
<!ATTLIST HealthData
  locale CDATA #REQUIRED
>
<!ELEMENT ExportDate EMPTY>
<!ATTLIST ExportDate
  value CDATA #REQUIRED
>
<!ELEMENT Me EMPTY>
<!ELEMENT Record ((MetadataEntry|HeartRateVariabilityMetadataList)*)>
<!ELEMENT Correlation ((MetadataEntry|Record)*)>
<!ELEMENT Workout ((MetadataEntry|WorkoutEvent|WorkoutRoute|WorkoutStatistics)*)>
<!ELEMENT ActivitySummary EMPTY>
<!ELEMENT MetadataEntry EMPTY>
<!ATTLIST MetadataEntry
  key   CDATA #REQUIRED
  value CDATA #REQUIRED
>
]>
<HealthData locale="en_US">
 <ExportDate value="2025-01-01 09:00:00 -0800"/>
 <Me HKCharacteristicTypeIdentifierDateOfBirth="1990-01-01" HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexFemale" HKCharacteristicTypeIdentifierBloodType="HKBloodTypeNotSet" HKCharacteristicTypeIdentifierFitzpatrickSkinType="HKFitzpatrickSkinTypeNotSet" HKCharacteristicTypeIdentifierCardioFitnessMedicationsUse="None"/>
`;

/** Buffered writer with backpressure. */
class Out {
  private buf = '';
  bytes = 0;
  constructor(private readonly ws: WriteStream | null) {}
  async put(s: string): Promise<void> {
    this.buf += s;
    if (this.buf.length >= 1 << 20) await this.flush();
  }
  async flush(): Promise<void> {
    if (!this.buf) return;
    const b = Buffer.from(this.buf);
    this.buf = '';
    this.bytes += b.length;
    if (this.ws && !this.ws.write(b)) await once(this.ws, 'drain');
  }
}

interface Ctx {
  clock: TzClock;
  /** Date formatter (cached per call site is not needed: TzClock is table-driven). */
  f: (t: number) => string;
}

type Emit = (s: string) => void;

function rec(c: Ctx, type: string, source: string, device: string | null, unit: string | null, start: number, end: number, value: string, children = ''): string {
  const s = c.f(start);
  const e = end === start ? s : c.f(end);
  return (
    ` <Record type="${type}" sourceName="${source}" sourceVersion="10.2"${device ? ` device="${device}"` : ''}${unit !== null ? ` unit="${unit}"` : ''} creationDate="${e}" startDate="${s}" endDate="${e}" value="${value}"` +
    (children ? `>\n${children} </Record>\n` : '/>\n')
  );
}

const Q = 'HKQuantityTypeIdentifier';
const C = 'HKCategoryTypeIdentifier';

/** One record type: what it writes for one day (`day0` = local midnight as UTC ms). */
interface TypeGen {
  name: string;
  day(c: Ctx, r: () => number, day0: number, dayIndex: number, emit: Emit): void;
}

function intervals(
  c: Ctx, r: () => number, day0: number, emit: Emit, type: string, unit: string, n: number, value: () => string, device = DEVICE,
): void {
  let t = day0 + 7 * 60 * MIN;
  const step = (15 * 60 * MIN) / n;
  for (let i = 0; i < n; i++) {
    const start = t + Math.floor(r() * step * 0.5);
    const end = start + (1 + Math.floor(r() * 8)) * MIN;
    emit(rec(c, type, WATCH, device, unit, start, end, value()));
    t += step;
  }
}

const TYPES: TypeGen[] = [
  {
    name: 'ActiveEnergyBurned',
    day: (c, r, d, _i, emit) => intervals(c, r, d, emit, Q + 'ActiveEnergyBurned', 'Cal', 120, () => (r() * 12).toFixed(3)),
  },
  {
    name: 'BasalEnergyBurned',
    day(c, r, d, _i, emit) {
      // 46 half hours: a 23-hour (spring-forward) day must not reach into the next day's slots.
      for (let i = 0; i < 46; i++) {
        const s = d + i * 30 * MIN;
        emit(rec(c, Q + 'BasalEnergyBurned', WATCH, DEVICE, 'Cal', s, s + 30 * MIN, (30 + r() * 5).toFixed(3)));
      }
    },
  },
  {
    name: 'DistanceWalkingRunning',
    day: (c, r, d, _i, emit) => intervals(c, r, d, emit, Q + 'DistanceWalkingRunning', 'km', 80, () => (r() * 0.6).toFixed(5)),
  },
  {
    name: 'HeartRate',
    day(c, r, d, _i, emit) {
      let t = d + Math.floor(r() * 4 * MIN);
      for (let i = 0; i < 350; i++) {
        const night = (t - d) / 3_600_000 < 6.5;
        const bpm = Math.round((night ? 55 : 72) + (r() - 0.5) * 20);
        const meta = r() < 0.5 ? `  <MetadataEntry key="HKMetadataKeyHeartRateMotionContext" value="${night ? 1 : 0}"/>\n` : '';
        emit(rec(c, Q + 'HeartRate', WATCH, DEVICE, 'count/min', t, t, String(bpm), meta));
        t += 3 * MIN + Math.floor(r() * 2 * MIN);
        if (t >= d + DAY) break;
      }
    },
  },
  {
    name: 'HeartRateVariabilitySDNN',
    day(c, r, d, _i, emit) {
      for (let k = 0; k < 4; k++) {
        const s = d + (1 + k * 1.5) * 3_600_000 + Math.floor(r() * 20 * MIN);
        let beats = '  <HeartRateVariabilityMetadataList>\n';
        for (let b = 0; b < 40; b++) {
          const sec = b * 1.02;
          beats += `   <InstantaneousBeatsPerMinute bpm="${55 + Math.floor(r() * 10)}" time="${k + 1}:${String(Math.floor(sec / 60)).padStart(2, '0')}:${(sec % 60).toFixed(2).padStart(5, '0')} AM"/>\n`;
        }
        beats += '  </HeartRateVariabilityMetadataList>\n';
        emit(rec(c, Q + 'HeartRateVariabilitySDNN', WATCH, DEVICE, 'ms', s, s + MIN, (30 + r() * 40).toFixed(4), beats));
      }
    },
  },
  {
    name: 'OxygenSaturation',
    day(c, r, d, _i, emit) {
      for (let k = 0; k < 8; k++) {
        const s = d + k * 45 * MIN + Math.floor(r() * 10 * MIN);
        emit(rec(c, Q + 'OxygenSaturation', WATCH, DEVICE, '%', s, s, (0.94 + r() * 0.05).toFixed(2)));
      }
    },
  },
  {
    name: 'RespiratoryRate',
    day(c, r, d, _i, emit) {
      for (let k = 0; k < 20; k++) {
        const s = d + k * 20 * MIN;
        emit(rec(c, Q + 'RespiratoryRate', WATCH, DEVICE, 'count/min', s, s + 5 * MIN, (13 + r() * 4).toFixed(1)));
      }
    },
  },
  {
    name: 'RestingHeartRate',
    day: (c, r, d, _i, emit) => emit(rec(c, Q + 'RestingHeartRate', WATCH, DEVICE, 'count/min', d, d + DAY - MIN, String(50 + Math.floor(r() * 8)))),
  },
  {
    name: 'StepCount',
    day: (c, r, d, _i, emit) => intervals(c, r, d, emit, Q + 'StepCount', 'count', 100, () => String(10 + Math.floor(r() * 900)), PHONE_DEVICE),
  },
  {
    name: 'BodyMass',
    day(c, r, d, i, emit) {
      if (i % 7 === 0) emit(rec(c, Q + 'BodyMass', 'Withings Body+', null, 'kg', d + 7 * 3_600_000, d + 7 * 3_600_000, (70 + r() * 3).toFixed(2)));
    },
  },
  {
    name: 'BloodPressure',
    day(c, r, d, i, emit) {
      if (i % 3 !== 0) return;
      const t = d + 7 * 3_600_000 + 10 * MIN;
      const sys = 110 + Math.floor(r() * 25);
      emit(rec(c, Q + 'BloodPressureSystolic', 'Withings BPM Connect', null, 'mmHg', t, t, String(sys)));
      emit(rec(c, Q + 'BloodPressureDiastolic', 'Withings BPM Connect', null, 'mmHg', t, t, String(sys - 40)));
    },
  },
  {
    name: 'AppleStandHour',
    day(c, r, d, _i, emit) {
      for (let h = 7; h < 23; h++) {
        const s = d + h * 3_600_000;
        emit(rec(c, C + 'AppleStandHour', WATCH, DEVICE, null, s, s + 3_600_000, r() < 0.75 ? 'HKCategoryValueAppleStandHourStood' : 'HKCategoryValueAppleStandHourIdle'));
      }
    },
  },
  {
    name: 'SleepAnalysis',
    day(c, r, d, _i, emit) {
      // The night that ends this morning: in bed from 23:00 the evening before.
      const bed = d - 60 * MIN + Math.floor(r() * 30 * MIN);
      emit(rec(c, C + 'SleepAnalysis', PHONE, null, null, bed, bed + 8 * 60 * MIN, 'HKCategoryValueSleepAnalysisInBed'));
      const stages = ['AsleepCore', 'AsleepDeep', 'AsleepCore', 'AsleepREM', 'Awake', 'AsleepCore', 'AsleepDeep', 'AsleepCore', 'AsleepREM', 'AsleepCore', 'Awake'];
      let t = bed + 10 * MIN;
      for (const st of stages) {
        const len = (st === 'Awake' ? 3 : 25) * MIN + Math.floor(r() * 20 * MIN);
        emit(rec(c, C + 'SleepAnalysis', WATCH, DEVICE, null, t, t + len, 'HKCategoryValueSleepAnalysis' + st));
        t += len;
      }
    },
  },
];

interface Emitted {
  records: number;
}

async function writeDays(out: Out, c: Ctx, seed: number, days: number, first: number, g: TypeGen, n: Emitted, streamNo: number) {
  for (let i = 0; i < days; i++) {
    const r = mulberry32(mix32(seed, streamNo, i));
    const day = first + i * DAY;
    const dt = new Date(day);
    const d0 = c.clock.localMidnight(dt.getUTCFullYear(), dt.getUTCMonth(), dt.getUTCDate());
    let s = '';
    g.day(c, r, d0, i, (x) => {
      s += x;
      n.records++;
    });
    await out.put(s);
  }
}

function correlation(c: Ctx, r: () => number, d0: number): string {
  const t = d0 + 7 * 3_600_000 + 10 * MIN;
  const f = c.f(t);
  const sys = 110 + Math.floor(r() * 25);
  const src = 'Withings BPM Connect';
  const child = (type: string, v: number) =>
    `  <Record type="${Q}${type}" sourceName="${src}" sourceVersion="5.2" unit="mmHg" creationDate="${f}" startDate="${f}" endDate="${f}" value="${v}"/>\n`;
  return ` <Correlation type="HKCorrelationTypeIdentifierBloodPressure" sourceName="${src}" sourceVersion="5.2" creationDate="${f}" startDate="${f}" endDate="${f}">\n  <MetadataEntry key="HKWasUserEntered" value="0"/>\n${child('BloodPressureDiastolic', sys - 40)}${child('BloodPressureSystolic', sys)} </Correlation>\n`;
}

function gpx(start: number, points: number, r: () => number): string {
  let lat = 47.6 + r() * 0.05;
  let lon = -122.3 - r() * 0.05;
  let s = `<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="Apple Health Export" xmlns="http://www.topografix.com/GPX/1/1">\n <metadata><time>${new Date(start).toISOString().slice(0, 19)}Z</time></metadata>\n <trk><name>Route</name><trkseg>\n`;
  for (let i = 0; i < points; i++) {
    lat += (r() - 0.4) * 0.00005;
    lon += (r() - 0.4) * 0.00005;
    const t = new Date(start + i * 1000).toISOString().slice(0, 19) + 'Z';
    s += `  <trkpt lon="${lon.toFixed(6)}" lat="${lat.toFixed(6)}"><ele>${(10 + r() * 5).toFixed(2)}</ele><time>${t}</time><extensions><speed>${(2.5 + r()).toFixed(2)}</speed><course>${(r() * 360).toFixed(1)}</course><hAcc>${(2 + r() * 3).toFixed(1)}</hAcc><vAcc>${(1.5 + r() * 2).toFixed(1)}</vAcc></extensions></trkpt>\n`;
  }
  return s + ' </trkseg></trk>\n</gpx>\n';
}

function workout(c: Ctx, r: () => number, d0: number, i: number, routesDir: string | null, res: { routes: number; routePoints: number }): string {
  const outdoor = r() < 0.5;
  const type = outdoor ? 'HKWorkoutActivityTypeRunning' : 'HKWorkoutActivityTypeTraditionalStrengthTraining';
  const start = d0 + 18 * 3_600_000 + Math.floor(r() * 60) * MIN;
  const minutes = 25 + Math.floor(r() * 40);
  const end = start + minutes * MIN;
  const s = c.f(start);
  const e = c.f(end);
  let w = ` <Workout workoutActivityType="${type}" duration="${minutes}" durationUnit="min" sourceName="${WATCH}" sourceVersion="10.2" device="${DEVICE}" creationDate="${e}" startDate="${s}" endDate="${e}">\n`;
  w += `  <MetadataEntry key="HKIndoorWorkout" value="${outdoor ? 0 : 1}"/>\n  <MetadataEntry key="HKTimeZone" value="${TZ}"/>\n`;
  w += `  <WorkoutEvent type="HKWorkoutEventTypePause" date="${c.f(start + 10 * MIN)}"/>\n  <WorkoutEvent type="HKWorkoutEventTypeResume" date="${c.f(start + 11 * MIN)}"/>\n`;
  w += `  <WorkoutStatistics type="${Q}ActiveEnergyBurned" startDate="${s}" endDate="${e}" sum="${(minutes * 9.5).toFixed(2)}" unit="Cal"/>\n`;
  w += `  <WorkoutStatistics type="${Q}HeartRate" startDate="${s}" endDate="${e}" average="${(130 + r() * 20).toFixed(1)}" minimum="95" maximum="172" unit="count/min"/>\n`;
  if (outdoor) {
    w += `  <WorkoutStatistics type="${Q}DistanceWalkingRunning" startDate="${s}" endDate="${e}" sum="${(minutes * 0.17).toFixed(3)}" unit="km"/>\n`;
    const file = `route_${new Date(start).toISOString().slice(0, 10)}_${i}.gpx`;
    const points = 600 + Math.floor(r() * 900);
    if (routesDir) writeFileSync(path.join(routesDir, file), gpx(start + 5000, points, r));
    res.routes++;
    res.routePoints += points;
    w += `  <WorkoutRoute sourceName="${WATCH}" sourceVersion="10.2" creationDate="${e}" startDate="${s}" endDate="${e}">\n   <FileReference path="/workout-routes/${file}"/>\n  </WorkoutRoute>\n`;
  }
  return w + ' </Workout>\n';
}

function summary(r: () => number, dayUtc: number): string {
  const date = new Date(dayUtc).toISOString().slice(0, 10);
  return ` <ActivitySummary dateComponents="${date}" activeEnergyBurned="${(350 + r() * 300).toFixed(3)}" activeEnergyBurnedGoal="500" activeEnergyBurnedUnit="Cal" appleMoveTime="0" appleMoveTimeGoal="0" appleExerciseTime="${Math.floor(r() * 60)}" appleExerciseTimeGoal="30" appleStandHours="${10 + Math.floor(r() * 5)}" appleStandHoursGoal="12"/>\n`;
}

async function writeAll(opts: AppleGenerateOptions, days: number, out: Out, routesDir: string | null): Promise<Omit<AppleGenerateResult, 'xml' | 'xmlBytes'>> {
  const seed = opts.seed ?? 42;
  const first = Date.parse((opts.start ?? '2016-01-01') + 'T00:00:00Z');
  const clock = new TzClock(TZ);
  const c: Ctx = { clock, f: (t) => clock.format(t) };
  const n: Emitted = { records: 0 };
  await out.put(HEAD);
  for (let k = 0; k < TYPES.length; k++) await writeDays(out, c, seed, days, first, TYPES[k], n, k + 1);
  const res = { routes: 0, routePoints: 0 };
  let extra = 0;
  for (let i = 0; i < days; i += 3) {
    const dt = new Date(first + i * DAY);
    const d0 = clock.localMidnight(dt.getUTCFullYear(), dt.getUTCMonth(), dt.getUTCDate());
    await out.put(correlation(c, mulberry32(mix32(seed, 100, i)), d0));
    extra++;
  }
  for (let i = 1; i < days; i += 3) {
    const dt = new Date(first + i * DAY);
    const d0 = clock.localMidnight(dt.getUTCFullYear(), dt.getUTCMonth(), dt.getUTCDate());
    await out.put(workout(c, mulberry32(mix32(seed, 101, i)), d0, i, routesDir, res));
    extra++;
  }
  for (let i = 0; i < days; i++) {
    await out.put(summary(mulberry32(mix32(seed, 102, i)), first + i * DAY));
    extra++;
  }
  await out.put('</HealthData>\n');
  await out.flush();
  const xmlRecords = n.records + extra;
  return { days, xmlRecords, routes: res.routes, routePoints: res.routePoints, totalRecords: xmlRecords + res.routePoints };
}

export async function generateAppleExport(opts: AppleGenerateOptions): Promise<AppleGenerateResult> {
  // Size of a week, measured without writing, sets the number of days.
  const probe = new Out(null);
  await writeAll(opts, 7, probe, null);
  const perDay = (probe.bytes - HEAD.length) / 7;
  const days = Math.max(1, Math.round((opts.sizeBytes - HEAD.length) / perDay));

  const root = path.join(opts.dir, 'apple_health_export');
  const routesDir = path.join(root, 'workout-routes');
  mkdirSync(routesDir, { recursive: true });
  const xml = path.join(root, 'export.xml');
  const ws = createWriteStream(xml);
  const out = new Out(ws);
  const r = await writeAll(opts, days, out, routesDir);
  ws.end();
  await once(ws, 'finish');
  return { xml, xmlBytes: out.bytes, ...r };
}

async function main(argv: string[]): Promise<void> {
  const arg = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const dir = arg('dir');
  const size = arg('size');
  if (!dir || !size) {
    process.stderr.write('usage: node --import tsx examples/apple/generate.ts --size 1GB --dir /tmp/apple [--seed 42] [--start 2016-01-01]\n');
    process.exit(2);
  }
  const t = Date.now();
  const r = await generateAppleExport({ sizeBytes: parseSize(size), dir, seed: Number(arg('seed') ?? 42), start: arg('start') });
  process.stderr.write(JSON.stringify({ event: 'generate.done', seconds: (Date.now() - t) / 1000, ...r }) + '\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main(process.argv.slice(2));
