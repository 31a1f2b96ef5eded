/**
 * The gauges the issue-13 alerts read, moved by refreshBusinessGauges against a real database:
 * a partition for the current month per table (HealthexportPartitionMissing) and the age of the
 * oldest ingestion still 'running' (HealthexportIngestionStuck).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refreshBusinessGauges, registry, resetMetrics } from '../../src/metrics/registry.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { parseSamples } from '../support/pushgateway.js';

async function sample(name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const found = parseSamples(await registry.metrics()).find(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  return found?.value;
}

describe('operations gauges', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: true });
    // Last month to two months ahead for every table, then one table loses its current month.
    await db.pool.query(
      `SELECT healthexport_create_month_partitions((date_trunc('month', now()) - interval '1 month')::date, (date_trunc('month', now()) + interval '2 month')::date)`,
    );
    await db.pool.query(`DO $$ BEGIN EXECUTE format('DROP TABLE workouts_p%s', to_char(now() AT TIME ZONE 'UTC', 'YYYYMM')); END $$`);
  });
  afterAll(async () => db?.drop());

  it('a missing current-month partition is 0, a present one 1', async () => {
    resetMetrics();
    expect(await sample('healthexport_partition_current_month', { table: 'workouts' })).toBeUndefined();
    await refreshBusinessGauges((sql) => db.pool.query(sql));
    expect(await sample('healthexport_partition_current_month', { table: 'workouts' })).toBe(0);
    expect(await sample('healthexport_partition_current_month', { table: 'heart_rate_metrics' })).toBe(1);
    expect(await sample('healthexport_partitions_future_months', { table: 'heart_rate_metrics' })).toBe(2);
  });

  it('the oldest running ingestion: absent before the first read, 0 when none, its age when one hangs', async () => {
    resetMetrics();
    expect(await sample('healthexport_ingestion_running_oldest_seconds')).toBeUndefined();
    await refreshBusinessGauges((sql) => db.pool.query(sql));
    expect(await sample('healthexport_ingestion_running_oldest_seconds')).toBe(0);
    await db.pool.query(
      `INSERT INTO raw_ingestions (user_id, received_at, source, source_kind, status) VALUES
         (1, now() - interval '3 hours', 'stuck.json', 'file', 'running'),
         (1, now() - interval '20 hours', 'done.json', 'file', 'ok')`,
    );
    await refreshBusinessGauges((sql) => db.pool.query(sql));
    const age = (await sample('healthexport_ingestion_running_oldest_seconds'))!;
    expect(age).toBeGreaterThanOrEqual(3 * 3600);
    expect(age).toBeLessThan(3 * 3600 + 600);
  });
});
