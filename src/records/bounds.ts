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

/**
 * Per-metric bounds: a value outside its metric's range in its unit is not a measurement (a
 * sensor glitch, a unit typed wrong, a sum of a week exported as one sample) and becomes a
 * reject naming the bound. Applied to HAE and Apple records alike (both use these metric names).
 *
 * Ranges are wide on purpose: they reject the impossible, never the unusual. Each says why.
 * A bound applies only to the units listed for it: values are never converted, and a unit not
 * listed is stored unchecked (beyond the non-negative and 100 % rules above) rather than guessed.
 * "Per sample" bounds assume a sample covers at most one day, HAE's coarsest aggregation
 * (hae-format.md: seconds, minutes, hours or days).
 */
export interface MetricBound {
  /** unit as written (HAE `units`, Apple `unit` with Cal → kcal) → [min, max], inclusive. */
  units: Readonly<Record<string, readonly [number, number]>>;
  /** Why these numbers (shown in the reject reason). */
  why: string;
}

const PER_DAY_MIN = { min: [0, 1440], s: [0, 86_400], hr: [0, 24] } as const;

export const METRIC_BOUNDS: Readonly<Record<string, MetricBound>> = {
  resting_heart_rate: {
    units: { 'count/min': [20, 250] },
    why: 'resting heart rate: the lowest ever recorded in athletes is near 27 bpm; above 250 is no resting rate',
  },
  walking_heart_rate_average: {
    units: { 'count/min': [25, 250] },
    why: 'walking heart rate average: a heart walking a person is within 25..250 bpm',
  },
  heart_rate_variability: {
    units: { ms: [1, 600] },
    why: 'heart rate variability (SDNN): short recordings stay far below 300 ms; 600 leaves room',
  },
  blood_oxygen_saturation: {
    units: { '%': [0, 100] },
    why: 'SpO2 is the share of saturated haemoglobin: 0..100 %',
  },
  body_temperature: {
    units: { degC: [10, 47], degF: [50, 116.6] },
    why: 'body temperature: people have survived core temperatures from 13.7 to 46.5 °C',
  },
  basal_body_temperature: {
    units: { degC: [10, 47], degF: [50, 116.6] },
    why: 'basal body temperature: people have survived core temperatures from 13.7 to 46.5 °C',
  },
  weight_body_mass: {
    units: { kg: [0.2, 700], lb: [0.44, 1543], g: [200, 700_000] },
    why: 'body mass: from a premature newborn (0.2 kg) to above the heaviest person recorded (635 kg)',
  },
  lean_body_mass: {
    units: { kg: [0.2, 700], lb: [0.44, 1543], g: [200, 700_000] },
    why: 'lean body mass: at most a whole body mass (0.2..700 kg)',
  },
  height: {
    units: { cm: [20, 280], m: [0.2, 2.8], in: [7.9, 110], ft: [0.66, 9.2] },
    why: 'height: from a premature newborn to above the tallest person recorded (272 cm)',
  },
  body_mass_index: {
    units: { count: [5, 250], 'kg/m^2': [5, 250] },
    why: 'body mass index: survivable mass over height squared stays within 5..250',
  },
  respiratory_rate: {
    units: { 'count/min': [1, 150] },
    why: 'respiratory rate: a newborn breathes up to ~60 times a minute; 150 leaves room',
  },
  vo2_max: {
    units: { 'ml/(kg·min)': [5, 100], 'mL/min·kg': [5, 100], 'ml/(kg*min)': [5, 100] },
    why: 'VO2 max: the highest ever measured is near 97 ml/(kg·min)',
  },
  step_count: {
    units: { count: [0, 250_000] },
    why: 'steps per sample: the most anyone walks or runs in a day is about 150,000 steps',
  },
  distance_walking_running: {
    units: { km: [0, 500], mi: [0, 311], m: [0, 500_000] },
    why: 'walking/running distance per sample: the 24-hour running record is about 320 km',
  },
  distance_cycling: {
    units: { km: [0, 1500], mi: [0, 932], m: [0, 1_500_000] },
    why: 'cycling distance per sample: the 24-hour cycling record is about 1,000 km',
  },
  active_energy: {
    units: { kcal: [0, 20_000], kJ: [0, 84_000], Cal: [0, 20_000] },
    why: 'active energy per sample: extreme endurance days burn under 15,000 kcal',
  },
  basal_energy_burned: {
    units: { kcal: [0, 12_000], kJ: [0, 50_000], Cal: [0, 12_000] },
    why: 'basal energy per sample: even the heaviest people need under 10,000 kcal a day at rest',
  },
  flights_climbed: {
    units: { count: [0, 10_000] },
    why: 'flights climbed per sample: climbing Everest from sea level is about 3,000 flights',
  },
  apple_exercise_time: { units: PER_DAY_MIN, why: 'exercise time per sample: a day has 1440 minutes' },
  apple_stand_time: { units: PER_DAY_MIN, why: 'stand time per sample: a day has 1440 minutes' },
  apple_stand_hour: { units: { count: [0, 24] }, why: 'stand hours per sample: a day has 24 hours' },
  time_in_daylight: { units: PER_DAY_MIN, why: 'time in daylight per sample: a day has 1440 minutes' },
  mindful_minutes: { units: PER_DAY_MIN, why: 'mindful minutes per sample: a day has 1440 minutes' },
  walking_speed: {
    units: { 'km/hr': [0, 25], 'mi/hr': [0, 15.5], 'm/s': [0, 7] },
    why: 'walking speed: race walkers stay under 16 km/h',
  },
  blood_glucose: {
    units: { 'mg/dL': [10, 2700], 'mmol/L': [0.5, 150] },
    why: 'blood glucose: survivors have been measured from ~10 to ~2,650 mg/dL',
  },
};

/**
 * The reject reason when `qty` (in `unit`) breaks its metric's bound, else null. Metrics or
 * units without a bound pass. Hot path: one property lookup for most records.
 * @example boundBroken('resting_heart_rate', 'count/min', 400) // "… outside its bound 20..250 count/min (…)"
 */
export function boundBroken(metric: string, unit: string | null, qty: number): string | null {
  const b = BOUNDS.get(metric);
  if (b === undefined || unit === null) return null;
  const range = b.units.get(unit);
  if (range === undefined || (qty >= range[0] && qty <= range[1])) return null;
  return `${metric} qty ${qty} ${unit} is outside its bound ${range[0]}..${range[1]} ${unit} (${b.why})`;
}

// Maps, not the objects: a metric or unit named `constructor` or `__proto__` is data too.
const BOUNDS = new Map(
  Object.entries(METRIC_BOUNDS).map(([metric, b]) => [metric, { why: b.why, units: new Map(Object.entries(b.units)) }]),
);

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
