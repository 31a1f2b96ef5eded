DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'workout_routes' AND column_name = 'geom') THEN
    CREATE INDEX IF NOT EXISTS workout_routes_geom_idx ON workout_routes USING gist (geom);
  END IF;
END $$;
