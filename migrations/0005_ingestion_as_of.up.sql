-- Each ingestion's "as of" instant: when the data it carries was current (the export's own date
-- when its content or file name says it, else the file's modification time; a REST POST: the
-- time received; `import --as-of` sets it). A stored row is updated only by an ingestion whose
-- as_of is not older than that of the ingestion that last wrote it (its ingestion_id), so an
-- old file imported again no longer overwrites newer, completed values. Runs recorded before
-- this migration are as of when they were received.
ALTER TABLE raw_ingestions ADD COLUMN as_of timestamptz;
ALTER TABLE raw_ingestions ADD COLUMN as_of_source text
  CHECK (as_of_source IN ('option', 'content', 'name', 'mtime', 'received'));
UPDATE raw_ingestions SET as_of = received_at, as_of_source = 'received';
CREATE INDEX raw_ingestions_as_of_idx ON raw_ingestions (user_id, as_of);
