-- Route geometry when PostGIS is available; without it (the embedded default) points are
-- still stored as latitude/longitude and nothing else changes. The runner sets
-- healthexport.postgis to 'require' (fail without PostGIS), 'auto' (default) or 'off'.
CREATE TABLE healthexport_features (
  feature    text PRIMARY KEY,
  enabled    boolean NOT NULL,
  detail     text
);

DO $$
DECLARE
  mode text := coalesce(nullif(current_setting('healthexport.postgis', true), ''), 'auto');
  available boolean := EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'postgis');
  preexisting boolean := EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'postgis');
BEGIN
  IF mode = 'require' AND NOT available THEN
    RAISE EXCEPTION 'PostGIS is required (--postgis require) but this server has no postgis extension (Debian: apt-get install postgresql-%-postgis-3)',
      current_setting('server_version_num')::int / 10000;
  END IF;
  IF mode = 'off' OR NOT available THEN
    INSERT INTO healthexport_features VALUES ('postgis', false,
      CASE WHEN mode = 'off' THEN 'disabled by --postgis off' ELSE 'extension not available on this server' END);
    RETURN;
  END IF;
  CREATE EXTENSION IF NOT EXISTS postgis;
  -- Remember whether we created it, so the down migration removes only what it added.
  INSERT INTO healthexport_features VALUES ('postgis', true,
    CASE WHEN preexisting THEN 'extension existed before' ELSE 'extension created by migration 2' END);
  ALTER TABLE workout_routes ADD COLUMN geom geometry(PointZ, 4326)
    GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(longitude, latitude, coalesce(altitude, 0)), 4326)) STORED;
  CREATE INDEX workout_routes_geom_idx ON workout_routes USING gist (geom);
  -- Built by the importer after a workout's points are loaded.
  ALTER TABLE workouts ADD COLUMN route geometry(LineStringZ, 4326);
  CREATE INDEX workouts_route_idx ON workouts USING gist (route);
END $$;
