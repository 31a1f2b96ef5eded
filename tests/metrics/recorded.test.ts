/**
 * Every metric the Grafana dashboard and the alert rules read is moved by the running code, not
 * only exported: a real `serve` session (good upload, bad upload, a cached summary read, the
 * business gauges) is run against PostgreSQL and Redis, and each metric must then have a sample
 * that is new or has a new value compared with the registry before the server started.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApiKey } from '../../src/auth/api-keys.js';
import { openCache, type Cache } from '../../src/cache/cache.js';
import { cachedDaily } from '../../src/cache/summaries.js';
import { createPartitionsAhead } from '../../src/db/partitions.js';
import { createUser } from '../../src/db/users.js';
import { METRIC_NAMES, refreshBusinessGauges, registry, resetMetrics } from '../../src/metrics/registry.js';
import { createServer, type HealthServer } from '../../src/server/app.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { parseSamples } from '../support/pushgateway.js';
import { request, sampleExport } from '../server/helpers.js';

const monitoring = (p: string) => readFileSync(fileURLToPath(new URL(`../../monitoring/${p}`, import.meta.url)), 'utf8');

const familyOf = (sample: string) => sample.replace(/_(bucket|count|sum)$/, '');

/** Metric families named in the dashboard and the alert rules (job names are not metrics). */
function metricsUsed(): string[] {
  const text = monitoring('grafana/healthexport-dashboard.json') + monitoring('prometheus/alerts.yml');
  const names = new Set<string>();
  for (const m of text.matchAll(/\bhealthexport_[a-z0-9_]+/g)) if (METRIC_NAMES.includes(m[0])) names.add(familyOf(m[0]));
  return [...names].sort();
}

/** Every sample of the registry, by `name{labels}`. */
async function snapshot(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const s of parseSamples(await registry.metrics())) {
    out.set(`${familyOf(s.name)}|${s.name}${JSON.stringify(s.labels)}`, s.value);
  }
  return out;
}

let db: TestDatabase;
let cache: Cache;
let app: HealthServer;
let base: string;
let key: string;
/** The registry before the server exists. */
let before: Map<string, number>;

beforeAll(async () => {
  db = await createTestDatabase({ migrate: true });
  cache = openCache(inject('redisUrl'), { prefix: `he-test-${randomBytes(5).toString('hex')}` });
  const user = await createUser(db.pool, 'metrics');
  key = (await createApiKey(db.pool, user.name, 'test')).key;
  await createPartitionsAhead(db.pool, { monthsAhead: 3 });
  resetMetrics();
  before = await snapshot();
  app = createServer({ pool: db.pool, cache, rateLimitPerMinute: 1000, businessGaugesIntervalS: 0, log: () => {} });
  base = `http://127.0.0.1:${(await app.listen(0)).port}`;
});

afterAll(async () => {
  await app?.close();
  await cache?.close();
  await db?.drop();
});

describe('metrics used by the dashboard and the alerts', () => {
  it('are found in both files', () => {
    expect(metricsUsed().length).toBeGreaterThanOrEqual(15);
  });

  it('each moves during a real serve session', async () => {
    const auth = { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' };
    expect((await request(base, '/api/v1/ingest', { method: 'POST', headers: auth, body: sampleExport() })).status).toBe(200);
    expect((await request(base, '/api/v1/ingest', { method: 'POST', headers: auth, body: '{"nope": 1}' })).status).toBe(400);
    const { rows } = await db.pool.query(`SELECT id FROM users WHERE name = 'metrics'`);
    await cachedDaily(db.pool, cache, Number(rows[0].id), 'step_count', 7);
    await db.pool.query('ANALYZE');
    await refreshBusinessGauges((sql) => db.pool.query(sql));
    const after = await snapshot();

    const unmoved = metricsUsed().filter((family) => {
      for (const [k, v] of after) if (k.startsWith(`${family}|`) && before.get(k) !== v) return false;
      return true;
    });
    expect(unmoved).toEqual([]);
  });
});
