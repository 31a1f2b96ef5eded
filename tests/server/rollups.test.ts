/**
 * A POST keeps the rollups as a CLI import does: the day's totals are there when the upload is
 * answered, an upload that updates a value moves them, and they equal a rebuild from the rows.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth/api-keys.js';
import { createUser, userIdByName } from '../../src/db/users.js';
import { rebuildRollups } from '../../src/rollups/rebuild.js';
import { createServer, type HealthServer } from '../../src/server/app.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { rollupSnapshot } from '../support/rollups.js';
import { request } from './helpers.js';

const EXAMPLES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples');
const body = (name: string) => readFileSync(path.join(EXAMPLES, name));

describe('rollups kept by uploads', () => {
  let db: TestDatabase;
  let app: HealthServer;
  let base: string;
  let key: string;

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: true });
    await createUser(db.pool, 'jane');
    key = (await createApiKey(db.pool, 'jane', 'iphone')).key;
    app = createServer({ pool: db.pool, rateLimitPerMinute: 0, businessGaugesIntervalS: 0, log: () => {} });
    base = `http://127.0.0.1:${(await app.listen(0, '127.0.0.1')).port}`;
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const post = (name: string) =>
    request(base, '/api/v1/ingest', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-API-Key': key }, body: body(name) });

  /** The step-count day of 2024-03-11 (UTC) as kept, and the sum of the rows it summarizes. */
  async function stepsDay(userId: number) {
    const kept = await db.pool.query(
      `SELECT total FROM rollup_days WHERE user_id = $1 AND tz = 'UTC' AND metric = 'step_count' AND day = '2024-03-11'`,
      [userId],
    );
    const rows = await db.pool.query(
      `SELECT sum(qty) AS s FROM activity_metrics WHERE user_id = $1 AND metric = 'step_count'
       AND recorded_at >= '2024-03-11T00:00Z' AND recorded_at < '2024-03-12T00:00Z'`,
      [userId],
    );
    return { kept: Number(kept.rows[0]?.total), rows: Number(rows.rows[0].s) };
  }

  const snapshot = (userId: number) => rollupSnapshot(db.pool, userId);

  it('are current when the upload is answered, move with an update, and equal a rebuild', async () => {
    const first = await post('sample-export.json');
    expect(first.status, first.text).toBe(200);
    const userId = (await userIdByName(db.pool, 'jane'))!;
    const before = await stepsDay(userId);
    expect(before.kept).toBe(before.rows);

    // The later export completes 09:00 (212 -> 655) and adds later hours of the same day.
    const later = await post('sample-export-later.json');
    expect(later.status, later.text).toBe(200);
    expect(later.json.tables.activity_metrics.updated).toBeGreaterThan(0);
    const after = await stepsDay(userId);
    expect(after.kept).toBe(after.rows);
    expect(after.kept - before.kept).toBeGreaterThanOrEqual(655 - 212);

    const incremental = await snapshot(userId);
    expect(incremental.days.length).toBeGreaterThan(0);
    await rebuildRollups(db.pool, userId);
    expect(await snapshot(userId)).toEqual(incremental);
  });
});
