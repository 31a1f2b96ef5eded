-- Route points in the same second are distinct points (Apple's export writes one-second times,
-- and two GPX <trkpt>s or <Location>s in one second are common). Keyed on the time alone, the
-- second one overwrote the first. `seq` ranks the points of a workout at the same instant in
-- export order (0 for the first), so every point has its own key; rows stored before keep 0.
ALTER TABLE workout_routes ADD COLUMN seq integer NOT NULL DEFAULT 0 CHECK (seq >= 0);
ALTER TABLE workout_routes DROP CONSTRAINT workout_routes_pkey;
ALTER TABLE workout_routes ADD PRIMARY KEY (user_id, workout_id, recorded_at, seq);
