/**
 * One datapoint of a METRIC → a typed record (heart rate, blood pressure, sleep night, sleep
 * stage, or the generic QuantityRecord for every other name, known or not), or a reject.
 *
 * Each shape is read with a single `for...in` pass that both picks the modelled fields and
 * collects the rest into `extra` (allocated only when there is something to put there).
 */
import type {
  BloodPressureRecord,
  HeartRateRecord,
  MapResult,
  QuantityRecord,
  RecordKind,
  SleepNightRecord,
  SleepStageRecord,
} from '../records/model.js';
import { parseHaeDate } from '../records/dates.js';
import {
  DIASTOLIC_MAX,
  DIASTOLIC_MIN,
  HEART_RATE_MAX,
  HEART_RATE_MIN,
  PERCENT_MAX,
  SLEEP_MAX_HOURS,
  SYSTOLIC_MAX,
  SYSTOLIC_MIN,
  boundBroken,
  mayBeNegative,
  sleepMaxInUnit,
} from '../records/bounds.js';
import { absent, isObj, optNum, put, rej, show, toNum, type Obj } from '../records/values.js';

const HOUR_MS = 3_600_000;

export function mapMetricPoint(
  metric: string | undefined,
  metricUnits: string | undefined,
  value: unknown,
  out: MapResult,
): void {
  if (typeof metric !== 'string' || metric.length === 0) {
    out.rejects.push(rej('quantity', metric === undefined ? 'metric name missing' : `metric name ${show(metric)} is empty or not a string`));
    return;
  }
  if (!isObj(value)) {
    out.rejects.push(rej(kindOfName(metric), `${metric} datapoint is not an object: ${show(value)}`));
    return;
  }
  const unit = typeof metricUnits === 'string' ? metricUnits : null;
  switch (metric) {
    case 'heart_rate':
      mapHeartRate(unit, value, out);
      return;
    case 'blood_pressure':
      mapBloodPressure(unit, value, out);
      return;
    case 'sleep_analysis':
      mapSleep(unit, value, out);
      return;
    default:
      mapQuantity(metric, unit, value, out);
  }
}

function kindOfName(metric: string): RecordKind | null {
  switch (metric) {
    case 'heart_rate':
      return 'heart_rate';
    case 'blood_pressure':
      return 'blood_pressure';
    case 'sleep_analysis':
      return null; // night or stage: unknowable without the object
    default:
      return 'quantity';
  }
}

/** `date` (or, when there is no `date`, `startDate`) as epoch ms, or a reject reason string. */
function pointTime(metric: string, date: unknown, startDate: unknown): number | string {
  if (absent(date)) {
    if (absent(startDate)) return `${metric} date missing`;
    const t = parseHaeDate(startDate);
    return t === null ? `${metric} startDate ${show(startDate)} is not a date` : t;
  }
  const t = parseHaeDate(date);
  return t === null ? `${metric} date ${show(date)} is not a date` : t;
}

// ---------------------------------------------------------------------------------------------
// heart_rate

/** Heart-rate triple read from Min/Avg/Max (or min/avg/max, or qty as avg): shared with workouts. */
export interface HrValues {
  min: number | null;
  avg: number;
  max: number | null;
}

/**
 * Validates raw Min/Avg/Max values (`avgKey` names the field avg came from, for the reason).
 * Returns the values or a reject reason.
 */
export function checkHr(
  label: string,
  rawMin: unknown,
  rawAvg: unknown,
  avgKey: string,
  rawMax: unknown,
): HrValues | string {
  if (absent(rawAvg)) return `${label} Avg missing`;
  const avg = toNum(rawAvg);
  const e1 = hrRange(label, avgKey, rawAvg, avg);
  if (e1 !== null) return e1;
  const min = optNum(rawMin);
  if (min !== null) {
    const e = hrRange(label, 'Min', rawMin, min);
    if (e !== null) return e;
  }
  const max = optNum(rawMax);
  if (max !== null) {
    const e = hrRange(label, 'Max', rawMax, max);
    if (e !== null) return e;
  }
  return { min, avg, max };
}

function hrRange(label: string, field: string, raw: unknown, n: number): string | null {
  if (n !== n) return `${label} ${field} ${show(raw)} is not a number`;
  if (n < HEART_RATE_MIN || n > HEART_RATE_MAX) {
    return `${label} ${field} ${n} is outside ${HEART_RATE_MIN}..${HEART_RATE_MAX} bpm`;
  }
  return null;
}

