DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM healthexport_features WHERE feature = 'postgis' AND enabled) THEN
    ALTER TABLE workouts DROP COLUMN route;
    ALTER TABLE workout_routes DROP COLUMN geom;
    IF EXISTS (SELECT 1 FROM healthexport_features
               WHERE feature = 'postgis' AND detail = 'extension created by migration 2') THEN
      DROP EXTENSION postgis;
    END IF;
  END IF;
END $$;
DROP TABLE healthexport_features;
