DROP TABLE rollup_days;
DROP FUNCTION healthexport_local_days(timestamptz, timestamptz, text);
DROP TABLE rollup_zones;
DROP VIEW rollup_counted;
DROP TABLE rollup_quarters;
DROP FUNCTION healthexport_source_rank(text[], text);
DROP FUNCTION healthexport_source_patterns(bigint);
DROP TABLE source_priorities;
DROP TABLE cumulative_metrics;