function mapHeartRate(unit: string | null, o: Obj, out: MapResult): void {
  let date: unknown, startDate: unknown, source: unknown;
  let mn: unknown, av: unknown, mx: unknown;
  let avKey = 'Avg';
  let extra: Obj | null = null;
  for (const k in o) {
    const v = o[k];
    switch (k) {
      case 'date':
        date = v;
        continue;
      case 'source':
        if (typeof v === 'string') {
          source = v;
          continue;
        }
        break;
      case 'units':
        if (typeof v === 'string') {
          unit = v;
          continue;
        }
        break;
      case 'Min':
      case 'min':
        if (mn === undefined) {
          mn = v;
          continue;
        }
        break;
      case 'Avg':
      case 'avg':
      case 'qty':
        if (av === undefined) {
          av = v;
          avKey = k;
          continue;
        }
        break;
      case 'Max':
      case 'max':
        if (mx === undefined) {
          mx = v;
          continue;
        }
        break;
      case 'startDate':
        startDate = v;
        continue;
    }
    if (extra === null) extra = {};
    put(extra, k, v);
  }
  if (!absent(date) && startDate !== undefined) {
    if (extra === null) extra = {};
    put(extra, 'startDate', startDate);
  }
  const time = pointTime('heart_rate', date, startDate);
  if (typeof time === 'string') {
    out.rejects.push(rej('heart_rate', time));
    return;
  }
  const hr = checkHr('heart_rate', mn, av, avKey, mx);
  if (typeof hr === 'string') {
    out.rejects.push(rej('heart_rate', hr));
    return;
  }
  const r: HeartRateRecord = {
    kind: 'heart_rate',
    time,
    source: (source as string | undefined) ?? '',
    unit,
    min: hr.min,
    avg: hr.avg,
    max: hr.max,
    extra,
  };
  out.records.push(r);
}

// ---------------------------------------------------------------------------------------------
// blood_pressure

function mapBloodPressure(unit: string | null, o: Obj, out: MapResult): void {
  let date: unknown, startDate: unknown, source: unknown, sys: unknown, dia: unknown;
  let extra: Obj | null = null;
  for (const k in o) {
    const v = o[k];
    switch (k) {
      case 'date':
        date = v;
        continue;
      case 'startDate':
        startDate = v;
        continue;
      case 'systolic':
        sys = v;
        continue;
      case 'diastolic':
        dia = v;
        continue;
      case 'source':
        if (typeof v === 'string') {
          source = v;
          continue;
        }
        break;
      case 'units':
        if (typeof v === 'string') {
          unit = v;
          continue;
        }
        break;
    }
    if (extra === null) extra = {};
    put(extra, k, v);
  }
  if (!absent(date) && startDate !== undefined) {
    if (extra === null) extra = {};
    put(extra, 'startDate', startDate);
  }
  const time = pointTime('blood_pressure', date, startDate);
  if (typeof time === 'string') {
    out.rejects.push(rej('blood_pressure', time));
    return;
  }
  if (absent(sys)) return void out.rejects.push(rej('blood_pressure', 'blood_pressure systolic missing'));
  if (absent(dia)) return void out.rejects.push(rej('blood_pressure', 'blood_pressure diastolic missing'));
  const systolic = toNum(sys);
  const diastolic = toNum(dia);
  let why: string | null = null;
  if (systolic !== systolic) why = `blood_pressure systolic ${show(sys)} is not a number`;
  else if (diastolic !== diastolic) why = `blood_pressure diastolic ${show(dia)} is not a number`;
  else if (systolic < SYSTOLIC_MIN || systolic > SYSTOLIC_MAX) {
    why = `blood_pressure systolic ${systolic} is outside ${SYSTOLIC_MIN}..${SYSTOLIC_MAX} mmHg`;
  } else if (diastolic < DIASTOLIC_MIN || diastolic > DIASTOLIC_MAX) {
    why = `blood_pressure diastolic ${diastolic} is outside ${DIASTOLIC_MIN}..${DIASTOLIC_MAX} mmHg`;
  } else if (diastolic > systolic) {
    why = `blood_pressure diastolic ${diastolic} is above systolic ${systolic}`;
  }
  if (why !== null) {
    out.rejects.push(rej('blood_pressure', why));
    return;
  }
  const r: BloodPressureRecord = {
    kind: 'blood_pressure',
    time,
    source: (source as string | undefined) ?? '',
    unit,
    systolic,
    diastolic,
    extra,
  };
  out.records.push(r);
}

// ---------------------------------------------------------------------------------------------
// sleep_analysis

