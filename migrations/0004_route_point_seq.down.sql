-- Back to one point per workout and instant: the later-ranked duplicates go.
DELETE FROM workout_routes WHERE seq > 0;
ALTER TABLE workout_routes DROP CONSTRAINT workout_routes_pkey;
ALTER TABLE workout_routes ADD PRIMARY KEY (user_id, workout_id, recorded_at);
ALTER TABLE workout_routes DROP COLUMN seq;
