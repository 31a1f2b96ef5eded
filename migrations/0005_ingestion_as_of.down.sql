DROP INDEX raw_ingestions_as_of_idx;
ALTER TABLE raw_ingestions DROP COLUMN as_of_source;
ALTER TABLE raw_ingestions DROP COLUMN as_of;
