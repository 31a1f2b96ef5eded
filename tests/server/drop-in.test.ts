/**
 * The official Health Auto Export server's upload path: POST /api/data with the key in an
 * `api-key` header (as its write-token check reads it), answered by the same pipeline and keys as
 * /api/v1/ingest.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth/api-keys.js';
import { createUser } from '../../src/db/users.js';
import { renderMetrics } from '../../src/metrics/registry.js';
import { createServer, type HealthServer } from '../../src/server/app.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { request, sampleExport } from './helpers.js';

const JSON_TYPE = { 'Content-Type': 'application/json' };

describe('POST /api/data (drop-in for the official HAE server)', () => {
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

  it('imports the app JSON sent with an api-key header, as /api/v1/ingest does', async () => {
    const r = await request(base, '/api/data', { method: 'POST', headers: { ...JSON_TYPE, 'api-key': key }, body: sampleExport() });
    expect(r.status, r.text).toBe(200);
    expect(r.json.status).toBe('ok');
    expect(r.json.totals.inserted).toBe(r.json.totals.read);
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n FROM raw_ingestions r JOIN users u ON u.id = r.user_id WHERE u.name = 'jane' AND r.source_kind = 'http'`,
    );
    expect(rows[0].n).toBe(1);
    // The same body again through the other path and header: the same keys, the same data.
    const again = await request(base, '/api/v1/ingest', { method: 'POST', headers: { ...JSON_TYPE, 'X-API-Key': key }, body: sampleExport() });
    expect(again.status).toBe(200);
    expect(again.json.totals.unchanged).toBe(r.json.totals.read);
  });

  it('answers 401 without a key or with a wrong one, naming the api-key header', async () => {
    const none = await request(base, '/api/data', { method: 'POST', headers: JSON_TYPE, body: sampleExport() });
    expect(none.status).toBe(401);
    expect(none.json.error).toMatch(/api-key: <key>/);
    const wrong = await request(base, '/api/data', { method: 'POST', headers: { ...JSON_TYPE, 'api-key': 'sk-not-a-healthexport-key' }, body: sampleExport() });
    expect(wrong.status).toBe(401);
    const get = await request(base, '/api/data');
    expect(get.status).toBe(405);
  });

  it('counts the route under its own template', async () => {
    const m = (await renderMetrics()).body;
    expect(m).toMatch(/healthexport_http_requests_total\{route="\/api\/data",method="POST",status="200"\} [1-9]/);
    expect(m).toMatch(/healthexport_http_requests_total\{route="\/api\/data",method="POST",status="401"\} 2/);
  });
});
