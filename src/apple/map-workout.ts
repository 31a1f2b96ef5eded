/**
 * `<Workout>`, `<Correlation>` and `<ActivitySummary>` of export.xml → typed records.
 *
 * The reader collects a Workout or Correlation element with its children as a small tree (each
 * element a plain object of its attributes; MetadataEntry children become `metadata: {key:
 * value}`, other children arrays under their element name), then maps it here.
 *
 * Workouts (table workouts):
 * - workoutId = `apple-` + sha1(activity type | start | end) (epoch ms, so the same workout
 *   exported later from another time zone keeps its id); idDerived true; exportVersion 2 (the
 *   table knows HAE's 1 and 2; the Apple workout carries what HAE v2 carries: location, metadata);
 * - name from the activity type (see workoutName in type-map.ts), location Indoor/Outdoor from
 *   the HKIndoorWorkout metadata;
 * - duration in seconds (from duration + durationUnit);
 * - activeEnergy / distance from the WorkoutStatistics children (iOS 15+), else the older
 *   totalEnergyBurned / totalDistance attributes;
 * - summary: source (sourceName), activityType, statistics {metric: {sum|average|minimum|maximum,
 *   unit}}, events (WorkoutEvent), activities (WorkoutActivity), routeFiles, device, ..., and
 *   any other attribute or child as written; metadata: the MetadataEntry key/values.
 */
import type { BloodPressureRecord, EventRecord, Quantity, RoutePointRecord, WorkoutRecord } from '../records/model.js';
import { recordProblem } from '../records/admissible.js';
import {
  DIASTOLIC_MAX,
  DIASTOLIC_MIN,
  SYSTOLIC_MAX,
  SYSTOLIC_MIN,
} from '../records/bounds.js';
import { parseHaeDate } from '../records/dates.js';
import type { InstantSeq } from '../records/instant-seq.js';
import { durationToSeconds, sha1Hex32, toNum } from '../records/values.js';
import { normUnit, parseDevice, show } from './map-record.js';
import { appleType, workoutName } from './type-map.js';

export type Node = Record<string, unknown> & { metadata?: Record<string, string> };

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function children(n: Node, name: string): Node[] {
  const v = n[name];
  return Array.isArray(v) ? (v as Node[]) : [];
}

function numOrText(v: string): number | string {
  const n = toNum(v);
  return n === n ? n : v;
}

function seconds(value: string | undefined, unit: string | undefined): number | null {
  if (value === undefined) return null;
  const n = durationToSeconds(toNum(value), unit);
  return n === null ? null : Number(n.toPrecision(12));
}

export function appleWorkoutId(activityType: string, start: number, end: number): string {
  return 'apple-' + sha1Hex32(`${activityType}|${start}|${end}`);
}

/** WorkoutStatistics children as {metric: {sum, average, minimum, maximum, unit, ...}}. */
function statistics(list: Node[]): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const s of list) {
    const type = str(s.type);
    if (type === undefined) continue;
    const o: Record<string, unknown> = {};
    for (const k in s) {
      const v = s[k];
      if (k === 'type' || k === 'startDate' || k === 'endDate') continue;
      if (k === 'unit') o.unit = normUnit(str(v));
      else o[k] = typeof v === 'string' ? numOrText(v) : v;
    }
    out[appleType(type).metric] = o;
  }
  return out;
}

function quantity(qty: unknown, unit: unknown): Quantity | null {
  if (typeof qty === 'number') return qty >= 0 ? { qty, unit: normUnit(str(unit)) } : null;
  if (typeof qty !== 'string') return null;
  const n = toNum(qty);
  return n === n && n >= 0 ? { qty: n, unit: normUnit(str(unit)) } : null;
}

export interface MappedWorkout {
  workout: WorkoutRecord;
  /** FileReference paths of its WorkoutRoute children, as written. */
  routeFiles: string[];
  /** Route points written inline (older exports: WorkoutRoute/Location). */
  locations: Node[];
}

const HANDLED_ATTRS = new Set([
  'workoutActivityType', 'startDate', 'endDate', 'duration', 'durationUnit', 'sourceName', 'device',
]);

