/**
 * Where each kind of record goes: its table, the COPY column order, the conflict key, which
 * columns decide "updated" versus "unchanged", and how to render a record as a COPY line.
 *
 * Every line starts with user_id and ends with ingestion_id; the writer adds those two, the
 * spec renders what lies between. Lines are built with Array#join, which yields flat strings:
 * template concatenation would leave each retained line a tree of cons-string pieces, several
 * times its size (measured: 97 MB of cons strings at 1.5 M buffered rows).
 */
import type { HealthRecord, RecordKind } from '../records/model.js';
import { bool, json, num, text, ts } from './copy-text.js';

export interface TableSpec {
  table: string;
  timeColumn: string;
  /** Columns between user_id and ingestion_id, in the order `render` writes them. */
  columns: readonly string[];
  /** Primary key without user_id (which leads every key). */
  key: readonly string[];
  /** The record's partition instant (epoch ms). */
  time(r: HealthRecord): number;
  render(r: HealthRecord): string;
}

type Of<K extends RecordKind> = Extract<HealthRecord, { kind: K }>;

function spec<K extends RecordKind>(s: {
  table: string;
  timeColumn: string;
  columns: readonly string[];
  key: readonly string[];
  time: (r: Of<K>) => number;
  render: (r: Of<K>) => string;
}): TableSpec {
  return s as unknown as TableSpec;
}

