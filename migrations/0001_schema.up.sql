-- Core schema: users and API keys, the month-partitioned time-series tables, rejects.
--
-- Every primary key starts with user_id and includes the partition's time column: range
-- partitioning requires the latter, and the former keeps the schema ready for a distributed
-- PostgreSQL (Citus distributes by user_id). The metric tables carry no foreign key to users:
-- a per-row FK check would dominate COPY time, and rows are only ever written by the importer,
-- which resolves the user first.

CREATE TABLE users (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name       text NOT NULL UNIQUE CHECK (name <> ''),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Keys are shown once; only a slow hash is kept. The prefix (random, not secret) finds the row
-- to verify without knowing the user first.
CREATE TABLE api_keys (
  user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  id           bigint GENERATED ALWAYS AS IDENTITY,
  prefix       text NOT NULL,
  key_hash     text NOT NULL,
  label        text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at   timestamptz,
  PRIMARY KEY (user_id, id)
);
CREATE INDEX api_keys_prefix_idx ON api_keys (prefix);

-- One row per import run or REST POST.
CREATE TABLE raw_ingestions (
  user_id     bigint NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  id          uuid NOT NULL DEFAULT gen_random_uuid(),
  source      text NOT NULL,
  source_kind text NOT NULL CHECK (source_kind IN ('file', 'stdin', 'http')),
  bytes       bigint CHECK (bytes >= 0),
  sha256      text,
  status      text NOT NULL CHECK (status IN ('running', 'ok', 'partial', 'failed')),
  counts      jsonb,
  error       text,
  finished_at timestamptz,
  PRIMARY KEY (user_id, received_at, id)
) PARTITION BY RANGE (received_at);
CREATE INDEX raw_ingestions_id_idx ON raw_ingestions (id);
CREATE INDEX raw_ingestions_sha_idx ON raw_ingestions (user_id, sha256);

CREATE TABLE audit_log (
  user_id bigint NOT NULL,
  at      timestamptz NOT NULL DEFAULT now(),
  id      uuid NOT NULL DEFAULT gen_random_uuid(),
  action  text NOT NULL,
  detail  jsonb,
  PRIMARY KEY (user_id, at, id)
) PARTITION BY RANGE (at);

CREATE TABLE heart_rate_metrics (
  user_id      bigint NOT NULL,
  recorded_at  timestamptz NOT NULL,
  source       text NOT NULL DEFAULT '',
  min_bpm      real CHECK (min_bpm > 0 AND min_bpm <= 300),
  avg_bpm      real NOT NULL CHECK (avg_bpm > 0 AND avg_bpm <= 300),
  max_bpm      real CHECK (max_bpm > 0 AND max_bpm <= 300),
  unit         text,
  extra        jsonb,
  ingestion_id uuid,
  PRIMARY KEY (user_id, recorded_at, source)
) PARTITION BY RANGE (recorded_at);

CREATE TABLE blood_pressure_metrics (
  user_id      bigint NOT NULL,
  recorded_at  timestamptz NOT NULL,
  source       text NOT NULL DEFAULT '',
  systolic     real NOT NULL CHECK (systolic BETWEEN 30 AND 300),
  diastolic    real NOT NULL CHECK (diastolic BETWEEN 10 AND 250),
  unit         text,
  extra        jsonb,
  ingestion_id uuid,
  PRIMARY KEY (user_id, recorded_at, source),
  CHECK (diastolic <= systolic)
) PARTITION BY RANGE (recorded_at);

-- Aggregated sleep: one row per night. Durations are in `unit` (HAE writes hours).
CREATE TABLE sleep_metrics (
  user_id      bigint NOT NULL,
  recorded_at  timestamptz NOT NULL,
  source       text NOT NULL DEFAULT '',
  unit         text,
  total_sleep  real CHECK (total_sleep >= 0),
  core         real CHECK (core >= 0),
  deep         real CHECK (deep >= 0),
  rem          real CHECK (rem >= 0),
  awake        real CHECK (awake >= 0),
  in_bed       real CHECK (in_bed >= 0),
  sleep_start  timestamptz,
  sleep_end    timestamptz,
  in_bed_start timestamptz,
  in_bed_end   timestamptz,
  extra        jsonb,
  ingestion_id uuid,
  PRIMARY KEY (user_id, recorded_at, source)
) PARTITION BY RANGE (recorded_at);

-- Unaggregated sleep: one row per stage interval.
CREATE TABLE sleep_stages (
  user_id      bigint NOT NULL,
  started_at   timestamptz NOT NULL,
  ended_at     timestamptz NOT NULL,
  stage        text NOT NULL,
  source       text NOT NULL DEFAULT '',
  qty          real,
  unit         text,
  extra        jsonb,
  ingestion_id uuid,
  PRIMARY KEY (user_id, started_at, stage, source),
  CHECK (ended_at >= started_at)
) PARTITION BY RANGE (started_at);

-- Every single-value HAE quantity, known or not: one row per user, metric, time and source,
-- with its unit as exported (kg or lb, kcal or kJ: converting is the reader's choice).
CREATE TABLE activity_metrics (
  user_id      bigint NOT NULL,
  metric       text NOT NULL CHECK (metric <> ''),
  recorded_at  timestamptz NOT NULL,
  source       text NOT NULL DEFAULT '',
  qty          double precision CHECK (qty <> 'NaN'::double precision),
  text_value   text,
  unit         text,
  ended_at     timestamptz,
  extra        jsonb,
  ingestion_id uuid,
  PRIMARY KEY (user_id, metric, recorded_at, source),
  CHECK (qty IS NOT NULL OR text_value IS NOT NULL),
  CHECK (ended_at IS NULL OR ended_at >= recorded_at)
) PARTITION BY RANGE (recorded_at);

CREATE TABLE workouts (
  user_id                bigint NOT NULL,
  started_at             timestamptz NOT NULL,
  workout_id             text NOT NULL,
  name                   text NOT NULL,
  ended_at               timestamptz NOT NULL,
  duration_s             double precision CHECK (duration_s >= 0),
  location               text,
  active_energy          double precision CHECK (active_energy >= 0),
  active_energy_unit     text,
  distance               double precision CHECK (distance >= 0),
  distance_unit          text,
  export_version         smallint NOT NULL CHECK (export_version IN (1, 2)),
  id_derived             boolean NOT NULL,
  heart_rate_is_recovery boolean NOT NULL DEFAULT false,
  route_points           integer NOT NULL DEFAULT 0,
  summary                jsonb,
  metadata               jsonb,
  ingestion_id           uuid,
  PRIMARY KEY (user_id, started_at, workout_id),
  CHECK (ended_at >= started_at)
) PARTITION BY RANGE (started_at);
CREATE INDEX workouts_workout_id_idx ON workouts (user_id, workout_id);

-- One row per GPS point, partitioned by the point's own time.
CREATE TABLE workout_routes (
  user_id             bigint NOT NULL,
  workout_id          text NOT NULL,
  recorded_at         timestamptz NOT NULL,
  latitude            double precision NOT NULL CHECK (latitude BETWEEN -90 AND 90),
  longitude           double precision NOT NULL CHECK (longitude BETWEEN -180 AND 180),
  altitude            real,
  course              real,
  course_accuracy     real,
  speed               real,
  speed_accuracy      real,
  horizontal_accuracy real,
  vertical_accuracy   real,
  ingestion_id        uuid,
  PRIMARY KEY (user_id, workout_id, recorded_at)
) PARTITION BY RANGE (recorded_at);

CREATE TABLE workout_heart_rate (
  user_id      bigint NOT NULL,
  workout_id   text NOT NULL,
  series       text NOT NULL CHECK (series IN ('session', 'recovery')),
  recorded_at  timestamptz NOT NULL,
  source       text NOT NULL DEFAULT '',
  min_bpm      real CHECK (min_bpm > 0 AND min_bpm <= 300),
  avg_bpm      real NOT NULL CHECK (avg_bpm > 0 AND avg_bpm <= 300),
  max_bpm      real CHECK (max_bpm > 0 AND max_bpm <= 300),
  unit         text,
  ingestion_id uuid,
  PRIMARY KEY (user_id, workout_id, series, recorded_at)
) PARTITION BY RANGE (recorded_at);

-- Other per-sample series recorded during a workout (activeEnergy, stepCount, ...).
CREATE TABLE workout_series (
  user_id      bigint NOT NULL,
  workout_id   text NOT NULL,
  series       text NOT NULL,
  recorded_at  timestamptz NOT NULL,
  source       text NOT NULL DEFAULT '',
  qty          double precision NOT NULL,
  unit         text,
  ingestion_id uuid,
  PRIMARY KEY (user_id, workout_id, series, recorded_at)
) PARTITION BY RANGE (recorded_at);

-- The newer top-level arrays (stateOfMind, ecg, symptoms, medications, cycleTracking,
-- heartRateNotifications, and array keys not known yet), each element kept whole.
CREATE TABLE health_events (
  user_id      bigint NOT NULL,
  section      text NOT NULL,
  recorded_at  timestamptz NOT NULL,
  event_key    text NOT NULL,
  ended_at     timestamptz,
  source       text NOT NULL DEFAULT '',
  data         jsonb NOT NULL,
  ingestion_id uuid,
  PRIMARY KEY (user_id, section, recorded_at, event_key)
) PARTITION BY RANGE (recorded_at);

-- Records that could not be stored, with why and where, so nothing is silently lost.
CREATE TABLE ingestion_rejects (
  user_id      bigint NOT NULL,
  ingestion_id uuid NOT NULL,
  id           bigint GENERATED ALWAYS AS IDENTITY,
  rejected_at  timestamptz NOT NULL DEFAULT now(),
  target_table text,
  json_path    text,
  byte_offset  bigint,
  reason       text NOT NULL,
  raw          text,
  PRIMARY KEY (user_id, ingestion_id, id)
);

-- Data arrives in time order, so block-range indexes on the time columns are tiny and fast.
CREATE INDEX raw_ingestions_brin ON raw_ingestions USING brin (received_at);
CREATE INDEX audit_log_brin ON audit_log USING brin (at);
CREATE INDEX heart_rate_metrics_brin ON heart_rate_metrics USING brin (recorded_at);
CREATE INDEX blood_pressure_metrics_brin ON blood_pressure_metrics USING brin (recorded_at);
CREATE INDEX sleep_metrics_brin ON sleep_metrics USING brin (recorded_at);
CREATE INDEX sleep_stages_brin ON sleep_stages USING brin (started_at);
CREATE INDEX activity_metrics_brin ON activity_metrics USING brin (recorded_at);
CREATE INDEX workouts_brin ON workouts USING brin (started_at);
CREATE INDEX workout_routes_brin ON workout_routes USING brin (recorded_at);
CREATE INDEX workout_heart_rate_brin ON workout_heart_rate USING brin (recorded_at);
CREATE INDEX workout_series_brin ON workout_series USING brin (recorded_at);
CREATE INDEX health_events_brin ON health_events USING brin (recorded_at);

-- The month-partitioned tables and their partition columns, for the functions below.
CREATE TABLE healthexport_partitioned_tables (
  table_name  text PRIMARY KEY,
  time_column text NOT NULL
);
INSERT INTO healthexport_partitioned_tables VALUES
  ('raw_ingestions', 'received_at'), ('audit_log', 'at'),
  ('heart_rate_metrics', 'recorded_at'), ('blood_pressure_metrics', 'recorded_at'),
  ('sleep_metrics', 'recorded_at'), ('sleep_stages', 'started_at'),
  ('activity_metrics', 'recorded_at'), ('workouts', 'started_at'),
  ('workout_routes', 'recorded_at'), ('workout_heart_rate', 'recorded_at'),
  ('workout_series', 'recorded_at'), ('health_events', 'recorded_at');

-- Creates the monthly partitions <table>_pYYYYMM of one table for every month from p_from to
-- p_to (inclusive; months in UTC). Idempotent; serialized by an advisory lock so concurrent
-- imports touching the same month do not race on CREATE TABLE. Returns how many it created.
CREATE FUNCTION healthexport_create_month_partitions(p_table text, p_from date, p_to date)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  m date := date_trunc('month', p_from)::date;
  part text;
  created integer := 0;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM healthexport_partitioned_tables WHERE table_name = p_table) THEN
    RAISE EXCEPTION 'healthexport: % is not a month-partitioned table', p_table;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('healthexport_partitions'));
  WHILE m <= p_to LOOP
    part := p_table || '_p' || to_char(m, 'YYYYMM');
    IF to_regclass(quote_ident(part)) IS NULL THEN
      EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                     part, p_table, m::text || ' 00:00:00+00',
                     (m + interval '1 month')::date::text || ' 00:00:00+00');
      created := created + 1;
    END IF;
    m := (m + interval '1 month')::date;
  END LOOP;
  RETURN created;
END $$;

-- The same for every partitioned table.
CREATE FUNCTION healthexport_create_month_partitions(p_from date, p_to date)
RETURNS integer LANGUAGE sql AS $$
  SELECT coalesce(sum(healthexport_create_month_partitions(table_name, p_from, p_to)), 0)::integer
  FROM healthexport_partitioned_tables;
$$;