function mapSleep(unit: string | null, o: Obj, out: MapResult): void {
  // Unaggregated stage intervals carry startDate/endDate (and a string `value`); aggregated
  // nights carry totalSleep/asleep/inBed/... A sleep_analysis point that is neither is handled
  // as a plain quantity (stored, not dropped; rejected there if it has no qty/value).
  if (o.startDate !== undefined || o.endDate !== undefined) {
    mapSleepStage(unit, o, out);
    return;
  }
  if (
    o.totalSleep === undefined &&
    o.asleep === undefined &&
    o.inBed === undefined &&
    o.core === undefined &&
    o.deep === undefined &&
    o.rem === undefined &&
    o.awake === undefined &&
    o.sleepStart === undefined &&
    o.inBedStart === undefined
  ) {
    mapQuantity('sleep_analysis', unit, o, out);
    return;
  }
  mapSleepNight(unit, o, out);
}

/** Duration fields of an aggregated night, in SleepNightRecord order. */
const NIGHT_DUR = ['totalSleep', 'core', 'deep', 'rem', 'awake', 'inBed', 'asleep'] as const;

function mapSleepNight(unit: string | null, o: Obj, out: MapResult): void {
  let date: unknown, source: unknown;
  let totalSleep: unknown, asleep: unknown, core: unknown, deep: unknown, rem: unknown, awake: unknown, inBed: unknown;
  let sleepStart: unknown, sleepEnd: unknown, inBedStart: unknown, inBedEnd: unknown;
  let extra: Obj | null = null;
  for (const k in o) {
    const v = o[k];
    switch (k) {
      case 'date': date = v; continue;
      case 'totalSleep': totalSleep = v; continue;
      case 'asleep': asleep = v; continue;
      case 'core': core = v; continue;
      case 'deep': deep = v; continue;
      case 'rem': rem = v; continue;
      case 'awake': awake = v; continue;
      case 'inBed': inBed = v; continue;
      case 'sleepStart': sleepStart = v; continue;
      case 'sleepEnd': sleepEnd = v; continue;
      case 'inBedStart': inBedStart = v; continue;
      case 'inBedEnd': inBedEnd = v; continue;
      case 'source':
        if (typeof v === 'string') {
          source = v;
          continue;
        }
        break;
      case 'units':
        if (typeof v === 'string') {
          unit = v;
          continue;
        }
        break;
    }
    if (extra === null) extra = {};
    put(extra, k, v);
  }
  // The night's instant: `date`; nights from some third-party sleep apps carry no `date`, only
  // sleepStart/sleepEnd: keyed on sleepEnd, the night's end (hae-format.md, "Quirks").
  let time: number | string;
  if (!absent(date)) time = pointTime('sleep_analysis', date, undefined);
  else if (absent(sleepEnd)) time = 'sleep_analysis date missing (and no sleepEnd to key the night on)';
  else time = parseHaeDate(sleepEnd) ?? `sleep_analysis sleepEnd ${show(sleepEnd)} is not a date`;
  if (typeof time === 'string') {
    out.rejects.push(rej('sleep_night', time));
    return;
  }
  const max = sleepMaxInUnit(unit);
  const raws = [totalSleep, core, deep, rem, awake, inBed, asleep];
  const vals: (number | null)[] = [null, null, null, null, null, null, null];
  for (let i = 0; i < 7; i++) {
    const raw = raws[i];
    const field = NIGHT_DUR[i];
    const n = optNum(raw);
    if (n === null) continue;
    let why: string | null = null;
    if (n !== n) why = `sleep_analysis ${field} ${show(raw)} is not a number`;
    else if (n < 0) why = `sleep_analysis ${field} ${n} is negative`;
    else if (n > max) why = `sleep_analysis ${field} ${n} is above ${max} ${unit ?? 'hr'} (${SLEEP_MAX_HOURS} h)`;
    if (why !== null) {
      out.rejects.push(rej('sleep_night', why));
      return;
    }
    vals[i] = n;
  }
  // Without totalSleep the night's sleep is the sum of what was measured: `asleep` (older
  // exports: the whole night; 2023+ exports: 0 or "asleep, stage unknown") plus the stages.
  // Taking `asleep` alone gave 0-hour nights for the 2023+ shape (`asleep: 0`, core/deep/rem).
  if (vals[0] === null && (vals[6] !== null || vals[1] !== null || vals[2] !== null || vals[3] !== null)) {
    // Rounded: 3.3 + 0.86 + 1.26 should read 5.42, not 5.420000000000001.
    const sum = Number(((vals[6] ?? 0) + (vals[1] ?? 0) + (vals[2] ?? 0) + (vals[3] ?? 0)).toPrecision(12));
    if (sum > max) {
      out.rejects.push(rej('sleep_night', `sleep_analysis asleep + core + deep + rem = ${sum} is above ${max} ${unit ?? 'hr'} (${SLEEP_MAX_HOURS} h)`));
      return;
    }
    vals[0] = sum;
  }
  const ss = nightDate('sleepStart', sleepStart, out);
  if (ss === undefined) return;
  const se = nightDate('sleepEnd', sleepEnd, out);
  if (se === undefined) return;
  const bs = nightDate('inBedStart', inBedStart, out);
  if (bs === undefined) return;
  const be = nightDate('inBedEnd', inBedEnd, out);
  if (be === undefined) return;
  if (ss !== null && se !== null && !spanOk('sleepStart', 'sleepEnd', sleepStart, sleepEnd, ss, se, out)) return;
  if (bs !== null && be !== null && !spanOk('inBedStart', 'inBedEnd', inBedStart, inBedEnd, bs, be, out)) return;

  const r: SleepNightRecord = {
    kind: 'sleep_night',
    time,
    source: (source as string | undefined) ?? '',
    unit,
    totalSleep: vals[0],
    core: vals[1],
    deep: vals[2],
    rem: vals[3],
    awake: vals[4],
    inBed: vals[5],
    asleep: vals[6],
    sleepStart: ss,
    sleepEnd: se,
    inBedStart: bs,
    inBedEnd: be,
    extra,
  };
  out.records.push(r);
}

