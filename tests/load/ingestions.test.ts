import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ABANDONED_AFTER_MS, startIngestion} from '../../src/load/ingestions.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { ensureUser } from '../../src/db/users.js';

describe('raw_ingestions', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: true });
  });
  afterAll(async () => db?.drop());

  it('a new run marks the same user\'s runs left "running" for over a day as abandoned, and only those', async () => {
    const jane = await ensureUser(db.pool, 'jane');
    const bob = await ensureUser(db.pool, 'bob');
    const old = new Date(Date.now() - ABANDONED_AFTER_MS - 3600_000);
    const recent = new Date(Date.now() - 3600_000);
    await db.pool.query(`SELECT healthexport_create_month_partitions('raw_ingestions', $1::date, now()::date)`, [old]);
    await db.pool.query(
      `INSERT INTO raw_ingestions (user_id, received_at, source, source_kind, status) VALUES
         ($1, $3, 'killed.json', 'file', 'running'), ($1, $4, 'still-going.json', 'file', 'running'),
         ($2, $3, 'bobs.json', 'file', 'running')`,
      [jane, bob, old, recent],
    );
    await startIngestion(db.pool, { userId: jane, source: 'new.json', sourceKind: 'file', known: new Set() });
    const { rows } = await db.pool.query(`SELECT source, status, error FROM raw_ingestions ORDER BY source`);
    expect(rows.map((r) => [r.source, r.status])).toEqual([
      ['bobs.json', 'running'],
      ['killed.json', 'failed'],
      ['new.json', 'running'],
      ['still-going.json', 'running'],
    ]);
    expect(rows.find((r) => r.source === 'killed.json').error).toMatch(/^abandoned/);
  });
});
