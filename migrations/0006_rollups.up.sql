-- Rollups: what a person draws (a day's steps, a day's heart-rate range) without scanning years of
-- raw samples. Two levels, both written by the importer in the transaction of the rows they
-- summarize (src/rollups/), both rebuildable from the rows (`healthexport rollups rebuild`):
--
-- rollup_quarters: per user, metric, 15-minute span, source and unit: samples, sum, min, max.
--   Why 15 minutes: a day in any time zone must be a whole number of buckets, and since 1980
--   every zone's UTC offset is a multiple of 15 minutes (India +05:30, Nepal +05:45, Chatham
--   +12:45; tested against every zone PostgreSQL knows), so every local midnight is a bucket
--   boundary. Hourly buckets would split the day of a half-hour zone. The span is also the unit of
--   source priority: per span, cumulative metrics count only the best-ranked source with data.
--   Not partitioned, on purpose: the rule below looks up each quarter's rivals by key, and over
--   month partitions every such lookup would plan and open every partition (measured: 43 s to
--   refresh 17 days once 130 months existed; unpartitioned, milliseconds). It is ~20 times
--   smaller than the rows it summarizes, and `partitions drop` leaves it: a day's summary
--   outlives the raw months it was made from (until `rollups rebuild`).
-- rollup_days: per user, zone, metric, local day and unit, computed from the quarters: for
--   cumulative metrics (cumulative_metrics) over the best-ranked source of each span, for the
--   others over every source. Kept for UTC and the zones in rollup_zones; any other zone is
--   answered from the quarters (exact, slower).
--
-- Keys lead with user_id like every other key (Citus distributes by it; docs/scale-out.md).

