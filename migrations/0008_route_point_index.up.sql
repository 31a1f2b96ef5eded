-- No spatial index on single route points. Migration 2 gave workout_routes.geom a GiST index;
-- every point of every route then went through a GiST insert, the most expensive part of loading
-- routes (1 GB bench: COPY into workout_routes 29 us a point against 7 us a heart-rate sample).
-- Nothing reads points by area: "which workouts passed here" is answered by the GiST index on
-- workouts.route (one line per workout), and a route's points are read by workout (primary key).
-- Without PostGIS the index never existed; IF EXISTS covers both.
DROP INDEX IF EXISTS workout_routes_geom_idx;