export function mapWorkout(w: Node): MappedWorkout | string {
  const type = str(w.workoutActivityType);
  if (type === undefined || type === '') return 'workout workoutActivityType missing';
  const start = str(w.startDate);
  const end = str(w.endDate);
  const time = parseHaeDate(start);
  if (time === null) return `workout ${type} startDate ${show(start)} is not a date`;
  const endTime = parseHaeDate(end);
  if (endTime === null) return `workout ${type} endDate ${show(end)} is not a date`;
  if (endTime < time) return `workout ${type} endDate ${show(end)} is before startDate ${show(start)}`;

  const metadata = w.metadata ?? null;
  const indoorFlag = metadata?.HKIndoorWorkout;
  const indoor = indoorFlag === '1' ? true : indoorFlag === '0' ? false : null;
  const name = workoutName(type, indoor, metadata?.HKSwimmingLocationType ?? null);

  const summary: Record<string, unknown> = { source: str(w.sourceName) ?? '', activityType: type };
  const device = parseDevice(str(w.device));
  if (device !== null) summary.device = device;
  const stats = statistics(children(w, 'WorkoutStatistics'));
  if (Object.keys(stats).length) summary.statistics = stats;
  const events = children(w, 'WorkoutEvent');
  if (events.length) summary.events = events;
  const activities = children(w, 'WorkoutActivity');
  if (activities.length) summary.activities = activities;

  const routeFiles: string[] = [];
  let locations: Node[] = [];
  const routes = children(w, 'WorkoutRoute');
  for (const r of routes) {
    for (const f of children(r, 'FileReference')) {
      const p = str(f.path);
      if (p) routeFiles.push(p);
    }
    const locs = children(r, 'Location');
    if (locs.length) locations = locations.length ? locations.concat(locs) : locs;
  }
  if (routes.length) {
    summary.routes = routes.map((r) => {
      const o: Record<string, unknown> = {};
      for (const k in r) if (k !== 'Location' && k !== 'FileReference') o[k] = r[k];
      o.files = children(r, 'FileReference').map((f) => f.path);
      return o;
    });
  }
  for (const k in w) {
    if (HANDLED_ATTRS.has(k) || k === 'metadata' || k in summary) continue;
    if (k === 'WorkoutStatistics' || k === 'WorkoutEvent' || k === 'WorkoutActivity' || k === 'WorkoutRoute') continue;
    summary[k] = w[k];
  }

  // Energy and distance: the statistics (iOS 15+) first, then the older total* attributes.
  let activeEnergy: Quantity | null = null;
  const ae = stats.active_energy;
  if (ae) activeEnergy = quantity(ae.sum, ae.unit);
  if (activeEnergy === null) activeEnergy = quantity(w.totalEnergyBurned, w.totalEnergyBurnedUnit);
  let distance: Quantity | null = null;
  for (const m in stats) {
    if (m.startsWith('distance_') || m.endsWith('_distance')) {
      distance = quantity(stats[m].sum, stats[m].unit);
      if (distance !== null) break;
    }
  }
  if (distance === null) distance = quantity(w.totalDistance, w.totalDistanceUnit);

  const workout: WorkoutRecord = {
    kind: 'workout',
    workoutId: appleWorkoutId(type, time, endTime),
    idDerived: true,
    exportVersion: 2,
    name,
    time,
    endTime,
    durationS: seconds(str(w.duration), str(w.durationUnit)) ?? Math.round((endTime - time) / 1000),
    location: indoor === null ? null : indoor ? 'Indoor' : 'Outdoor',
    activeEnergy,
    distance,
    summary,
    metadata,
    heartRateLooksLikeRecovery: false,
    routePoints: 0,
  };
  return { workout, routeFiles, locations };
}

/**
 * An inline route point (older exports: `<Location date latitude longitude altitude .../>`), or
 * why it cannot be stored (checked here like the GPX points and HAE's, where its place is known).
 */
export function locationPoint(workoutId: string, l: Node, seq: InstantSeq, latest: number): RoutePointRecord | string {
  const lat = toNum(l.latitude);
  const lon = toNum(l.longitude);
  if (!(lat >= -90 && lat <= 90)) return `route point latitude ${show(str(l.latitude))} is outside -90..90`;
  if (!(lon >= -180 && lon <= 180)) return `route point longitude ${show(str(l.longitude))} is outside -180..180`;
  const time = parseHaeDate(str(l.date) ?? str(l.timestamp));
  if (time === null) return `route point date ${show(str(l.date))} is not a date`;
  const opt = (v: unknown) => {
    const n = toNum(v);
    return n === n ? n : null;
  };
  const r: RoutePointRecord = {
    kind: 'route_point',
    workoutId,
    time,
    seq: seq.next(time),
    latitude: lat,
    longitude: lon,
    altitude: opt(l.altitude),
    course: opt(l.course),
    courseAccuracy: null,
    speed: opt(l.speed),
    speedAccuracy: null,
    horizontalAccuracy: opt(l.horizontalAccuracy),
    verticalAccuracy: opt(l.verticalAccuracy),
  };
  return recordProblem(r, latest) ?? r;
}