-- Metrics whose samples add up over time (HealthKit's cumulative aggregation style): a day's
-- value is a sum, and two devices counting the same minutes must not both be counted.
CREATE TABLE cumulative_metrics (
  metric text PRIMARY KEY
);
INSERT INTO cumulative_metrics (metric) VALUES
  ('step_count'), ('active_energy'), ('basal_energy_burned'), ('flights_climbed'),
  ('distance_walking_running'), ('walking_running_distance'), ('distance_cycling'), ('cycling_distance'),
  ('distance_swimming'), ('swimming_distance'), ('distance_wheelchair'), ('wheelchair_distance'),
  ('distance_downhill_snow_sports'), ('cross_country_skiing_distance'), ('paddle_sports_distance'),
  ('rowing_distance'), ('skating_sports_distance'),
  ('apple_exercise_time'), ('apple_move_time'), ('apple_stand_time'), ('apple_stand_hour'),
  ('push_count'), ('swimming_stroke_count'), ('nike_fuel'), ('time_in_daylight'),
  ('mindful_minutes'), ('number_of_times_fallen'), ('number_of_alcoholic_beverages'), ('insulin_delivery'),
  ('dietary_energy'), ('dietary_energy_consumed'), ('carbohydrates'), ('dietary_carbohydrates'),
  ('protein'), ('dietary_protein'), ('total_fat'), ('dietary_fat_total'), ('saturated_fat'),
  ('dietary_fat_saturated'), ('monounsaturated_fat'), ('dietary_fat_monounsaturated'),
  ('polyunsaturated_fat'), ('dietary_fat_polyunsaturated'), ('cholesterol'), ('dietary_cholesterol'),
  ('fiber'), ('dietary_fiber'), ('dietary_sugar'), ('dietary_water'), ('dietary_caffeine'), ('caffeine'),
  ('dietary_calcium'), ('calcium'), ('dietary_chloride'), ('chloride'), ('dietary_chromium'), ('chromium'),
  ('dietary_copper'), ('copper'), ('dietary_iodine'), ('iodine'), ('dietary_iron'), ('iron'),
  ('dietary_magnesium'), ('magnesium'), ('dietary_manganese'), ('manganese'), ('dietary_molybdenum'),
  ('molybdenum'), ('dietary_phosphorus'), ('phosphorus'), ('dietary_potassium'), ('potassium'),
  ('dietary_selenium'), ('selenium'), ('dietary_sodium'), ('sodium'), ('dietary_zinc'), ('zinc'),
  ('dietary_biotin'), ('biotin'), ('dietary_folate'), ('folate'), ('dietary_niacin'), ('niacin'),
  ('dietary_pantothenic_acid'), ('pantothenic_acid'), ('dietary_riboflavin'), ('riboflavin'),
  ('dietary_thiamin'), ('thiamin'), ('dietary_vitamin_a'), ('vitamin_a'), ('dietary_vitamin_b6'),
  ('vitamin_b6'), ('dietary_vitamin_b12'), ('vitamin_b12'), ('dietary_vitamin_c'), ('vitamin_c'),
  ('dietary_vitamin_d'), ('vitamin_d'), ('dietary_vitamin_e'), ('vitamin_e'), ('dietary_vitamin_k'),
  ('vitamin_k');

-- A user's source priority: case-insensitive substrings of source names, best first. A source
-- ranks at the first pattern it contains (a merged HAE source "iPhone|Apple Watch" contains
-- "Watch"), sources matching none rank after all patterns. No row: the Health app's default.
CREATE TABLE source_priorities (
  user_id    bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  patterns   text[] NOT NULL CHECK (cardinality(patterns) BETWEEN 1 AND 32),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION healthexport_source_patterns(p_user bigint) RETURNS text[]
LANGUAGE sql STABLE AS $$
  SELECT coalesce((SELECT patterns FROM source_priorities WHERE user_id = p_user), ARRAY['Watch', 'iPhone']);
$$;

CREATE FUNCTION healthexport_source_rank(p_patterns text[], p_source text) RETURNS smallint
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  s text := lower(p_source);
BEGIN
  FOR i IN 1 .. coalesce(cardinality(p_patterns), 0) LOOP
    IF strpos(s, lower(p_patterns[i])) > 0 THEN RETURN i; END IF;
  END LOOP;
  RETURN coalesce(cardinality(p_patterns), 0) + 1;
END $$;

CREATE TABLE rollup_quarters (
  user_id  bigint NOT NULL,
  metric   text NOT NULL,
  bucket   timestamptz NOT NULL,
  source   text NOT NULL,
  unit     text NOT NULL,
  priority smallint NOT NULL,
  samples  integer NOT NULL CHECK (samples > 0),
  total    double precision NOT NULL,
  low      double precision NOT NULL,
  high     double precision NOT NULL,
  PRIMARY KEY (user_id, metric, bucket, source, unit),
  CHECK (extract(epoch FROM bucket)::bigint % 900 = 0)
);

-- The quarters that count: for a cumulative metric, in each span only the best-ranked source
-- (lowest priority, then source name) that has data; for every other metric, all of them.
-- rollup_days is this view summed per local day; the dashboard's finer panels read it directly.
CREATE VIEW rollup_counted AS
SELECT q.*
FROM rollup_quarters q
WHERE NOT EXISTS (SELECT 1 FROM cumulative_metrics c WHERE c.metric = q.metric)
   OR NOT EXISTS (
     SELECT 1 FROM rollup_quarters b
     WHERE b.user_id = q.user_id AND b.metric = q.metric AND b.bucket = q.bucket
       AND (b.priority, b.source) < (q.priority, q.source));

-- The local days in zone p_tz that the instants [p_lo, p_hi) touch. A function (not inlined)
-- so the planner expects a few rows, as there are, and probes rollup_days by key instead of
-- hashing all of it (generate_series with computed bounds is planned as 1,000 rows).
CREATE FUNCTION healthexport_local_days(p_lo timestamptz, p_hi timestamptz, p_tz text) RETURNS SETOF date
LANGUAGE plpgsql STABLE ROWS 4 AS $$
BEGIN
  RETURN QUERY SELECT d::date FROM generate_series((p_lo AT TIME ZONE p_tz)::date,
                                                   ((p_hi - interval '1 microsecond') AT TIME ZONE p_tz)::date,
                                                   interval '1 day') d;
END $$;

-- Zones whose days are kept in rollup_days, besides UTC (kept for everyone).
CREATE TABLE rollup_zones (
  user_id  bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  tz       text NOT NULL,
  added_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, tz)
);

-- One row per local day: starts_at is that day's midnight in tz (what Grafana draws the day at).
CREATE TABLE rollup_days (
  user_id   bigint NOT NULL,
  tz        text NOT NULL,
  metric    text NOT NULL,
  starts_at timestamptz NOT NULL,
  unit      text NOT NULL,
  day       date NOT NULL,
  samples   integer NOT NULL CHECK (samples > 0),
  total     double precision NOT NULL,
  low       double precision NOT NULL,
  high      double precision NOT NULL,
  PRIMARY KEY (user_id, tz, metric, starts_at, unit)
);
