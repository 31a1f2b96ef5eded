/**
 * The neutral record model: what every format reader (src/hae for Health Auto Export JSON,
 * src/apple for the Health app's export.xml) produces and what src/load stores. Nothing here
 * mentions SQL or a file format; each record kind maps to one table (src/load/tables.ts).
 * Shapes follow HAE's, since it is the richer of the two; Apple's types are mapped onto them.
 *
 * Times are epoch milliseconds (UTC instants, offset already applied).
 */

/** A `{qty, units}` pair as HAE writes summary fields; the unit is kept, never converted. */
export interface Quantity {
  qty: number;
  unit: string | null;
}

/** A single-value sample of any metric, including names this code has never seen. */
export interface QuantityRecord {
  kind: 'quantity';
  metric: string;
  unit: string | null;
  time: number;
  /** Set when the sample covers an interval (startDate/endDate). */
  endTime: number | null;
  source: string;
  /** Numeric value; null for category samples that carry a string `value` instead. */
  qty: number | null;
  /** String value of category samples (symptoms, mealTime-only records, ...). */
  text: string | null;
  /** Fields of the datapoint that are not modelled (metadata, mealTime, reason, ...). */
  extra: Record<string, unknown> | null;
}

export interface HeartRateRecord {
  kind: 'heart_rate';
  time: number;
  source: string;
  unit: string | null;
  min: number | null;
  avg: number;
  max: number | null;
  extra: Record<string, unknown> | null;
}

export interface BloodPressureRecord {
  kind: 'blood_pressure';
  time: number;
  source: string;
  unit: string | null;
  systolic: number;
  diastolic: number;
  extra: Record<string, unknown> | null;
}

/** One night of aggregated sleep ("Aggregate Sleep Data" on). Durations in `unit` (usually hr). */
export interface SleepNightRecord {
  kind: 'sleep_night';
  /** The night's `date`, or its sleepEnd when it has no `date`. */
  time: number;
  source: string;
  unit: string | null;
  /** As written, else asleep + core + deep + rem (hae-format.md "Sleep, 2023+ aggregated shape"). */
  totalSleep: number | null;
  core: number | null;
  deep: number | null;
  rem: number | null;
  awake: number | null;
  inBed: number | null;
  /** `asleep` as written: asleep with no stage known (older exports: the whole night). */
  asleep: number | null;
  sleepStart: number | null;
  sleepEnd: number | null;
  inBedStart: number | null;
  inBedEnd: number | null;
  extra: Record<string, unknown> | null;
}

/** One stage interval of unaggregated sleep. */
export interface SleepStageRecord {
  kind: 'sleep_stage';
  time: number;
  endTime: number;
  stage: string;
  source: string;
  unit: string | null;
  qty: number | null;
  extra: Record<string, unknown> | null;
}

export interface WorkoutRecord {
  kind: 'workout';
  /** HAE v2 `id`, or for v1 a stable id derived from name, start and end (prefixed `v1-`). */
  workoutId: string;
  idDerived: boolean;
  exportVersion: 1 | 2;
  name: string;
  time: number;
  endTime: number;
  durationS: number | null;
  location: string | null;
  activeEnergy: Quantity | null;
  distance: Quantity | null;
  /** Every other field of the workout that is not a per-sample series, kept as written. */
  summary: Record<string, unknown>;
  metadata: Record<string, unknown> | null;
  /** heartRateData looks like the post-workout recovery series (see hae-format.md). */
  heartRateLooksLikeRecovery: boolean;
  routePoints: number;
  /**
   * The route as PostGIS EWKB, set by the import (load/route-line.ts) from the route points it
   * stores; readers leave it unset.
   */
  routeLine?: Buffer | null;
}

export interface RoutePointRecord {
  kind: 'route_point';
  workoutId: string;
  time: number;
  /** Rank among the route's points at the same instant (see records/instant-seq.ts); usually 0. */
  seq: number;
  latitude: number;
  longitude: number;
  altitude: number | null;
  course: number | null;
  courseAccuracy: number | null;
  speed: number | null;
  speedAccuracy: number | null;
  horizontalAccuracy: number | null;
  verticalAccuracy: number | null;
}

export interface WorkoutHeartRateRecord {
  kind: 'workout_heart_rate';
  workoutId: string;
  /** `session` for heartRateData, `recovery` for heartRateRecovery. */
  series: 'session' | 'recovery';
  time: number;
  source: string;
  unit: string | null;
  min: number | null;
  avg: number;
  max: number | null;
}

/** Any other per-sample series of a workout (v2 activeEnergy, stepCount, walkingAndRunningDistance, ...). */
export interface WorkoutSeriesRecord {
  kind: 'workout_series';
  workoutId: string;
  series: string;
  time: number;
  source: string;
  unit: string | null;
  qty: number;
}

/**
 * An element of the newer top-level arrays (stateOfMind, ecg, symptoms, medications,
 * cycleTracking, heartRateNotifications, and any array key not known yet), kept whole.
 */
export interface EventRecord {
  kind: 'event';
  /** The top-level key it came from, e.g. `stateOfMind`. */
  section: string;
  time: number;
  endTime: number | null;
  /** The element's own id when it has one, else a hash of its JSON: stable across re-imports. */
  eventKey: string;
  source: string;
  data: Record<string, unknown>;
}

export type HealthRecord =
  | QuantityRecord
  | HeartRateRecord
  | BloodPressureRecord
  | SleepNightRecord
  | SleepStageRecord
  | WorkoutRecord
  | RoutePointRecord
  | WorkoutHeartRateRecord
  | WorkoutSeriesRecord
  | EventRecord;

export type RecordKind = HealthRecord['kind'];

/** A part of the input that could not become a record, and why. */
export interface RecordReject {
  /** What the record would have been, when that is known (for per-table counts). */
  kind: RecordKind | null;
  reason: string;
  /** Appended to the slice's JSON path, e.g. `.route[17]`; empty for the slice itself. */
  pathSuffix: string;
  /** The offending JSON value when it is smaller than the whole slice (e.g. one route point). */
  raw?: unknown;
}

export interface MapResult {
  records: HealthRecord[];
  rejects: RecordReject[];
}
