/**
 * One WORKOUT object (export version 1 or 2) → a WorkoutRecord followed by its children
 * (route points, session/recovery heart rate, other per-sample series). A bad child is a reject
 * with a pathSuffix like `.route[17]`; the workout and its other children are still emitted.
 * A workout without a usable name/start/end is rejected whole (children are not emitted: they
 * would have no workout to belong to).
 */
import type {
  MapResult,
  Quantity,
  RoutePointRecord,
  WorkoutHeartRateRecord,
  WorkoutRecord,
  WorkoutSeriesRecord,
} from './records.js';
import { parseHaeDate } from './dates.js';
import { checkHr } from './map-metric.js';
import { RECOVERY_MAX_SPAN_MS, RECOVERY_START_SLACK_MS, mayBeNegative } from './map-rules.js';
import { absent, durationToSeconds, isObj, optNum, put, quantityOf, rej, sha1Hex32, show, strOr, strOrNull, toNum, type Obj } from './map-util.js';

/** Stable id of a v1 workout (which has none): same name/start/end text → same id. */
export function v1WorkoutId(name: string, start: string, end: string): string {
  return 'v1-' + sha1Hex32(name + '|' + start + '|' + end);
}

export function mapWorkout(w: unknown, out: MapResult): void {
  if (!isObj(w)) {
    out.rejects.push(rej('workout', `workout is not an object: ${show(w)}`));
    return;
  }
  const name = w.name;
  if (typeof name !== 'string' || name.length === 0) {
    out.rejects.push(rej('workout', absent(name) ? 'workout name missing' : `workout name ${show(name)} is empty or not a string`));
    return;
  }
  const start = w.start;
  const end = w.end;
  if (absent(start)) return void out.rejects.push(rej('workout', `workout "${name}" start missing`));
  if (absent(end)) return void out.rejects.push(rej('workout', `workout "${name}" end missing`));
  const time = parseHaeDate(start);
  if (time === null) return void out.rejects.push(rej('workout', `workout "${name}" start ${show(start)} is not a date`));
  const endTime = parseHaeDate(end);
  if (endTime === null) return void out.rejects.push(rej('workout', `workout "${name}" end ${show(end)} is not a date`));
  if (endTime < time) {
    out.rejects.push(rej('workout', `workout "${name}" end ${show(end)} is before start ${show(start)}`));
    return;
  }

  // Version 2 is recognised by its string `id`; v1 gets a derived one from the raw texts.
  const id = w.id;
  const v2 = typeof id === 'string' && id.length > 0;
  const workoutId = v2 ? (id as string) : v1WorkoutId(name, start as string, end as string);

  let durationS: number | null = null;
  let location: string | null = null;
  let metadata: Obj | null = null;
  let route: unknown[] | null = null;
  let hrData: unknown[] | null = null;
  let hrRecovery: unknown[] | null = null;
  let seriesKeys: string[] | null = null;
  const summary: Obj = {};

  for (const k in w) {
    const v = w[k];
    switch (k) {
      case 'id':
      case 'name':
      case 'start':
      case 'end':
        continue;
      case 'duration': {
        const d = durationSeconds(v);
        if (d !== null) durationS = d;
        else if (!absent(v)) put(summary, k, v); // unusable duration: kept as written
        continue;
      }
      case 'location':
        if (typeof v === 'string') location = v;
        else if (!absent(v)) put(summary, k, v);
        continue;
      case 'metadata':
        if (isObj(v)) metadata = v;
        else if (!absent(v)) put(summary, k, v);
        continue;
      case 'route':
        if (Array.isArray(v)) route = v;
        else if (!absent(v)) put(summary, k, v);
        continue;
      case 'heartRateData':
        if (Array.isArray(v)) hrData = v;
        else if (!absent(v)) put(summary, k, v);
        continue;
      case 'heartRateRecovery':
        if (Array.isArray(v)) hrRecovery = v;
        else if (!absent(v)) put(summary, k, v);
        continue;
    }
    if (Array.isArray(v)) {
      if (v.length === 0) continue; // an empty series says nothing
      if (looksLikeSamples(v)) {
        (seriesKeys ??= []).push(k);
        continue;
      }
    }
    put(summary, k, v);
  }

  // activeEnergyBurned {qty,units} (v2), else activeEnergy when it is an object (v1; in v2 it is
  // a per-sample array). Both stay in `summary` too, as written.
  let activeEnergy: Quantity | null = quantityOf(w.activeEnergyBurned);
  if (activeEnergy === null && isObj(w.activeEnergy)) activeEnergy = quantityOf(w.activeEnergy);

  const rec: WorkoutRecord = {
    kind: 'workout',
    workoutId,
    idDerived: !v2,
    exportVersion: v2 ? 2 : 1,
    name,
    time,
    endTime,
    durationS,
    location,
    activeEnergy,
    distance: quantityOf(w.distance),
    summary,
    metadata,
    heartRateLooksLikeRecovery: false,
    routePoints: 0,
  };
  out.records.push(rec);

  if (route !== null) rec.routePoints = mapRoute(workoutId, route, out);

  if (hrData !== null && hrData.length > 0) {
    const st = mapWorkoutHr(workoutId, 'session', 'heartRateData', hrData, out);
    rec.heartRateLooksLikeRecovery =
      (hrRecovery === null || hrRecovery.length === 0) &&
      st.valid > 0 &&
      st.flat &&
      st.first >= endTime - RECOVERY_START_SLACK_MS &&
      st.last - st.first <= RECOVERY_MAX_SPAN_MS;
  }
  if (hrRecovery !== null && hrRecovery.length > 0) {
    mapWorkoutHr(workoutId, 'recovery', 'heartRateRecovery', hrRecovery, out);
  }
  if (seriesKeys !== null) {
    for (const key of seriesKeys) mapSeries(workoutId, key, w[key] as unknown[], out);
  }
}

