/**
 * Where each kind of record goes: its table, the COPY column order and types, the conflict key,
 * which columns decide "updated" versus "unchanged", and how to write a record as a binary COPY
 * row (db/copy-binary.ts).
 *
 * Every row starts with user_id and ends with ingestion_id; the batch writes placeholders and the
 * writer stamps the run's values, the spec writes what lies between, in `columns` order, each
 * with the type `types` names (the schema's; tests/load/tables.test.ts holds them to it).
 */
import type { HealthRecord, RecordKind } from '../records/model.js';
import type { ColumnType, RowWriter } from '../db/copy-binary.js';

export interface TableSpec {
  table: string;
  timeColumn: string;
  /** Columns between user_id and ingestion_id, in the order `write` writes them. */
  columns: readonly string[];
  /** Their types, as `write` encodes them. */
  types: readonly ColumnType[];
  /** Primary key without user_id (which leads every key). */
  key: readonly string[];
  /**
   * Columns an input may leave out (NULL: it did not carry the value), which a re-import then
   * keeps as stored instead of clearing: a workout's route line when the export had no route.
   */
  keepStoredWhenNull?: readonly string[];
  /** The record's partition instant (epoch ms). */
  time(r: HealthRecord): number;
  /**
   * The record's value of a key column other than the time, which splits the rows into series
   * each mostly written in time order (an activity metric's samples come metric by metric): a row
   * later than every earlier row of its series cannot repeat a key (load/batch.ts).
   */
  series?(r: HealthRecord): string;
  write(w: RowWriter, r: HealthRecord): void;
}

type Of<K extends RecordKind> = Extract<HealthRecord, { kind: K }>;

function spec<K extends RecordKind>(s: {
  table: string;
  timeColumn: string;
  columns: readonly string[];
  types: readonly ColumnType[];
  key: readonly string[];
  keepStoredWhenNull?: readonly string[];
  time: (r: Of<K>) => number;
  series?: (r: Of<K>) => string;
  write: (w: RowWriter, r: Of<K>) => void;
}): TableSpec {
  if (s.types.length !== s.columns.length) throw new Error(`${s.table}: ${s.columns.length} columns but ${s.types.length} types`);
  return s as unknown as TableSpec;
}

/** min, avg and max of a heart-rate sample (both heart-rate tables). */
function writeBpm(w: RowWriter, r: { min: number | null; avg: number; max: number | null }): void {
  w.float4(r.min);
  w.float4(r.avg);
  w.float4(r.max);
}

