DELETE FROM healthexport_partitioned_tables WHERE table_name = 'rollup_quarters';
DROP TABLE rollup_days;
DROP TABLE rollup_zones;
DROP VIEW rollup_counted;
DROP TABLE rollup_quarters;
DROP FUNCTION healthexport_source_rank(text[], text);
DROP FUNCTION healthexport_source_patterns(bigint);
DROP TABLE source_priorities;
DROP TABLE cumulative_metrics;
