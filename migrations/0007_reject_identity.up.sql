-- One reject per bad record: importing the same file again (or the app re-sending the same
-- payload) must not store its rejects a second time. A record is identified by its user and
-- what the reader reported about it: target table, JSON/XML path, byte offset and raw text. The
-- same text at the same position is the same record, whatever the file was called. A record
-- seen again moves to the latest ingestion that saw it and counts how often it was seen.
CREATE FUNCTION healthexport_reject_key(target_table text, json_path text, byte_offset bigint, raw text)
RETURNS bytea LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT sha256(convert_to(
    coalesce(target_table, E'\\N') || E'\x1f' || coalesce(json_path, E'\\N') || E'\x1f' ||
    coalesce(byte_offset::text, E'\\N') || E'\x1f' || coalesce(raw, E'\\N'), 'UTF8'))
$$;

ALTER TABLE ingestion_rejects ADD COLUMN record_key bytea;
ALTER TABLE ingestion_rejects ADD COLUMN times_seen integer NOT NULL DEFAULT 1 CHECK (times_seen >= 1);
UPDATE ingestion_rejects SET record_key = healthexport_reject_key(target_table, json_path, byte_offset, raw);

-- Rejects stored twice before this migration: keep the newest of each, count the others.
WITH ranked AS (
  SELECT ctid, user_id, record_key,
         count(*) OVER (PARTITION BY user_id, record_key) AS n,
         row_number() OVER (PARTITION BY user_id, record_key ORDER BY rejected_at DESC, id DESC) AS rn
  FROM ingestion_rejects
), kept AS (
  UPDATE ingestion_rejects r SET times_seen = ranked.n FROM ranked WHERE r.ctid = ranked.ctid AND ranked.rn = 1 AND ranked.n > 1
)
DELETE FROM ingestion_rejects r USING ranked WHERE r.ctid = ranked.ctid AND ranked.rn > 1;

ALTER TABLE ingestion_rejects ALTER COLUMN record_key SET NOT NULL;
CREATE UNIQUE INDEX ingestion_rejects_record_key_idx ON ingestion_rejects (user_id, record_key);
-- rejects list --reason / --file filter on these.
CREATE INDEX ingestion_rejects_user_time_idx ON ingestion_rejects (user_id, rejected_at DESC);