/** null when absent, epoch ms when valid, undefined after pushing a reject. */
function nightDate(field: string, raw: unknown, out: MapResult): number | null | undefined {
  if (absent(raw)) return null;
  const t = parseHaeDate(raw);
  if (t === null) {
    out.rejects.push(rej('sleep_night', `sleep_analysis ${field} ${show(raw)} is not a date`));
    return undefined;
  }
  return t;
}

function spanOk(
  fs: string,
  fe: string,
  rawS: unknown,
  rawE: unknown,
  s: number,
  e: number,
  out: MapResult,
): boolean {
  let why: string | null = null;
  if (e < s) why = `sleep_analysis ${fe} ${show(rawE)} is before ${fs} ${show(rawS)}`;
  else if (e - s > SLEEP_MAX_HOURS * HOUR_MS) why = `sleep_analysis ${fs}..${fe} spans more than ${SLEEP_MAX_HOURS} h`;
  if (why === null) return true;
  out.rejects.push(rej('sleep_night', why));
  return false;
}

function mapSleepStage(unit: string | null, o: Obj, out: MapResult): void {
  let date: unknown, startDate: unknown, endDate: unknown, qty: unknown, value: unknown, source: unknown;
  let extra: Obj | null = null;
  for (const k in o) {
    const v = o[k];
    switch (k) {
      case 'startDate': startDate = v; continue;
      case 'endDate': endDate = v; continue;
      case 'date': date = v; continue;
      case 'qty': qty = v; continue;
      case 'value':
        if (typeof v === 'string') {
          value = v;
          continue;
        }
        break;
      case 'source':
        if (typeof v === 'string') {
          source = v;
          continue;
        }
        break;
      case 'units':
        if (typeof v === 'string') {
          unit = v;
          continue;
        }
        break;
    }
    if (extra === null) extra = {};
    put(extra, k, v);
  }
  // The interval start is the record time; a `date` that says something else is kept in extra.
  if (!absent(startDate) && date !== undefined && parseHaeDate(date) !== parseHaeDate(startDate)) {
    if (extra === null) extra = {};
    put(extra, 'date', date);
  }
  const startField = absent(startDate) ? 'date' : 'startDate';
  const startRaw = absent(startDate) ? date : startDate;
  if (absent(startRaw)) {
    out.rejects.push(rej('sleep_stage', 'sleep_analysis startDate missing'));
    return;
  }
  const time = parseHaeDate(startRaw);
  if (time === null) {
    out.rejects.push(rej('sleep_stage', `sleep_analysis ${startField} ${show(startRaw)} is not a date`));
    return;
  }
  if (absent(endDate)) {
    out.rejects.push(rej('sleep_stage', 'sleep_analysis endDate missing'));
    return;
  }
  const endTime = parseHaeDate(endDate);
  let why: string | null = null;
  if (endTime === null) why = `sleep_analysis endDate ${show(endDate)} is not a date`;
  else if (endTime < time) why = `sleep_analysis endDate ${show(endDate)} is before ${startField} ${show(startRaw)}`;
  else if (endTime - time > SLEEP_MAX_HOURS * HOUR_MS) {
    why = `sleep_analysis stage ${show(startRaw)}..${show(endDate)} is longer than ${SLEEP_MAX_HOURS} h`;
  } else if (typeof value !== 'string' || value.length === 0) {
    why = `sleep_analysis value ${show(o.value)} is not a stage name`;
  }
  const q = optNum(qty);
  if (why === null && q !== null) {
    const max = sleepMaxInUnit(unit);
    if (q !== q) why = `sleep_analysis qty ${show(qty)} is not a number`;
    else if (q < 0) why = `sleep_analysis qty ${q} is negative`;
    else if (q > max) why = `sleep_analysis qty ${q} is above ${max} ${unit ?? 'hr'} (${SLEEP_MAX_HOURS} h)`;
  }
  if (why !== null) {
    out.rejects.push(rej('sleep_stage', why));
    return;
  }
  const r: SleepStageRecord = {
    kind: 'sleep_stage',
    time,
    endTime: endTime as number,
    stage: value as string,
    source: (source as string | undefined) ?? '',
    unit,
    qty: q,
    extra,
  };
  out.records.push(r);
}