/** Seconds from `duration`: a number / numeric string of seconds, or `{qty, units}` (s, min, hr). */
function durationSeconds(v: unknown): number | null {
  return isObj(v) ? durationToSeconds(toNum(v.qty), v.units) : durationToSeconds(toNum(v), undefined);
}

/** An array field is a per-sample series when its first element is an object with date and qty. */
function looksLikeSamples(a: unknown[]): boolean {
  const e = a[0];
  return isObj(e) && e.date !== undefined && e.qty !== undefined;
}

// ---------------------------------------------------------------------------------------------

function mapRoute(workoutId: string, route: unknown[], out: MapResult): number {
  let ok = 0;
  for (let i = 0; i < route.length; i++) {
    const p = route[i];
    const why = mapRoutePoint(workoutId, p, out);
    if (why === null) ok++;
    else out.rejects.push(rej('route_point', why, `.route[${i}]`, p));
  }
  return ok;
}

/** Pushes the point and returns null, or returns the reject reason. v1 lat/lon, v2 latitude/longitude. */
function mapRoutePoint(workoutId: string, p: unknown, out: MapResult): string | null {
  if (!isObj(p)) return `route point is not an object: ${show(p)}`;
  let rawLat = p.latitude;
  if (rawLat === undefined) rawLat = p.lat;
  let rawLon = p.longitude;
  if (rawLon === undefined) rawLon = p.lon;
  if (absent(rawLat)) return 'route point latitude missing';
  if (absent(rawLon)) return 'route point longitude missing';
  const latitude = toNum(rawLat);
  const longitude = toNum(rawLon);
  if (!(latitude >= -90 && latitude <= 90)) return `route point latitude ${show(rawLat)} is outside -90..90`;
  if (!(longitude >= -180 && longitude <= 180)) return `route point longitude ${show(rawLon)} is outside -180..180`;
  let ts = p.timestamp;
  if (ts === undefined) ts = p.date;
  if (absent(ts)) return 'route point timestamp missing';
  const time = parseHaeDate(ts);
  if (time === null) return `route point timestamp ${show(ts)} is not a date`;
  const r: RoutePointRecord = {
    kind: 'route_point',
    workoutId,
    time,
    latitude,
    longitude,
    // Optional measurements: a value that is not a number is stored as null (not a reason to
    // lose the point). CoreLocation's -1 "invalid" markers are kept as written.
    altitude: numOrNull(p.altitude),
    course: numOrNull(p.course),
    courseAccuracy: numOrNull(p.courseAccuracy),
    speed: numOrNull(p.speed),
    speedAccuracy: numOrNull(p.speedAccuracy),
    horizontalAccuracy: numOrNull(p.horizontalAccuracy),
    verticalAccuracy: numOrNull(p.verticalAccuracy),
  };
  out.records.push(r);
  return null;
}

