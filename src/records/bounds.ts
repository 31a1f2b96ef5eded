/**
 * Plausibility bounds every reader applies while mapping (HAE and Apple alike). A value that
 * breaks one becomes a RecordReject with a reason; it never throws and never stops the import.
 */

/** Heart rate, bpm: applied to each of Min/Avg/Max (metric heart_rate and workout heart rate). */
export const HEART_RATE_MIN = 1;
export const HEART_RATE_MAX = 300;

/** Blood pressure, mmHg. Also rejected: diastolic > systolic. */
export const SYSTOLIC_MIN = 30;
export const SYSTOLIC_MAX = 300;
export const DIASTOLIC_MIN = 10;
export const DIASTOLIC_MAX = 250;

/** Values in unit '%' above this are impossible. */
export const PERCENT_MAX = 100;

/**
 * Substrings of metric names whose values may legitimately be negative. Every other metric
 * (counts, energy, distance, durations, percentages, mass, speeds, concentrations, audio levels,
 * ...) is treated as non-negative and a negative qty is rejected.
 *  - temperature: apple_sleeping_wrist_temperature / basal_body_temperature deviations, degC
 *    below zero (underwater/water temperature);
 *  - elevation, altitude: below sea level;
 *  - change, deviation, delta, offset: signed differences by definition.
 */
export const NEGATIVE_ALLOWED_SUBSTRINGS: readonly string[] = [
  'temperature',
  'elevation',
  'altitude',
  'change',
  'deviation',
  'delta',
  'offset',
];

const negCache = new Map<string, boolean>();

/** True when `metric` may carry negative values (see NEGATIVE_ALLOWED_SUBSTRINGS). Cached per name. */
export function mayBeNegative(metric: string): boolean {
  let v = negCache.get(metric);
  if (v === undefined) {
    v = false;
    for (const sub of NEGATIVE_ALLOWED_SUBSTRINGS) {
      if (metric.includes(sub)) {
        v = true;
        break;
      }
    }
    if (negCache.size < 10_000) negCache.set(metric, v);
  }
  return v;
}

/** Longest plausible night / sleep stage. */
export const SLEEP_MAX_HOURS = 24;

/**
 * Upper bound of a sleep duration expressed in `unit`: 24 h converted to min or s when the unit
 * says so; hours (HAE's `hr`) for anything else, including no unit.
 */
export function sleepMaxInUnit(unit: string | null): number {
  switch (unit) {
    case 'min':
      return SLEEP_MAX_HOURS * 60;
    case 's':
    case 'sec':
      return SLEEP_MAX_HOURS * 3600;
    default:
      return SLEEP_MAX_HOURS;
  }
}

/** Recovery-series detection (see hae-format.md "Known quirks"). */
export const RECOVERY_START_SLACK_MS = 60_000;
export const RECOVERY_MAX_SPAN_MS = 3 * 60_000;
