/**
 * A decade of data: 12 tables x 120 months of partitions, under PostgreSQL's default
 * max_locks_per_transaction (64), on a server this file owns with a small lock table
 * (max_connections 20: 64 x 20 lock slots shared by every session; the shared test server must
 * never be run out of them). Partition creation while an import runs, migrate down to 0 and up
 * again, and retention all work, because none of them takes a decade of locks in one transaction.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrations.js';
import { createPartitionsAhead, dropPartitionsOlderThan, listPartitions } from '../../src/db/partitions.js';
import { importSource } from '../../src/import/run-import.js';
import { stringSource } from '../support/inputs.js';
import { startOwnPostgres, type OwnPostgres } from '../support/own-postgres.js';

function steps(n: number, fromMs: number): string {
  const data: string[] = [];
  for (let i = 0; i < n; i++) data.push(`{"date":"${new Date(fromMs + i * 3600_000).toISOString()}","qty":${i % 50},"source":"W"}`);
  return `{"data":{"metrics":[{"name":"step_count","units":"count","data":[${data.join(',')}]}]}}`;
}

describe('a decade of partitions and the lock table', () => {
  let own: OwnPostgres;
  let pool: pg.Pool;
  beforeAll(async () => {
    own = await startOwnPostgres({ settings: { max_connections: 20, max_locks_per_transaction: 64 } });
    pool = new pg.Pool({ connectionString: own.url, max: 6 });
    pool.on('error', () => {});
    await migrate(pool);
  }, 120_000);
  afterAll(async () => {
    await pool?.end().catch(() => {});
    await own?.destroy();
  });

  it('creates 12 x 120 month partitions while an import runs, then migrates down to 0 and up again', async () => {
    const now = new Date();
    const from = new Date(Date.UTC(now.getUTCFullYear() - 10, now.getUTCMonth(), 1));
    const importing = importSource(stringSource(steps(3000, Date.UTC(now.getUTCFullYear() - 1, 0, 1)), 'steps.json'), {
      pool,
      user: 'jane',
      batchRows: 200,
    });
    const created = await createPartitionsAhead(pool, { from, monthsAhead: 0 });
    const s = await importing;
    expect(s.status).toBe('ok');
    expect(s.totals.inserted).toBe(3000);
    const tables = (await pool.query('SELECT count(*)::int AS n FROM healthexport_partitioned_tables')).rows[0].n;
    expect(tables).toBeGreaterThanOrEqual(12);
    const parts = await listPartitions(pool);
    expect(parts.length).toBeGreaterThanOrEqual(tables * 121);
    expect(created).toBeGreaterThan(tables * 115);

    const down = await migrate(pool, { target: 0 });
    expect(down.to).toBe(0);
    const left = await pool.query(`SELECT count(*)::int AS n FROM pg_class WHERE relname LIKE '%\\_p______' AND relkind = 'r'`);
    expect(left.rows[0].n).toBe(0);
    const up = await migrate(pool);
    expect(up.to).toBeGreaterThan(0);
    expect(await createPartitionsAhead(pool, { from, monthsAhead: 0 })).toBe(parts.length);
  }, 600_000);

  it('retention drops a decade of partitions one at a time', async () => {
    const before = (await listPartitions(pool)).length;
    const dropped = await dropPartitionsOlderThan(pool, new Date());
    expect(dropped.length).toBeGreaterThan(before - 20);
    expect((await listPartitions(pool)).length).toBe(before - dropped.length);
  }, 300_000);
});
