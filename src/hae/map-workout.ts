/**
 * One WORKOUT object (export version 1 or 2) → a WorkoutRecord followed by its children
 * (route points, session/recovery heart rate, other per-sample series). A bad child is a reject
 * with a pathSuffix like `.route[17]`; the workout and its other children are still emitted.
 * A workout without a usable name/start/end, or one that cannot be stored (an id too long to be
 * a key, a NUL in it, a start outside the accepted dates: src/records/admissible.ts), is rejected
 * whole (children are not emitted: they would have no workout to belong to). Each child is
 * checked the same way where its path is known.
 */
import type {
  MapResult,
  Quantity,
  RoutePointRecord,
  WorkoutHeartRateRecord,
  WorkoutRecord,
  WorkoutSeriesRecord,
} from '../records/model.js';
import { recordProblem } from '../records/admissible.js';
import { parseHaeDate } from '../records/dates.js';
import { InstantSeq } from '../records/instant-seq.js';
import { checkHr } from './map-metric.js';
import { RECOVERY_MAX_SPAN_MS, RECOVERY_START_SLACK_MS, mayBeNegative } from '../records/bounds.js';
import { absent, durationToSeconds, isObj, optNum, put, quantityOf, rej, sha1Hex32, show, strOr, strOrNull, toNum, type Obj } from '../records/values.js';

/** Stable id of a v1 workout (which has none): same name/start/end text → same id. */
export function v1WorkoutId(name: string, start: string, end: string): string {
  return 'v1-' + sha1Hex32(name + '|' + start + '|' + end);
}

/**
 * One workout: checks its name and times, sorts its fields into what is modelled, per-sample
 * series and the rest (kept in `summary`), then emits the WorkoutRecord and its children.
 */
export function mapWorkout(w: unknown, out: MapResult, latest: number): void {
  const head = workoutHead(w, out);
  if (head === null) return;
  const { name, time, endTime } = head;
  const fields = sortFields(head.w);

  // Version 2 is recognised by its string `id`; v1 gets a derived one from the raw texts.
  const id = head.w.id;
  const v2 = typeof id === 'string' && id.length > 0;
  const workoutId = v2 ? (id as string) : v1WorkoutId(name, head.w.start as string, head.w.end as string);

  // activeEnergyBurned {qty,units} (v2), else activeEnergy when it is an object (v1; in v2 it is
  // a per-sample array). Both stay in `summary` too, as written.
  let activeEnergy: Quantity | null = quantityOf(head.w.activeEnergyBurned);
  if (activeEnergy === null && isObj(head.w.activeEnergy)) activeEnergy = quantityOf(head.w.activeEnergy);

  const rec: WorkoutRecord = {
    kind: 'workout',
    workoutId,
    idDerived: !v2,
    exportVersion: v2 ? 2 : 1,
    name,
    time,
    endTime,
    durationS: fields.durationS,
    location: fields.location,
    activeEnergy,
    distance: quantityOf(head.w.distance),
    summary: fields.summary,
    metadata: fields.metadata,
    heartRateLooksLikeRecovery: false,
    routePoints: 0,
  };
  const bad = recordProblem(rec, latest);
  if (bad !== null) {
    out.rejects.push(rej('workout', bad));
    return;
  }
  out.records.push(rec);
  mapChildren(rec, head.w, fields, out, latest);
}

/** The workout object with its name and times checked, or null (and a reject). */
function workoutHead(w: unknown, out: MapResult): { w: Obj; name: string; time: number; endTime: number } | null {
  const fail = (reason: string) => {
    out.rejects.push(rej('workout', reason));
    return null;
  };
  if (!isObj(w)) return fail(`workout is not an object: ${show(w)}`);
  const name = w.name;
  if (typeof name !== 'string' || name.length === 0) {
    return fail(absent(name) ? 'workout name missing' : `workout name ${show(name)} is empty or not a string`);
  }
  const { start, end } = w;
  if (absent(start)) return fail(`workout "${name}" start missing`);
  if (absent(end)) return fail(`workout "${name}" end missing`);
  const time = parseHaeDate(start);
  if (time === null) return fail(`workout "${name}" start ${show(start)} is not a date`);
  const endTime = parseHaeDate(end);
  if (endTime === null) return fail(`workout "${name}" end ${show(end)} is not a date`);
  if (endTime < time) return fail(`workout "${name}" end ${show(end)} is before start ${show(start)}`);
  return { w, name, time, endTime };
}

