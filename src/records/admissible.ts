/**
 * What any record must satisfy before it may go to the database, whatever reader made it. A
 * record that fails is rejected alone with the reason returned here; the rest of its batch is
 * stored. Readers call `recordProblem` where they still know the record's path, offset and input
 * text; the import applies it once more to whatever reaches it (a reader that forgot).
 *
 * Accepted dates: from 1900-01-01 (UTC) to one day past now. Nothing in a health export is older
 * than its owner; a day of slack covers every time zone and a phone clock a little ahead, while a
 * clock set years ahead (or a corrupted year) is refused, not stored where no query looks, and
 * never creates partitions for centuries nobody lives in.
 *
 * Key text (metric, source, workout id, ...) is limited in UTF-8 bytes: a primary-key index row
 * cannot exceed ~2.7 kB (btree's limit), and one longer key would fail its whole batch. No text
 * may contain NUL (PostgreSQL text and jsonb cannot store it) or a lone UTF-16 surrogate (not
 * Unicode: jsonb refuses it, text would silently store U+FFFD).
 */
import type { HealthRecord } from './model.js';

export const EARLIEST_RECORD_MS = Date.UTC(1900, 0, 1);
/** How far past now a record may lie (a clock slightly ahead, the other side of the date line). */
export const FUTURE_SLACK_MS = 24 * 3600_000;
/** Key fields of one record together, in UTF-8 bytes (btree's limit is 2704 for the whole row). */
export const MAX_KEY_BYTES = 2000;

/** Latest accepted record instant for a run that starts at `now`. */
export function latestRecordMs(now = Date.now()): number {
  return now + FUTURE_SLACK_MS;
}

const ISO_DAY = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString().slice(0, 10) : String(ms));

function timeProblem(field: string, ms: number | null | undefined, latest: number): string | null {
  if (ms === null || ms === undefined) return null;
  if (!Number.isFinite(ms) || ms < EARLIEST_RECORD_MS || ms > latest) {
    return `${field} ${ISO_DAY(ms)} is outside the accepted range 1900-01-01 .. ${ISO_DAY(latest)} (one day past now)`;
  }
  return null;
}

// In `u` mode a surrogate pair is one code point: only lone surrogates match.
const LONE_SURROGATE = /\p{Surrogate}/u;

/** Why a text cannot be stored, or null. */
function textProblem(field: string, s: string): string | null {
  if (s.indexOf('\u0000') !== -1) return `${field} contains a NUL character (\\u0000), which PostgreSQL cannot store`;
  if (LONE_SURROGATE.test(s)) return `${field} contains a lone UTF-16 surrogate (not valid Unicode)`;
  return null;
}

/** Walks a JSON-like value for strings (keys included) that cannot be stored. */
function jsonProblem(field: string, v: unknown, depth = 0): string | null {
  if (typeof v === 'string') return textProblem(field, v);
  if (v === null || typeof v !== 'object' || depth > 64) return null;
  if (Array.isArray(v)) {
    for (const e of v) {
      const p = jsonProblem(field, e, depth + 1);
      if (p) return p;
    }
    return null;
  }
  for (const k in v as Record<string, unknown>) {
    const p = textProblem(`${field} key`, k) ?? jsonProblem(field, (v as Record<string, unknown>)[k], depth + 1);
    if (p) return p;
  }
  return null;
}


/** Instants of a record (the first decides its partition). */
function timesOf(r: HealthRecord): [string, number | null][] {
  switch (r.kind) {
    case 'sleep_night':
      return [['date', r.time], ['sleepStart', r.sleepStart], ['sleepEnd', r.sleepEnd], ['inBedStart', r.inBedStart], ['inBedEnd', r.inBedEnd]];
    case 'quantity':
    case 'event':
    case 'sleep_stage':
    case 'workout':
      return [['start', r.time], ['end', r.endTime]];
    default:
      return [['date', r.time]];
  }
}

/** The text fields that are part of the record's primary key, and the others. */
function textsOf(r: HealthRecord): { key: [string, string][]; other: [string, string | null][]; json: [string, unknown][] } {
  switch (r.kind) {
    case 'quantity':
      return { key: [['metric', r.metric], ['source', r.source]], other: [['unit', r.unit], ['value', r.text]], json: [['extra', r.extra]] };
    case 'heart_rate':
    case 'blood_pressure':
    case 'sleep_night':
      return { key: [['source', r.source]], other: [['unit', r.unit]], json: [['extra', r.extra]] };
    case 'sleep_stage':
      return { key: [['stage', r.stage], ['source', r.source]], other: [['unit', r.unit]], json: [['extra', r.extra]] };
    case 'workout':
      return {
        key: [['workout id', r.workoutId]],
        other: [['name', r.name], ['location', r.location], ['active energy unit', r.activeEnergy?.unit ?? null], ['distance unit', r.distance?.unit ?? null]],
        json: [['workout', r.summary], ['metadata', r.metadata]],
      };
    case 'route_point':
      return { key: [['workout id', r.workoutId]], other: [], json: [] };
    case 'workout_heart_rate':
      return { key: [['workout id', r.workoutId]], other: [['source', r.source], ['unit', r.unit]], json: [] };
    case 'workout_series':
      return { key: [['workout id', r.workoutId], ['series', r.series]], other: [['source', r.source], ['unit', r.unit]], json: [] };
    case 'event':
      return { key: [['section', r.section], ['event key', r.eventKey]], other: [['source', r.source]], json: [['data', r.data]] };
  }
}

