/**
 * The tables that hold a person's health data and the history of its imports: each has user_id
 * and every key of it leads with user_id. Citus distributes them (distribute.ts) and the metrics
 * export their row estimates (metrics/registry.ts); one list, so a new table is placed once.
 */
export const USER_DATA_TABLES: readonly string[] = [
  'activity_metrics',
  'heart_rate_metrics',
  'blood_pressure_metrics',
  'sleep_metrics',
  'sleep_stages',
  'workouts',
  'workout_routes',
  'workout_heart_rate',
  'workout_series',
  'health_events',
  'raw_ingestions',
  'audit_log',
  'ingestion_rejects',
];
