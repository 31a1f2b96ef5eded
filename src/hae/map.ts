/**
 * Turns one parsed slice of an HAE export into typed records (src/records/model.ts) or rejects.
 * The HAE reader calls `mapSlice` once per metric datapoint, per workout, and per element of
 * every other top-level array (any array key under `data` that is not metrics or workouts
 * becomes events). Never throws on bad data: bad parts become RecordRejects.
 *
 * The work is split by section: map-metric.ts, map-workout.ts, map-event.ts; the plausibility
 * bounds they apply are src/records/bounds.ts, shared with the Apple reader.
 *
 * Every record leaves here admissible (src/records/admissible.ts) or as a reject. A workout
 * checks its children where it still knows each one's place (`.route[17]`): checked after the
 * fact they would all carry the workout's path and text, and one reject row would stand for
 * many rejected records.
 */
import { latestRecordMs, recordProblem } from '../records/admissible.js';
import type { MapResult } from '../records/model.js';
import { mapEvent } from './map-event.js';
import { mapMetricPoint } from './map-metric.js';
import { mapWorkout } from './map-workout.js';

/**
 * @param section      top-level key the value came from (`metrics`, `workouts`, `stateOfMind`, ...)
 * @param metricName   for `metrics`: the enclosing metric's `name`
 * @param metricUnits  for `metrics`: the enclosing metric's `units` (a datapoint's own `units` wins)
 * @param value        the parsed datapoint / workout / element
 * @param latest       latest record instant accepted (fixed at the start of a run)
 */
export function mapSlice(
  section: string,
  metricName: string | undefined,
  metricUnits: string | undefined,
  value: unknown,
  latest = latestRecordMs(),
): MapResult {
  const out: MapResult = { records: [], rejects: [] };
  try {
    if (section === 'workouts') mapWorkout(value, out, latest);
    else {
      if (section === 'metrics') mapMetricPoint(metricName, metricUnits, value, out);
      else mapEvent(section, value, out);
      admitAll(out, latest);
    }
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

/** Moves the records that cannot be stored to the rejects (a datapoint or event is the whole slice). */
function admitAll(out: MapResult, latest: number): void {
  let kept = 0;
  for (const r of out.records) {
    const why = recordProblem(r, latest);
    if (why === null) out.records[kept++] = r;
    else out.rejects.push({ kind: r.kind, reason: why, pathSuffix: '' });
  }
  out.records.length = kept;
}