// ---------------------------------------------------------------------------------------------

const SYSTOLIC = 'HKQuantityTypeIdentifierBloodPressureSystolic';
const DIASTOLIC = 'HKQuantityTypeIdentifierBloodPressureDiastolic';
const BLOOD_PRESSURE = 'HKCorrelationTypeIdentifierBloodPressure';

export function isBloodPressure(c: Node): boolean {
  return c.type === BLOOD_PRESSURE;
}

/**
 * A Correlation. Its component Records also appear as top-level Records (stored from there), so
 * a blood-pressure correlation only adds the paired reading (blood_pressure_metrics); any other
 * correlation (Food, ...) is kept whole as an event in section `correlation`.
 */
export function mapCorrelation(c: Node): BloodPressureRecord | EventRecord | string {
  const type = str(c.type) ?? '';
  const start = str(c.startDate);
  const time = parseHaeDate(start);
  const label = type === BLOOD_PRESSURE ? 'blood_pressure' : `correlation ${type || '(no type)'}`;
  if (time === null) return `${label} startDate ${show(start)} is not a date`;
  const source = str(c.sourceName) ?? '';
  const records = children(c, 'Record');
  if (type === BLOOD_PRESSURE) {
    const sys = records.find((r) => r.type === SYSTOLIC);
    const dia = records.find((r) => r.type === DIASTOLIC);
    if (!sys) return 'blood_pressure systolic missing';
    if (!dia) return 'blood_pressure diastolic missing';
    const systolic = toNum(sys.value);
    const diastolic = toNum(dia.value);
    if (systolic !== systolic) return `blood_pressure systolic ${show(str(sys.value))} is not a number`;
    if (diastolic !== diastolic) return `blood_pressure diastolic ${show(str(dia.value))} is not a number`;
    if (systolic < SYSTOLIC_MIN || systolic > SYSTOLIC_MAX) return `blood_pressure systolic ${systolic} is outside ${SYSTOLIC_MIN}..${SYSTOLIC_MAX} mmHg`;
    if (diastolic < DIASTOLIC_MIN || diastolic > DIASTOLIC_MAX) return `blood_pressure diastolic ${diastolic} is outside ${DIASTOLIC_MIN}..${DIASTOLIC_MAX} mmHg`;
    if (diastolic > systolic) return `blood_pressure diastolic ${diastolic} is above systolic ${systolic}`;
    return {
      kind: 'blood_pressure',
      time,
      source,
      unit: normUnit(str(sys.unit)),
      systolic,
      diastolic,
      extra: c.metadata ?? null,
    };
  }
  const endTime = parseHaeDate(str(c.endDate));
  const data: Record<string, unknown> = {
    type,
    startDate: start,
    endDate: str(c.endDate) ?? null,
    source,
    records: records.map((r) => {
      const o: Record<string, unknown> = { type: r.type, value: typeof r.value === 'string' ? numOrText(r.value) : null, unit: normUnit(str(r.unit)) };
      if (r.metadata) o.metadata = r.metadata;
      return o;
    }),
  };
  if (c.metadata) data.metadata = c.metadata;
  return {
    kind: 'event',
    section: 'correlation',
    time,
    endTime: endTime !== null && endTime >= time ? endTime : null,
    eventKey: 'apple-' + sha1Hex32(`${type}|${time}|${endTime}|${source}`),
    source,
    data,
  };
}

/**
 * An ActivitySummary (the rings of one day) → an event in section `activitySummary`, keyed by
 * its day (re-imports and later exports update the same row). The day is stored at UTC
 * midnight of dateComponents (the summary has no time of day and no offset). Numbers as numbers;
 * units (activeEnergyBurnedUnit) as written, Cal → kcal.
 */
export function mapActivitySummary(a: Record<string, string>): EventRecord | string {
  const day = a.dateComponents;
  const time = day !== undefined && day.length === 10 ? parseHaeDate(day) : null;
  if (time === null) return `activitySummary dateComponents ${show(day)} is not a date`;
  const data: Record<string, unknown> = {};
  for (const k in a) {
    const v = a[k];
    if (k === 'dateComponents') data.date = v;
    else if (k.endsWith('Unit')) data[k] = normUnit(v);
    else data[k] = numOrText(v);
  }
  return { kind: 'event', section: 'activitySummary', time, endTime: null, eventKey: day as string, source: '', data };
}
