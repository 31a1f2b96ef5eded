/**
 * Turns one parsed slice of an HAE export into typed records (src/records/model.ts) or rejects.
 * The HAE reader calls `mapSlice` once per metric datapoint, per workout, and per element of
 * every other top-level array (any array key under `data` that is not metrics or workouts
 * becomes events). Never throws on bad data: bad parts become RecordRejects.
 *
 * The work is split by section: map-metric.ts, map-workout.ts, map-event.ts; the plausibility
 * bounds they apply are src/records/bounds.ts, shared with the Apple reader.
 */
import type { MapResult } from '../records/model.js';
import { mapEvent } from './map-event.js';
import { mapMetricPoint } from './map-metric.js';
import { mapWorkout } from './map-workout.js';

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