function numOrNull(v: unknown): number | null {
  const n = optNum(v);
  return n === n ? n : null;
}

// ---------------------------------------------------------------------------------------------

interface HrStats {
  valid: number;
  /** Every valid sample has Min == Avg == Max (a sample with only qty/Avg counts as flat). */
  flat: boolean;
  first: number;
  last: number;
}

function mapWorkoutHr(
  workoutId: string,
  series: 'session' | 'recovery',
  field: string,
  arr: unknown[],
  out: MapResult,
): HrStats {
  const st: HrStats = { valid: 0, flat: true, first: Infinity, last: -Infinity };
  for (let i = 0; i < arr.length; i++) {
    const e = arr[i];
    let why: string | null = null;
    if (!isObj(e)) {
      why = `${field} sample is not an object: ${show(e)}`;
    } else {
      let rawDate = e.date;
      if (rawDate === undefined) rawDate = e.startDate;
      const time = parseHaeDate(rawDate);
      if (time === null) {
        why = absent(rawDate) ? `${field} date missing` : `${field} date ${show(rawDate)} is not a date`;
      } else {
        let mn = e.Min;
        if (mn === undefined) mn = e.min;
        let mx = e.Max;
        if (mx === undefined) mx = e.max;
        let av = e.Avg;
        let avKey = 'Avg';
        if (av === undefined) {
          av = e.avg;
          avKey = 'avg';
          if (av === undefined) {
            av = e.qty; // v1: {date, qty, units}
            avKey = 'qty';
          }
        }
        const hr = checkHr(field, mn, av, avKey, mx);
        if (typeof hr === 'string') {
          why = hr;
        } else {
          const r: WorkoutHeartRateRecord = {
            kind: 'workout_heart_rate',
            workoutId,
            series,
            time,
            source: strOr(e.source, ''),
            unit: strOrNull(e.units),
            min: hr.min,
            avg: hr.avg,
            max: hr.max,
          };
          out.records.push(r);
          st.valid++;
          if ((hr.min !== null && hr.min !== hr.avg) || (hr.max !== null && hr.max !== hr.avg)) st.flat = false;
          if (time < st.first) st.first = time;
          if (time > st.last) st.last = time;
        }
      }
    }
    if (why !== null) out.rejects.push(rej('workout_heart_rate', why, `.${field}[${i}]`, e));
  }
  return st;
}

function mapSeries(workoutId: string, key: string, arr: unknown[], out: MapResult): void {
  const negOk = mayBeNegative(key.toLowerCase());
  for (let i = 0; i < arr.length; i++) {
    const e = arr[i];
    let why: string | null = null;
    if (!isObj(e)) {
      why = `${key} sample is not an object: ${show(e)}`;
    } else {
      const time = parseHaeDate(e.date);
      const qty = toNum(e.qty);
      if (time === null) why = absent(e.date) ? `${key} date missing` : `${key} date ${show(e.date)} is not a date`;
      else if (qty !== qty) why = absent(e.qty) ? `${key} qty missing` : `${key} qty ${show(e.qty)} is not a number`;
      else if (qty < 0 && !negOk) why = `${key} qty ${qty} is negative`;
      else {
        const r: WorkoutSeriesRecord = {
          kind: 'workout_series',
          workoutId,
          series: key,
          time,
          source: strOr(e.source, ''),
          unit: strOrNull(e.units),
          qty,
        };
        out.records.push(r);
      }
    }
    if (why !== null) out.rejects.push(rej('workout_series', why, `.${key}[${i}]`, e));
  }
}
