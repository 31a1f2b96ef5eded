/**
 * One `<Record>` of export.xml (its attributes) → the typed record HAE data of the same meaning
 * becomes, or a reject reason. See docs in src/apple/README.md for the choices:
 *
 * - time = startDate; ended_at = endDate, except for an instantaneous sample (endDate ==
 *   startDate), stored with no end like HAE's point samples;
 * - source = sourceName (the app or device that wrote the sample);
 * - unit as written, except `Cal` → `kcal` (the same unit) and `%`: Apple writes fractions
 *   (0.97) where HAE writes percents (97), so `%` values are multiplied by 100;
 * - heart rate: one sample → min = avg = max = the value (a single sample's min, mean and max);
 * - sleep stages: qty = the interval in hours, unit `hr`, as HAE writes unaggregated sleep;
 * - extra = the MetadataEntry key/values (added by the reader as they are parsed); creationDate,
 *   sourceVersion and device are not stored (HAE has none of them; device strings carry a memory
 *   address that changes from one export to the next).
 */
import type { HealthRecord, RecordKind } from '../records/model.js';
import { HEART_RATE_MAX, HEART_RATE_MIN, PERCENT_MAX, SLEEP_MAX_HOURS, boundBroken, mayBeNegative } from '../records/bounds.js';
import { toNum } from '../records/values.js';
import { parseHaeDate } from '../records/dates.js';
import { SLEEP_STAGES, type AppleType } from './type-map.js';

export type Attrs = Record<string, string>;

const HOUR_MS = 3_600_000;

/** What a Record of this type would have been, for counting a reject. */
export function kindOf(t: AppleType): RecordKind {
  return t.kind === 'heart_rate' ? 'heart_rate' : t.kind === 'sleep' ? 'sleep_stage' : 'quantity';
}

export function show(v: string | undefined): string {
  if (v === undefined) return 'missing';
  return JSON.stringify(v.length > 60 ? v.slice(0, 57) + '...' : v);
}

/** Unit as stored: `Cal` (large calorie) is the kilocalorie HAE writes as `kcal`. */
export function normUnit(u: string | undefined): string | null {
  if (u === undefined) return null;
  return u === 'Cal' ? 'kcal' : u;
}

/** A fraction as a percent, without binary noise (0.97 → 97, not 97.00000000000001). */
export function percentOf(fraction: number): number {
  return Number((fraction * 100).toPrecision(12));
}

/**
 * Maps a Record. Returns the record (with `extra` null: metadata is added by the caller), or the
 * reject reason as a string.
 */
export function mapRecord(a: Attrs, t: AppleType): HealthRecord | string {
  const metric = t.metric;
  const start = a.startDate;
  const time = parseHaeDate(start);
  if (time === null) return `${metric} startDate ${show(start)} is not a date`;
  const end = a.endDate;
  let endTime: number | null = time;
  if (end !== undefined && end !== start) {
    endTime = parseHaeDate(end);
    if (endTime === null) return `${metric} endDate ${show(end)} is not a date`;
    if (endTime < time) return `${metric} endDate ${show(end)} is before startDate ${show(start)}`;
  }
  const source = a.sourceName ?? '';
  const raw = a.value;

  switch (t.kind) {
    case 'quantity': {
      if (raw === undefined) return `${metric} value missing`;
      let q = toNum(raw);
      if (q !== q) return `${metric} value ${show(raw)} is not a number`;
      let unit = normUnit(a.unit);
      if (unit === '%') {
        q = percentOf(q);
        if (q > PERCENT_MAX) return `${metric} value ${raw} (${q} %) is above ${PERCENT_MAX} %`;
      }
      if (q < 0 && !mayBeNegative(metric)) return `${metric} value ${q} is negative`;
      if (unit === '') unit = null;
      const broken = boundBroken(metric, unit, q);
      if (broken !== null) return broken;
      return {
        kind: 'quantity', metric, unit, time, endTime: endTime === time ? null : endTime, source, qty: q, text: null, extra: null,
      };
    }
    case 'heart_rate': {
      if (raw === undefined) return `${metric} value missing`;
      const v = toNum(raw);
      if (v !== v) return `${metric} value ${show(raw)} is not a number`;
      if (v < HEART_RATE_MIN || v > HEART_RATE_MAX) return `${metric} value ${v} is outside ${HEART_RATE_MIN}..${HEART_RATE_MAX} bpm`;
      return { kind: 'heart_rate', time, source, unit: normUnit(a.unit), min: v, avg: v, max: v, extra: null };
    }
    case 'sleep': {
      if (raw === undefined || raw === '') return `${metric} value missing`;
      const stage = SLEEP_STAGES[raw] ?? raw.replace(/^HKCategoryValueSleepAnalysis/, '');
      const span = (endTime as number) - time;
      if (span > SLEEP_MAX_HOURS * HOUR_MS) return `${metric} stage ${show(start)}..${show(end)} is longer than ${SLEEP_MAX_HOURS} h`;
      return {
        kind: 'sleep_stage', time, endTime: endTime as number, stage, source, unit: 'hr',
        qty: Number((span / HOUR_MS).toPrecision(12)), extra: null,
      };
    }
    case 'duration_min':
      return {
        kind: 'quantity', metric, unit: 'min', time, endTime: endTime === time ? null : endTime, source,
        qty: Number((((endTime as number) - time) / 60_000).toPrecision(12)), text: null, extra: null,
      };
    case 'stand_hour': {
      const qty = raw === 'HKCategoryValueAppleStandHourStood' ? 1 : raw === 'HKCategoryValueAppleStandHourIdle' ? 0 : null;
      if (qty === null && (raw === undefined || raw === '')) return `${metric} value missing`;
      return {
        kind: 'quantity', metric, unit: 'count', time, endTime: endTime === time ? null : endTime, source,
        qty, text: qty === null ? (raw as string) : null, extra: null,
      };
    }
    case 'category': {
      if (raw === undefined || raw === '') return `${metric} value missing`;
      // Category values are enum names (HKCategoryValueSeverityMild, ...), kept as written; a
      // plain number (some older exports) is stored as the qty.
      const n = toNum(raw);
      const unit = normUnit(a.unit);
      return {
        kind: 'quantity', metric, unit: unit === '' ? null : unit, time, endTime: endTime === time ? null : endTime, source,
        qty: n === n ? n : null, text: n === n ? null : raw, extra: null,
      };
    }
  }
}

/**
 * An HKDevice description (`<<HKDevice: 0x283d0a1c0>, name:Apple Watch, manufacturer:Apple Inc.,
 * model:Watch, hardware:Watch6,1, software:10.2>`) as {name, manufacturer, ...}, without the
 * memory address, which changes between exports. Anything else: the text as written.
 */
export function parseDevice(s: string | undefined): Record<string, string> | string | null {
  if (s === undefined) return null;
  if (!s.startsWith('<<HKDevice')) return s;
  const body = s.replace(/^<<HKDevice:[^>]*>,?\s*/, '').replace(/>\s*$/, '');
  const out: Record<string, string> = {};
  // Values may contain commas (hardware:Watch6,1): split on ", key:" only.
  const re = /(?:^|,\s*)([A-Za-z]+):/g;
  const keys: { key: string; at: number; end: number }[] = [];
  for (let m = re.exec(body); m !== null; m = re.exec(body)) keys.push({ key: m[1], at: m.index, end: m.index + m[0].length });
  for (let i = 0; i < keys.length; i++) {
    out[keys[i].key] = body.slice(keys[i].end, i + 1 < keys.length ? keys[i + 1].at : body.length).trim();
  }
  return keys.length ? out : s;
}
