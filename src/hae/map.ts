/**
 * Turns one parsed slice of an HAE export into typed records (./records.ts) or rejects.
 * The streaming scanner calls `mapSlice` once per metric datapoint, per workout, and per element
 * of every other top-level array. Never throws on bad data: bad parts become RecordRejects.
 *
 * The work is split by section: map-metric.ts, map-workout.ts, map-event.ts; the validation
 * rules (ranges, the negative-values allowlist) live in map-rules.ts.
 */
import type { MapResult } from './records.js';
import { mapEvent } from './map-event.js';
import { mapMetricPoint } from './map-metric.js';
import { mapWorkout } from './map-workout.js';

export { KNOWN_METRICS, isKnownMetric } from './map-known.js';
export { NEGATIVE_ALLOWED_SUBSTRINGS, mayBeNegative } from './map-rules.js';
export { v1WorkoutId } from './map-workout.js';

/** Top-level keys of `data` this code knows; any other array key is mapped to events too. */
export const KNOWN_SECTIONS = [
  'metrics',
  'workouts',
  'stateOfMind',
  'ecg',
  'heartRateNotifications',
  'symptoms',
  'cycleTracking',
  'medications',
] as const;

export type KnownSection = (typeof KNOWN_SECTIONS)[number];

export function isKnownSection(section: string): section is KnownSection {
  return (KNOWN_SECTIONS as readonly string[]).includes(section);
}

/**
 * @param section      top-level key the value came from (`metrics`, `workouts`, `stateOfMind`, ...)
 * @param metricName   for `metrics`: the enclosing metric's `name`
 * @param metricUnits  for `metrics`: the enclosing metric's `units` (a datapoint's own `units` wins)
 * @param value        the parsed datapoint / workout / element
 */
export function mapSlice(
  section: string,
  metricName: string | undefined,
  metricUnits: string | undefined,
  value: unknown,
): MapResult {
  const out: MapResult = { records: [], rejects: [] };
  try {
    if (section === 'metrics') mapMetricPoint(metricName, metricUnits, value, out);
    else if (section === 'workouts') mapWorkout(value, out);
    else mapEvent(section, value, out);
  } catch (err) {
    // Defensive only: the mappers do not throw on data, but a bad record must never stop an import.
    out.rejects.push({
      kind: null,
      reason: `internal error while mapping ${section}: ${err instanceof Error ? err.message : String(err)}`,
      pathSuffix: '',
    });
  }
  return out;
}
