-- `asleep` of an aggregated HAE night as its own column: "asleep, stage unknown". Since 2023 the
-- app writes `asleep: 0` beside core/deep/rem and no totalSleep; the night's total_sleep is then
-- asleep + core + deep + rem (computed by the reader), and `asleep` is kept as written here
-- (before, it went to `extra` or stood in for the total).
ALTER TABLE sleep_metrics ADD COLUMN asleep real CHECK (asleep >= 0);
