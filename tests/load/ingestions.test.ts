import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ABANDONED_AFTER_MS, releaseLease, startIngestion } from '../../src/load/ingestions.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { ensureUser } from '../../src/db/users.js';

describe('raw_ingestions', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: true });
  });
  afterAll(async () => db?.drop());

  it('a new run marks the same user\'s runs left "running" as abandoned when over a day old or their lease is free, and only those', async () => {
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
    // A live run holds its lease (a session advisory lock on its id) on a connection of its own.
    const live = await startIngestion(db.pool, { userId: jane, source: 'live.json', sourceKind: 'file', known: new Set() });
    expect(live.lease).not.toBeNull();
    // A recent run whose process died: its lease went with its connection.
    const dead = await startIngestion(db.pool, { userId: jane, source: 'died.json', sourceKind: 'file', known: new Set() });
    await releaseLease(dead);
    const next = await startIngestion(db.pool, { userId: jane, source: 'new.json', sourceKind: 'file', known: new Set() });
    const { rows } = await db.pool.query(`SELECT source, status, error FROM raw_ingestions ORDER BY source`);
    expect(rows.map((r) => [r.source, r.status])).toEqual([
      ['bobs.json', 'running'],
      ['died.json', 'failed'],
      ['killed.json', 'failed'],
      ['live.json', 'running'],
      ['new.json', 'running'],
      // Inserted by hand, so without a lease: as good as dead.
      ['still-going.json', 'failed'],
    ]);
    expect(rows.find((r) => r.source === 'killed.json').error).toMatch(/^abandoned/);
    expect(rows.find((r) => r.source === 'died.json').error).toMatch(/running the same import again finishes the job/);
    await releaseLease(live);
    await releaseLease(next);
  });
});
