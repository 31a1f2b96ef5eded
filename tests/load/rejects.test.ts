/** The quarantine table: what is stored of a rejected record and how `rejects list` reads it back. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureUser } from '../../src/db/users.js';
import { listRejects, MAX_RAW_CHARS, storeRejects, type Reject } from '../../src/load/rejects.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

const reject = (n: number, raw: string | null = `{"qty":${n}}`): Reject => ({
  table: 'activity_metrics',
  reason: `step_count qty -${n} is negative`,
  jsonPath: `data.metrics[0].data[${n}]`,
  byteOffset: 1000 + n,
  raw,
});

describe('ingestion_rejects', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: true });
  });
  afterAll(async () => db?.drop());

  it('keeps reason, JSON path, byte offset and text; cuts a huge text; lists one ingestion in order', async () => {
    const user = await ensureUser(db.pool, `rejects-${randomUUID().slice(0, 8)}`);
    const ing = randomUUID();
    await storeRejects(db.pool, user, ing, [reject(1), reject(2, 'x'.repeat(MAX_RAW_CHARS + 10)), reject(3, null)]);
    await storeRejects(db.pool, user, randomUUID(), [reject(9)]); // another run
    const rows = await listRejects(db.pool, { ingestionId: ing });
    expect(rows.map((r) => ({ ...r, rejectedAt: typeof r.rejectedAt, raw: r.raw?.length ?? null }))).toEqual([
      { ingestionId: ing, rejectedAt: 'object', table: 'activity_metrics', jsonPath: 'data.metrics[0].data[1]', byteOffset: 1001, reason: 'step_count qty -1 is negative', raw: 9, source: null, timesSeen: 1 },
      { ingestionId: ing, rejectedAt: 'object', table: 'activity_metrics', jsonPath: 'data.metrics[0].data[2]', byteOffset: 1002, reason: 'step_count qty -2 is negative', raw: MAX_RAW_CHARS + 1, source: null, timesSeen: 1 },
      { ingestionId: ing, rejectedAt: 'object', table: 'activity_metrics', jsonPath: 'data.metrics[0].data[3]', byteOffset: 1003, reason: 'step_count qty -3 is negative', raw: null, source: null, timesSeen: 1 },
    ]);
    expect(rows[1].raw!.endsWith('…')).toBe(true);
    expect(await storeRejects(db.pool, user, ing, [])).toBeUndefined();
  });

  it('lists the newest first; --limit keeps the newest', async () => {
    const user = await ensureUser(db.pool, `newest-${randomUUID().slice(0, 8)}`);
    const older = randomUUID();
    const newer = randomUUID();
    await storeRejects(db.pool, user, older, [reject(1), reject(2)]);
    await db.pool.query(`UPDATE ingestion_rejects SET rejected_at = rejected_at - interval '1 hour' WHERE ingestion_id = $1`, [older]);
    await storeRejects(db.pool, user, newer, [reject(3)]);
    const all = await listRejects(db.pool, { userId: user });
    expect(all.map((r) => [r.ingestionId, r.byteOffset])).toEqual([[newer, 1003], [older, 1001], [older, 1002]]);
    expect((await listRejects(db.pool, { userId: user, limit: 2 })).map((r) => r.byteOffset)).toEqual([1003, 1001]);
  });
});