export const TABLES: Record<RecordKind, TableSpec> = {
  heart_rate: spec<'heart_rate'>({
    table: 'heart_rate_metrics',
    timeColumn: 'recorded_at',
    columns: ['recorded_at', 'source', 'min_bpm', 'avg_bpm', 'max_bpm', 'unit', 'extra'],
    key: ['recorded_at', 'source'],
    time: (r) => r.time,
    render: (r) => [ts(r.time), text(r.source), num(r.min), num(r.avg), num(r.max), text(r.unit), json(r.extra)].join('\t'),
  }),
  blood_pressure: spec<'blood_pressure'>({
    table: 'blood_pressure_metrics',
    timeColumn: 'recorded_at',
    columns: ['recorded_at', 'source', 'systolic', 'diastolic', 'unit', 'extra'],
    key: ['recorded_at', 'source'],
    time: (r) => r.time,
    render: (r) => [ts(r.time), text(r.source), num(r.systolic), num(r.diastolic), text(r.unit), json(r.extra)].join('\t'),
  }),
  sleep_night: spec<'sleep_night'>({
    table: 'sleep_metrics',
    timeColumn: 'recorded_at',
    columns: [
      'recorded_at', 'source', 'unit', 'total_sleep', 'core', 'deep', 'rem', 'awake', 'in_bed',
      'sleep_start', 'sleep_end', 'in_bed_start', 'in_bed_end', 'extra', 'asleep',
    ],
    key: ['recorded_at', 'source'],
    time: (r) => r.time,
    render: (r) =>
      [
        ts(r.time), text(r.source), text(r.unit), num(r.totalSleep), num(r.core), num(r.deep), num(r.rem),
        num(r.awake), num(r.inBed), ts(r.sleepStart), ts(r.sleepEnd), ts(r.inBedStart), ts(r.inBedEnd), json(r.extra),
        num(r.asleep),
      ].join('\t'),
  }),
  sleep_stage: spec<'sleep_stage'>({
    table: 'sleep_stages',
    timeColumn: 'started_at',
    columns: ['started_at', 'ended_at', 'stage', 'source', 'qty', 'unit', 'extra'],
    key: ['started_at', 'stage', 'source'],
    time: (r) => r.time,
    render: (r) => [ts(r.time), ts(r.endTime), text(r.stage), text(r.source), num(r.qty), text(r.unit), json(r.extra)].join('\t'),
  }),
  quantity: spec<'quantity'>({
    table: 'activity_metrics',
    timeColumn: 'recorded_at',
    columns: ['metric', 'recorded_at', 'source', 'qty', 'text_value', 'unit', 'ended_at', 'extra'],
    key: ['metric', 'recorded_at', 'source'],
    time: (r) => r.time,
    render: (r) => [text(r.metric), ts(r.time), text(r.source), num(r.qty), text(r.text), text(r.unit), ts(r.endTime), json(r.extra)].join('\t'),
  }),
  workout: spec<'workout'>({
    table: 'workouts',
    timeColumn: 'started_at',
    columns: [
      'started_at', 'workout_id', 'name', 'ended_at', 'duration_s', 'location', 'active_energy', 'active_energy_unit',
      'distance', 'distance_unit', 'export_version', 'id_derived', 'heart_rate_is_recovery', 'route_points', 'summary', 'metadata',
    ],
    key: ['started_at', 'workout_id'],
    time: (r) => r.time,
    render: (r) =>
      [
        ts(r.time), text(r.workoutId), text(r.name), ts(r.endTime), num(r.durationS), text(r.location),
        num(r.activeEnergy?.qty), text(r.activeEnergy?.unit), num(r.distance?.qty), text(r.distance?.unit),
        num(r.exportVersion), bool(r.idDerived), bool(r.heartRateLooksLikeRecovery), num(r.routePoints),
        json(r.summary), json(r.metadata),
      ].join('\t'),
  }),
  route_point: spec<'route_point'>({
    table: 'workout_routes',
    timeColumn: 'recorded_at',
    columns: [
      'workout_id', 'recorded_at', 'latitude', 'longitude', 'altitude', 'course', 'course_accuracy', 'speed',
      'speed_accuracy', 'horizontal_accuracy', 'vertical_accuracy', 'seq',
    ],
    key: ['workout_id', 'recorded_at', 'seq'],
    time: (r) => r.time,
    render: (r) =>
      [
        text(r.workoutId), ts(r.time), num(r.latitude), num(r.longitude), num(r.altitude), num(r.course),
        num(r.courseAccuracy), num(r.speed), num(r.speedAccuracy), num(r.horizontalAccuracy), num(r.verticalAccuracy),
        num(r.seq),
      ].join('\t'),
  }),
  workout_heart_rate: spec<'workout_heart_rate'>({
    table: 'workout_heart_rate',
    timeColumn: 'recorded_at',
    columns: ['workout_id', 'series', 'recorded_at', 'source', 'min_bpm', 'avg_bpm', 'max_bpm', 'unit'],
    key: ['workout_id', 'series', 'recorded_at'],
    time: (r) => r.time,
    render: (r) => [text(r.workoutId), r.series, ts(r.time), text(r.source), num(r.min), num(r.avg), num(r.max), text(r.unit)].join('\t'),
  }),
  workout_series: spec<'workout_series'>({
    table: 'workout_series',
    timeColumn: 'recorded_at',
    columns: ['workout_id', 'series', 'recorded_at', 'source', 'qty', 'unit'],
    key: ['workout_id', 'series', 'recorded_at'],
    time: (r) => r.time,
    render: (r) => [text(r.workoutId), text(r.series), ts(r.time), text(r.source), num(r.qty), text(r.unit)].join('\t'),
  }),
  event: spec<'event'>({
    table: 'health_events',
    timeColumn: 'recorded_at',
    columns: ['section', 'recorded_at', 'event_key', 'ended_at', 'source', 'data'],
    key: ['section', 'recorded_at', 'event_key'],
    time: (r) => r.time,
    render: (r) => [text(r.section), ts(r.time), text(r.eventKey), ts(r.endTime), text(r.source), json(r.data)].join('\t'),
  }),
};

/** Table names in a stable order, for summaries. */
export const TABLE_NAMES: readonly string[] = [...new Set(Object.values(TABLES).map((s) => s.table))];

/** Positions of the key columns in a rendered line, to recover a row's key from its text. */
export function keyPositions(spec: TableSpec): number[] {
  return spec.key.map((k) => spec.columns.indexOf(k));
}