interface WorkoutFields {
  durationS: number | null;
  location: string | null;
  metadata: Obj | null;
  route: unknown[] | null;
  hrData: unknown[] | null;
  hrRecovery: unknown[] | null;
  /** Keys of the other per-sample series (v2 activeEnergy, stepCount, ...). */
  seriesKeys: string[];
  /** Everything not modelled, as written (a field of the wrong type included: never dropped). */
  summary: Obj;
}

function sortFields(w: Obj): WorkoutFields {
  const f: WorkoutFields = {
    durationS: null, location: null, metadata: null, route: null, hrData: null, hrRecovery: null, seriesKeys: [], summary: {},
  };
  const keep = (k: string, v: unknown) => {
    if (!absent(v)) put(f.summary, k, v);
  };
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
        if (d !== null) f.durationS = d;
        else keep(k, v); // unusable duration: kept as written
        continue;
      }
      case 'location':
        if (typeof v === 'string') f.location = v;
        else keep(k, v);
        continue;
      case 'metadata':
        if (isObj(v)) f.metadata = v;
        else keep(k, v);
        continue;
      case 'route':
        if (Array.isArray(v)) f.route = v;
        else keep(k, v);
        continue;
      case 'heartRateData':
        if (Array.isArray(v)) f.hrData = v;
        else keep(k, v);
        continue;
      case 'heartRateRecovery':
        if (Array.isArray(v)) f.hrRecovery = v;
        else keep(k, v);
        continue;
    }
    if (Array.isArray(v)) {
      if (v.length === 0) continue; // an empty series says nothing
      if (looksLikeSamples(v)) {
        f.seriesKeys.push(k);
        continue;
      }
    }
    put(f.summary, k, v);
  }
  return f;
}

/** Route points, heart rate (flagging a recovery series in its place), and the other series. */
function mapChildren(rec: WorkoutRecord, w: Obj, f: WorkoutFields, out: MapResult, latest: number): void {
  const { workoutId } = rec;
  if (f.route !== null) rec.routePoints = mapRoute(workoutId, f.route, out, latest);
  const hasRecovery = f.hrRecovery !== null && f.hrRecovery.length > 0;
  if (f.hrData !== null && f.hrData.length > 0) {
    const st = mapWorkoutHr(workoutId, 'session', 'heartRateData', f.hrData, out, latest);
    rec.heartRateLooksLikeRecovery =
      !hasRecovery &&
      st.valid > 0 &&
      st.flat &&
      st.first >= rec.endTime - RECOVERY_START_SLACK_MS &&
      st.last - st.first <= RECOVERY_MAX_SPAN_MS;
  }
  if (hasRecovery) mapWorkoutHr(workoutId, 'recovery', 'heartRateRecovery', f.hrRecovery!, out, latest);
  for (const key of f.seriesKeys) mapSeries(workoutId, key, w[key] as unknown[], out, latest);
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

function mapRoute(workoutId: string, route: unknown[], out: MapResult, latest: number): number {
  let ok = 0;
  const seq = new InstantSeq();
  for (let i = 0; i < route.length; i++) {
    const p = route[i];
    const why = mapRoutePoint(workoutId, p, seq, out, latest);
    if (why === null) ok++;
    else out.rejects.push(rej('route_point', why, `.route[${i}]`, p));
  }
  return ok;
}

/** Pushes the point and returns null, or returns the reject reason. v1 lat/lon, v2 latitude/longitude. */
function mapRoutePoint(workoutId: string, p: unknown, seq: InstantSeq, out: MapResult, latest: number): string | null {
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
    seq: seq.next(time),
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
  const bad = recordProblem(r, latest);
  if (bad === null) out.records.push(r);
  return bad;
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
  latest: number,
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
          why = recordProblem(r, latest);
          if (why === null) {
            out.records.push(r);
            st.valid++;
            if ((hr.min !== null && hr.min !== hr.avg) || (hr.max !== null && hr.max !== hr.avg)) st.flat = false;
            if (time < st.first) st.first = time;
            if (time > st.last) st.last = time;
          }
        }
      }
    }
    if (why !== null) out.rejects.push(rej('workout_heart_rate', why, `.${field}[${i}]`, e));
  }
  return st;
}

function mapSeries(workoutId: string, key: string, arr: unknown[], out: MapResult, latest: number): void {
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
        why = recordProblem(r, latest);
        if (why === null) out.records.push(r);
      }
    }
    if (why !== null) out.rejects.push(rej('workout_series', why, `.${key}[${i}]`, e));
  }
}