export const TABLES: Record<RecordKind, TableSpec> = {
  heart_rate: spec<'heart_rate'>({
    table: 'heart_rate_metrics',
    timeColumn: 'recorded_at',
    columns: ['recorded_at', 'source', 'min_bpm', 'avg_bpm', 'max_bpm', 'unit', 'extra'],
    types: ['timestamptz', 'text', 'float4', 'float4', 'float4', 'text', 'jsonb'],
    key: ['recorded_at', 'source'],
    time: (r) => r.time,
    write: (w, r) => {
      w.timestamptz(r.time);
      w.text(r.source);
      writeBpm(w, r);
      w.text(r.unit);
      w.jsonb(r.extra);
    },
  }),
  blood_pressure: spec<'blood_pressure'>({
    table: 'blood_pressure_metrics',
    timeColumn: 'recorded_at',
    columns: ['recorded_at', 'source', 'systolic', 'diastolic', 'unit', 'extra'],
    types: ['timestamptz', 'text', 'float4', 'float4', 'text', 'jsonb'],
    key: ['recorded_at', 'source'],
    time: (r) => r.time,
    write: (w, r) => {
      w.timestamptz(r.time);
      w.text(r.source);
      w.float4(r.systolic);
      w.float4(r.diastolic);
      w.text(r.unit);
      w.jsonb(r.extra);
    },
  }),
  sleep_night: spec<'sleep_night'>({
    table: 'sleep_metrics',
    timeColumn: 'recorded_at',
    columns: [
      'recorded_at', 'source', 'unit', 'total_sleep', 'core', 'deep', 'rem', 'awake', 'in_bed',
      'sleep_start', 'sleep_end', 'in_bed_start', 'in_bed_end', 'extra', 'asleep',
    ],
    types: [
      'timestamptz', 'text', 'text', 'float4', 'float4', 'float4', 'float4', 'float4', 'float4',
      'timestamptz', 'timestamptz', 'timestamptz', 'timestamptz', 'jsonb', 'float4',
    ],
    key: ['recorded_at', 'source'],
    time: (r) => r.time,
    write: (w, r) => {
      w.timestamptz(r.time);
      w.text(r.source);
      w.text(r.unit);
      w.float4(r.totalSleep);
      w.float4(r.core);
      w.float4(r.deep);
      w.float4(r.rem);
      w.float4(r.awake);
      w.float4(r.inBed);
      w.timestamptz(r.sleepStart);
      w.timestamptz(r.sleepEnd);
      w.timestamptz(r.inBedStart);
      w.timestamptz(r.inBedEnd);
      w.jsonb(r.extra);
      w.float4(r.asleep);
    },
  }),
  sleep_stage: spec<'sleep_stage'>({
    table: 'sleep_stages',
    timeColumn: 'started_at',
    columns: ['started_at', 'ended_at', 'stage', 'source', 'qty', 'unit', 'extra'],
    types: ['timestamptz', 'timestamptz', 'text', 'text', 'float4', 'text', 'jsonb'],
    key: ['started_at', 'stage', 'source'],
    time: (r) => r.time,
    write: (w, r) => {
      w.timestamptz(r.time);
      w.timestamptz(r.endTime);
      w.text(r.stage);
      w.text(r.source);
      w.float4(r.qty);
      w.text(r.unit);
      w.jsonb(r.extra);
    },
  }),
  quantity: spec<'quantity'>({
    table: 'activity_metrics',
    timeColumn: 'recorded_at',
    columns: ['metric', 'recorded_at', 'source', 'qty', 'text_value', 'unit', 'ended_at', 'extra'],
    types: ['text', 'timestamptz', 'text', 'float8', 'text', 'text', 'timestamptz', 'jsonb'],
    key: ['metric', 'recorded_at', 'source'],
    time: (r) => r.time,
    series: (r) => r.metric,
    write: (w, r) => {
      w.text(r.metric);
      w.timestamptz(r.time);
      w.text(r.source);
      w.float8(r.qty);
      w.text(r.text);
      w.text(r.unit);
      w.timestamptz(r.endTime);
      w.jsonb(r.extra);
    },
  }),
  workout: spec<'workout'>({
    table: 'workouts',
    timeColumn: 'started_at',
    columns: [
      'started_at', 'workout_id', 'name', 'ended_at', 'duration_s', 'location', 'active_energy', 'active_energy_unit',
      'distance', 'distance_unit', 'export_version', 'id_derived', 'heart_rate_is_recovery', 'route_points', 'summary', 'metadata',
    ],
    types: [
      'timestamptz', 'text', 'text', 'timestamptz', 'float8', 'text', 'float8', 'text',
      'float8', 'text', 'int2', 'bool', 'bool', 'int4', 'jsonb', 'jsonb',
    ],
    key: ['started_at', 'workout_id'],
    time: (r) => r.time,
    write: (w, r) => {
      w.timestamptz(r.time);
      w.text(r.workoutId);
      w.text(r.name);
      w.timestamptz(r.endTime);
      w.float8(r.durationS);
      w.text(r.location);
      w.float8(r.activeEnergy?.qty);
      w.text(r.activeEnergy?.unit);
      w.float8(r.distance?.qty);
      w.text(r.distance?.unit);
      w.int2(r.exportVersion);
      w.bool(r.idDerived);
      w.bool(r.heartRateLooksLikeRecovery);
      w.int4(r.routePoints);
      w.jsonb(r.summary);
      w.jsonb(r.metadata);
    },
  }),
  route_point: spec<'route_point'>({
    table: 'workout_routes',
    timeColumn: 'recorded_at',
    columns: [
      'workout_id', 'recorded_at', 'latitude', 'longitude', 'altitude', 'course', 'course_accuracy', 'speed',
      'speed_accuracy', 'horizontal_accuracy', 'vertical_accuracy', 'seq',
    ],
    types: ['text', 'timestamptz', 'float8', 'float8', 'float4', 'float4', 'float4', 'float4', 'float4', 'float4', 'float4', 'int4'],
    key: ['workout_id', 'recorded_at', 'seq'],
    time: (r) => r.time,
    series: (r) => r.workoutId,
    write: (w, r) => {
      w.text(r.workoutId);
      w.timestamptz(r.time);
      w.float8(r.latitude);
      w.float8(r.longitude);
      w.float4(r.altitude);
      w.float4(r.course);
      w.float4(r.courseAccuracy);
      w.float4(r.speed);
      w.float4(r.speedAccuracy);
      w.float4(r.horizontalAccuracy);
      w.float4(r.verticalAccuracy);
      w.int4(r.seq);
    },
  }),
  workout_heart_rate: spec<'workout_heart_rate'>({
    table: 'workout_heart_rate',
    timeColumn: 'recorded_at',
    columns: ['workout_id', 'series', 'recorded_at', 'source', 'min_bpm', 'avg_bpm', 'max_bpm', 'unit'],
    types: ['text', 'text', 'timestamptz', 'text', 'float4', 'float4', 'float4', 'text'],
    key: ['workout_id', 'series', 'recorded_at'],
    time: (r) => r.time,
    series: (r) => r.series,
    write: (w, r) => {
      w.text(r.workoutId);
      w.text(r.series);
      w.timestamptz(r.time);
      w.text(r.source);
      writeBpm(w, r);
      w.text(r.unit);
    },
  }),
  workout_series: spec<'workout_series'>({
    table: 'workout_series',
    timeColumn: 'recorded_at',
    columns: ['workout_id', 'series', 'recorded_at', 'source', 'qty', 'unit'],
    types: ['text', 'text', 'timestamptz', 'text', 'float8', 'text'],
    key: ['workout_id', 'series', 'recorded_at'],
    time: (r) => r.time,
    series: (r) => r.series,
    write: (w, r) => {
      w.text(r.workoutId);
      w.text(r.series);
      w.timestamptz(r.time);
      w.text(r.source);
      w.float8(r.qty);
      w.text(r.unit);
    },
  }),
  event: spec<'event'>({
    table: 'health_events',
    timeColumn: 'recorded_at',
    columns: ['section', 'recorded_at', 'event_key', 'ended_at', 'source', 'data'],
    types: ['text', 'timestamptz', 'text', 'timestamptz', 'text', 'jsonb'],
    key: ['section', 'recorded_at', 'event_key'],
    time: (r) => r.time,
    series: (r) => r.section,
    write: (w, r) => {
      w.text(r.section);
      w.timestamptz(r.time);
      w.text(r.eventKey);
      w.timestamptz(r.endTime);
      w.text(r.source);
      w.jsonb(r.data);
    },
  }),
};

/**
 * Workouts with their route line (`workouts.route`, which exists with PostGIS only), for
 * imports that build the lines as they read (load/route-line.ts).
 */
export const WORKOUT_WITH_ROUTE_LINE: TableSpec = spec<'workout'>({
  ...TABLES.workout,
  columns: [...TABLES.workout.columns, 'route'],
  types: [...TABLES.workout.types, 'geometry'],
  keepStoredWhenNull: ['route'],
  write: (w, r) => {
    TABLES.workout.write(w, r);
    w.binary(r.routeLine);
  },
});

/** Table names in a stable order, for summaries. */
export const TABLE_NAMES: readonly string[] = [...new Set(Object.values(TABLES).map((s) => s.table))];

/** Positions of the key columns among a row's fields (user_id is field 0). */
export function keyFields(spec: TableSpec): number[] {
  return spec.key.map((k) => spec.columns.indexOf(k) + 1);
}
