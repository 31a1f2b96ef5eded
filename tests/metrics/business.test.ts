/**
 * refreshBusinessGauges against the real PostgreSQL chosen by global-setup: an empty database
 * (nothing migrated yet) and the migrated schema with partitions and some rows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPartitionsAhead } from '../../src/db/partitions.js';
import { BUSINESS_TABLES, refreshBusinessGauges, registry, resetMetrics } from '../../src/metrics/registry.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { parseSamples } from '../support/pushgateway.js';

let empty: TestDatabase;
let migrated: TestDatabase;

beforeAll(async () => {
  [empty, migrated] = await Promise.all([createTestDatabase(), createTestDatabase({ migrate: true })]);
});

afterAll(async () => {
  await Promise.all([empty?.drop(), migrated?.drop()]);
});

async function gauge(name: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const s of parseSamples(await registry.metrics())) {
    if (s.name === name) out[s.labels.table ?? ''] = s.value;
  }
  return out;
}

describe('refreshBusinessGauges on a real server', () => {
  it('tolerates a database where nothing exists yet', async () => {
    resetMetrics();
    const r = await refreshBusinessGauges((sql) => empty.pool.query(sql));
    expect(r).toEqual({ users: null, rowsEstimate: {}, futureMonths: {}, errors: [] });
    expect(await gauge('healthexport_users')).toEqual({});
    expect(await gauge('healthexport_table_rows_estimate')).toEqual({});
  });

  it('reads users, row estimates over partitions and future partition months', async () => {
    resetMetrics();
    const now = new Date();
    await createPartitionsAhead(migrated.pool, { monthsAhead: 3, now });
    await migrated.pool.query(`INSERT INTO users (name) VALUES ('alice'), ('bob')`);
    await migrated.pool.query(`
      INSERT INTO activity_metrics (user_id, metric, recorded_at, qty)
      SELECT 1, 'step_count', date_trunc('month', now()) + g * interval '1 minute', g
        FROM generate_series(1, 3000) g`);
    await migrated.pool.query('ANALYZE activity_metrics; ANALYZE users');

    const r = await refreshBusinessGauges((sql) => migrated.pool.query(sql), now);
    expect(r.errors).toEqual([]);
    expect(r.users).toBe(2);
    expect(r.rowsEstimate.activity_metrics).toBe(3000);
    // every table of the schema is covered, partitioned or not
    for (const t of BUSINESS_TABLES) expect(r.rowsEstimate).toHaveProperty(t);
    expect(r.futureMonths.activity_metrics).toBe(3);
    expect(r.futureMonths.raw_ingestions).toBe(3);
    expect(r.futureMonths).not.toHaveProperty('ingestion_rejects'); // not partitioned

    expect((await gauge('healthexport_users'))['']).toBe(2);
    expect((await gauge('healthexport_table_rows_estimate')).activity_metrics).toBe(3000);
    expect((await gauge('healthexport_partitions_future_months')).workouts).toBe(3);
  });
});
