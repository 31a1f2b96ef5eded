DROP INDEX IF EXISTS ingestion_rejects_user_time_idx;
DROP INDEX IF EXISTS ingestion_rejects_record_key_idx;
ALTER TABLE ingestion_rejects DROP COLUMN IF EXISTS times_seen;
ALTER TABLE ingestion_rejects DROP COLUMN IF EXISTS record_key;
DROP FUNCTION IF EXISTS healthexport_reject_key(text, text, bigint, text);
