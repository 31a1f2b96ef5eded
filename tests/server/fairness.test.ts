/**
 * serve stays fair: clients trickling their bodies hold no import slot (a fast client is served
 * while they trickle), one key cannot have more than its share of uploads in progress (429), and
 * a body that stops arriving is cut off with 408.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth/api-keys.js';
import { createUser } from '../../src/db/users.js';
import { createServer, type HealthServer } from '../../src/server/app.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { request, sleep, stepsExport, type Reply } from './helpers.js';

const INGEST = '/api/v1/ingest';
const FAST_SCRYPT = { N: 1024, r: 8, p: 1 };

describe('serve fairness', () => {
  let db: TestDatabase;
  let app: HealthServer;
  let base: string;
  const keys: Record<string, string> = {};
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: true });
    for (const u of ['slow1', 'slow2', 'fast']) {
      await createUser(db.pool, u);
      keys[u] = (await createApiKey(db.pool, u, 'test', FAST_SCRYPT)).key;
    }
    app = createServer({
      pool: db.pool,
      rateLimitPerMinute: 0,
      businessGaugesIntervalS: 0,
      maxConcurrentImports: 2,
      maxUploadsPerKey: 2,
      bodyIdleTimeoutMs: 1500,
      maxElementBytes: 4 << 20,
      log: () => {},
    });
    const { port } = await app.listen(0);
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const headers = (u: string) => ({ 'Content-Type': 'application/json', Authorization: `Bearer ${keys[u]}` });

  /** An upload that sends its body a few bytes at a time until `stop` says so, then the rest. */
  function trickle(u: string, state: { stop: boolean }): Promise<Reply> {
    const body = Buffer.from(stepsExport(1, 24, `trickle-${u}`));
    return request(base, INGEST, {
      method: 'POST',
      headers: { ...headers(u), 'Content-Length': String(body.length) },
      body: async (req) => {
        let i = 0;
        while (!state.stop && i < body.length - 1) {
          req.write(body.subarray(i, i + 1));
          i++;
          await sleep(200);
        }
        req.end(body.subarray(i));
      },
    });
  }

  it('a fast client is served while four slow ones trickle; a key over its share gets 429', async () => {
    const state = { stop: false };
    const slow = [trickle('slow1', state), trickle('slow1', state), trickle('slow2', state), trickle('slow2', state)];
    const settled: number[] = [];
    slow.forEach((p, i) => void p.then(() => settled.push(i), () => settled.push(i)));
    await sleep(500);
    const third = await request(base, INGEST, { method: 'POST', headers: headers('slow1'), body: stepsExport(1, 3, 'third') });
    expect(third.status).toBe(429);
    expect(third.json.error).toMatch(/already has 2 uploads in progress/);

    const fast = await request(base, INGEST, { method: 'POST', headers: headers('fast'), body: stepsExport(5, 24, 'fast') });
    expect(fast.status).toBe(200);
    expect(fast.json.totals.inserted).toBe(48);
    // Served while every slow upload was still sending.
    expect(settled).toEqual([]);
    state.stop = true;
    const done = await Promise.all(slow);
    expect(done.map((r) => r.status)).toEqual([200, 200, 200, 200]);
  });

  it('a body that stops arriving is answered 408 and stores nothing', async () => {
    const body = Buffer.from(stepsExport(1, 24, 'stalled'));
    const r = await request(base, INGEST, {
      method: 'POST',
      headers: { ...headers('fast'), 'Content-Length': String(body.length) },
      body: async (req) => {
        req.write(body.subarray(0, 100));
        await sleep(4000);
        req.destroy();
      },
    });
    expect(r.status).toBe(408);
    expect(r.json.error).toMatch(/no part of the request body arrived for 2 s/);
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM activity_metrics WHERE source = 'stalled'`);
    expect(rows[0].n).toBe(0);
  });

  it('a gzip bomb with one giant element is answered 400 at the element limit, and the server goes on', async () => {
    const giant = `{"data":{"metrics":[{"name":"step_count","units":"count","data":[{"date":"2024-01-01 00:00:00 +0000","qty":1,"source":"${'A'.repeat(64 << 20)}"}]}]}}`;
    const body = gzipSync(giant);
    expect(body.length).toBeLessThan(1 << 20);
    const r = await request(base, INGEST, { method: 'POST', headers: { ...headers('fast'), 'Content-Encoding': 'gzip' }, body });
    expect(r.status).toBe(400);
    expect(r.json.error).toMatch(/larger than the limit of 4194304 bytes/);
    expect((await request(base, '/health')).status).toBe(200);
  });

  it('the same for Apple Health XML (read by content, whatever the Content-Type): one Workout of two million events; the record before it is stored', async () => {
    const before = `<Record type="HKQuantityTypeIdentifierStepCount" sourceName="bomb-before" unit="count" startDate="2024-01-01 08:00:00 +0000" endDate="2024-01-01 08:01:00 +0000" value="12"/>`;
    const children = '<WorkoutEvent type="HKWorkoutEventTypePause"/>'.repeat(2_000_000);
    const workout = `<Workout workoutActivityType="HKWorkoutActivityTypeRunning" duration="30" durationUnit="min" sourceName="bomb" startDate="2024-01-02 08:00:00 +0000" endDate="2024-01-02 08:30:00 +0000">${children}</Workout>`;
    const body = gzipSync(`<?xml version="1.0" encoding="UTF-8"?>\n<HealthData locale="en_US">${before}${workout}</HealthData>`);
    expect(body.length).toBeLessThan(1 << 20);
    const r = await request(base, INGEST, { method: 'POST', headers: { ...headers('fast'), 'Content-Encoding': 'gzip' }, body });
    expect(r.status).toBe(400);
    expect(r.json.error).toMatch(/an element starting at byte \d+ is larger than the limit of 4194304 bytes/);
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM activity_metrics WHERE source = 'bomb-before'`);
    expect(rows[0].n).toBe(1);
    expect((await request(base, '/health')).status).toBe(200);
  });
});
