/**
 * One element of a top-level array other than metrics/workouts (stateOfMind, ecg, symptoms,
 * medications, cycleTracking, heartRateNotifications, or a key not known yet) → an EventRecord
 * that keeps the whole element.
 */
import type { EventRecord, MapResult } from '../records/model.js';
import { parseHaeDate } from '../records/dates.js';
import { absent, isObj, rej, sha1Hex32, show, type Obj } from '../records/values.js';

/** Candidate time fields, in order of preference: the first one that parses wins. */
export const EVENT_TIME_FIELDS = ['start', 'startDate', 'date', 'time', 'timestamp'] as const;
/** Candidate end-time fields; the first that parses wins, none → endTime null. */
export const EVENT_END_FIELDS = ['end', 'endDate'] as const;

export function mapEvent(section: string, value: unknown, out: MapResult): void {
  if (!isObj(value)) {
    out.rejects.push(rej('event', `${section} element is not an object: ${show(value)}`));
    return;
  }
  const time = firstDate(value, EVENT_TIME_FIELDS);
  if (time === null) {
    out.rejects.push(rej('event', `${section} element has no parseable ${EVENT_TIME_FIELDS.join('/')}: ${timeFieldsShown(value)}`));
    return;
  }
  const endTime = firstDate(value, EVENT_END_FIELDS);
  const id = value.id;
  // The element's own id when it has one; else a hash of its JSON text (key order as parsed,
  // so the same element in a later export gets the same key).
  const eventKey = typeof id === 'string' && id.length > 0 ? id : sha1Hex32(JSON.stringify(value));
  const r: EventRecord = {
    kind: 'event',
    section,
    time,
    endTime,
    eventKey,
    source: sourceName(value.source),
    data: value,
  };
  out.records.push(r);
}

/**
 * The source as text. Mostly a string, but real heartRateNotifications carry an object with a
 * `name` (`"source": {"name": "Apple Watch"}`, Lybron/health-auto-export#68); the element keeps
 * it whole either way.
 */
function sourceName(source: unknown): string {
  if (typeof source === 'string') return source;
  if (isObj(source) && typeof source.name === 'string') return source.name;
  return '';
}

function firstDate(o: Obj, fields: readonly string[]): number | null {
  for (const f of fields) {
    const v = o[f];
    if (v === undefined) continue;
    const t = parseHaeDate(v);
    if (t !== null) return t;
  }
  return null;
}

function timeFieldsShown(o: Obj): string {
  let s = '';
  for (const f of EVENT_TIME_FIELDS) {
    if (absent(o[f])) continue;
    s += (s ? ', ' : '') + f + ' ' + show(o[f]);
  }
  return s || 'none present';
}
