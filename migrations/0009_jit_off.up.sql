-- JIT compilation off for sessions in this database. healthexport's queries are short (a batch's
-- merge, a dashboard panel, a day's rollup) but run over month partitions, so their cost
-- estimates pass jit_above_cost and PostgreSQL compiles every partition's scan before running
-- one: measured on the 1 GB bench database, the Workouts panel over 11 years spent 1,213 ms of
-- its 1,278 ms compiling 1,578 functions (90 ms without), and per-batch rollups with JIT cost
-- 87 backend-s of a 100 MB import against 11. The importer also turns it off per transaction;
-- this covers Grafana, psql and every other client. It applies to sessions started afterwards.
-- A role or a managed server that may not alter the database keeps its setting, with a notice.
DO $$
BEGIN
  EXECUTE format('ALTER DATABASE %I SET jit = off', current_database());
EXCEPTION WHEN insufficient_privilege THEN
  RAISE NOTICE 'healthexport: could not turn JIT off for database % (not its owner); dashboard queries over many partitions may be slow', current_database();
END $$;