/**
 * Why `r` cannot be stored (a reason for its reject), or null when it can.
 * `latest`: latestRecordMs() taken once at the start of the run.
 * @example recordProblem({ kind: 'heart_rate', time: Date.UTC(1850, 0, 1), ... }, latestRecordMs()) // 'date 1850-01-01 is outside ...'
 */
export function recordProblem(r: HealthRecord, latest: number): string | null {
  return admissible(r, latest) ? null : problemOf(r, latest);
}

// ---- the fast check ----------------------------------------------------------------------------
// Every record of every import passes here (twice as many calls as records would be too many: the
// readers check, the import trusts their batches). So the check allocates nothing, and a text
// equal to one of the last few found fine is not scanned again: sources, metric names and units
// repeat from one record to the next. Measured on a 314 MB export.xml: the checks took 1.9 of
// the import's 17.5 CPU-s with the arrays of fields below built for every record.

/** Texts recently found storable (compared by value, so a fresh slice of the same name hits). */
let fine0 = '';
let fine1 = '';
let fine2 = '';
let fine3 = '';

function textOk(s: string | null): boolean {
  if (s === null || s.length === 0 || s === fine0 || s === fine1 || s === fine2 || s === fine3) return true;
  if (s.indexOf('\u0000') !== -1 || LONE_SURROGATE.test(s)) return false;
  fine3 = fine2;
  fine2 = fine1;
  fine1 = fine0;
  fine0 = s;
  return true;
}

/** Key texts storable and short enough for sure (a longer total gets the exact byte count below). */
function keyOk(a: string, b = ''): boolean {
  return (a.length + b.length) * 3 <= MAX_KEY_BYTES && textOk(a) && textOk(b);
}

function timeOk(ms: number | null | undefined, latest: number): boolean {
  return ms === null || ms === undefined || (ms >= EARLIEST_RECORD_MS && ms <= latest);
}

function jsonOk(v: unknown, depth = 0): boolean {
  if (typeof v === 'string') return textOk(v);
  if (v === null || typeof v !== 'object' || depth > 64) return true;
  if (Array.isArray(v)) {
    for (const e of v) if (!jsonOk(e, depth + 1)) return false;
    return true;
  }
  for (const k in v as Record<string, unknown>) {
    if (!textOk(k) || !jsonOk((v as Record<string, unknown>)[k], depth + 1)) return false;
  }
  return true;
}

/** True when `r` can be stored for sure; false sends it to problemOf for the reason (or null). */
function admissible(r: HealthRecord, latest: number): boolean {
  switch (r.kind) {
    case 'quantity':
      return timeOk(r.time, latest) && timeOk(r.endTime, latest) && keyOk(r.metric, r.source) && textOk(r.unit) && textOk(r.text) && jsonOk(r.extra);
    case 'heart_rate':
    case 'blood_pressure':
      return timeOk(r.time, latest) && keyOk(r.source) && textOk(r.unit) && jsonOk(r.extra);
    case 'sleep_night':
      return (
        timeOk(r.time, latest) && timeOk(r.sleepStart, latest) && timeOk(r.sleepEnd, latest) && timeOk(r.inBedStart, latest) &&
        timeOk(r.inBedEnd, latest) && keyOk(r.source) && textOk(r.unit) && jsonOk(r.extra)
      );
    case 'sleep_stage':
      return timeOk(r.time, latest) && timeOk(r.endTime, latest) && keyOk(r.stage, r.source) && textOk(r.unit) && jsonOk(r.extra);
    case 'route_point':
      return timeOk(r.time, latest) && keyOk(r.workoutId);
    case 'workout_heart_rate':
      return timeOk(r.time, latest) && keyOk(r.workoutId) && textOk(r.source) && textOk(r.unit);
    case 'workout_series':
      return timeOk(r.time, latest) && keyOk(r.workoutId, r.series) && textOk(r.source) && textOk(r.unit);
    default:
      return false; // workouts and events: few, and with nested JSON; the full check below
  }
}

// ---- the reason ----------------------------------------------------------------------------------

function problemOf(r: HealthRecord, latest: number): string | null {
  for (const [field, ms] of timesOf(r)) {
    const p = timeProblem(field, ms, latest);
    if (p) return p;
  }
  const { key, other, json } = textsOf(r);
  let units = 0;
  for (const [field, s] of key) {
    const p = textProblem(field, s);
    if (p) return p;
    units += s.length;
  }
  // A UTF-16 unit is at most 3 UTF-8 bytes: only long keys need counting.
  const keyBytes = units * 3 <= MAX_KEY_BYTES ? units : key.reduce((n, [, s]) => n + Buffer.byteLength(s), 0);
  if (keyBytes > MAX_KEY_BYTES) {
    return `${key.map(([f]) => f).join(' + ')} is ${keyBytes} bytes long; at most ${MAX_KEY_BYTES} can be a key (${key
      .map(([f, s]) => `${f} starts ${JSON.stringify(s.slice(0, 40))}`)
      .join(', ')})`;
  }
  for (const [field, s] of other) {
    const p = s === null ? null : textProblem(field, s);
    if (p) return p;
  }
  for (const [field, v] of json) {
    const p = jsonProblem(field, v);
    if (p) return p;
  }
  return null;
}
