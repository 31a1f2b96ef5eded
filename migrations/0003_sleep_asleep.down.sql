ALTER TABLE sleep_metrics DROP COLUMN asleep;