// ---------------------------------------------------------------------------------------------
// every other metric (known or not)

function mapQuantity(metric: string, unit: string | null, o: Obj, out: MapResult): void {
  let date: unknown, startDate: unknown, endDate: unknown, qty: unknown, value: unknown, source: unknown;
  let extra: Obj | null = null;
  for (const k in o) {
    const v = o[k];
    switch (k) {
      case 'date': date = v; continue;
      case 'qty': qty = v; continue;
      case 'startDate': startDate = v; continue;
      case 'endDate': endDate = v; continue;
      case 'value':
        // string → text (category samples); number → the qty when there is no qty; other → extra
        if (typeof v === 'string' || (typeof v === 'number' && absent(o.qty))) {
          value = v;
          continue;
        }
        break;
      case 'source':
        if (typeof v === 'string') {
          source = v;
          continue;
        }
        break;
      case 'units':
        if (typeof v === 'string') {
          unit = v;
          continue;
        }
        break;
    }
    if (extra === null) extra = {};
    put(extra, k, v);
  }

  // Interval samples: time is the interval start (startDate), endTime its end. A `date` that
  // disagrees with startDate is kept in extra rather than dropped.
  let time: number | string;
  if (!absent(startDate)) {
    const t = parseHaeDate(startDate);
    time = t === null ? `${metric} startDate ${show(startDate)} is not a date` : t;
    if (date !== undefined && parseHaeDate(date) !== t) {
      if (extra === null) extra = {};
      put(extra, 'date', date);
    }
  } else {
    time = pointTime(metric, date, undefined);
  }
  if (typeof time === 'string') {
    out.rejects.push(rej('quantity', time));
    return;
  }
  let endTime: number | null = null;
  if (!absent(endDate)) {
    endTime = parseHaeDate(endDate);
    if (endTime === null) {
      out.rejects.push(rej('quantity', `${metric} endDate ${show(endDate)} is not a date`));
      return;
    }
    if (endTime < time) {
      out.rejects.push(rej('quantity', `${metric} endDate ${show(endDate)} is before its start ${show(startDate ?? date)}`));
      return;
    }
  }

  let q: number | null = null;
  let text: string | null = null;
  if (!absent(qty)) {
    q = toNum(qty);
    if (q !== q) {
      out.rejects.push(rej('quantity', `${metric} qty ${show(qty)} is not a number`));
      return;
    }
  }
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number') {
    q = toNum(value);
    if (q !== q) {
      out.rejects.push(rej('quantity', `${metric} value ${show(value)} is not a finite number`));
      return;
    }
  }
  if (q === null && text === null) {
    out.rejects.push(rej('quantity', `${metric} has no qty or value`));
    return;
  }
  if (q !== null) {
    if (q < 0 && !mayBeNegative(metric)) {
      out.rejects.push(rej('quantity', `${metric} qty ${q} is negative`));
      return;
    }
    if (unit === '%' && q > PERCENT_MAX) {
      out.rejects.push(rej('quantity', `${metric} qty ${q} % is above ${PERCENT_MAX}`));
      return;
    }
    const broken = boundBroken(metric, unit, q);
    if (broken !== null) {
      out.rejects.push(rej('quantity', broken));
      return;
    }
  }
  const r: QuantityRecord = {
    kind: 'quantity',
    metric,
    unit,
    time,
    endTime,
    source: (source as string | undefined) ?? '',
    qty: q,
    text,
    extra,
  };
  out.records.push(r);
}
