/**
 * `serve` against real PostgreSQL (fresh migrated database), real Redis and a real Pushgateway.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApiKey} from '../../src/auth/api-keys.js';
import { openCache } from '../../src/cache/cache.js';
import { latestKey } from '../../src/cache/summaries.js';
import { createServer, type HealthServer } from '../../src/server/app.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { parseSamples, pushgatewayOrSkip, startPushgateway } from '../support/pushgateway.js';
import { request, sampleExport, sleep, stepsExport } from './helpers.js';
import { createUser } from '../../src/db/users.js';

const INGEST = '/api/v1/ingest';
const GATEWAY = pushgatewayOrSkip('the serve push test');
const JSON_TYPE = { 'Content-Type': 'application/json' };
const ns = `healthexport:test:${randomBytes(4).toString('hex')}`;

let db: TestDatabase;
let app: HealthServer;
let base: string;
const keys: Record<string, string> = {};
const extraServers: HealthServer[] = [];

async function startServer(options: Partial<Parameters<typeof createServer>[0]> = {}): Promise<{ app: HealthServer; base: string }> {
  const s = createServer({
    pool: db.pool,
    redisUrl: inject('redisUrl'),
    redisNamespace: ns,
    rateLimitPerMinute: 1000,
    businessGaugesIntervalS: 0,
    log: () => {},
    ...options,
  });
  const addr = await s.listen(0, '127.0.0.1');
  if (s !== app) extraServers.push(s);
  return { app: s, base: `http://127.0.0.1:${addr.port}` };
}

async function userId(name: string): Promise<number> {
  const { rows } = await db.pool.query('SELECT id FROM users WHERE name = $1', [name]);
  return Number(rows[0].id);
}

/** Rows of the user in the tables a small export fills. */
async function rowsOf(name: string): Promise<number> {
  const id = await userId(name);
  const { rows } = await db.pool.query(
    `SELECT (SELECT count(*) FROM activity_metrics WHERE user_id = $1)
          + (SELECT count(*) FROM heart_rate_metrics WHERE user_id = $1)
          + (SELECT count(*) FROM workouts WHERE user_id = $1)
          + (SELECT count(*) FROM workout_routes WHERE user_id = $1) AS n`,
    [id],
  );
  return Number(rows[0].n);
}

async function ingestions(name?: string): Promise<number> {
  const { rows } = name
    ? await db.pool.query('SELECT count(*)::int AS n FROM raw_ingestions r JOIN users u ON u.id = r.user_id WHERE u.name = $1', [name])
    : await db.pool.query('SELECT count(*)::int AS n FROM raw_ingestions');
  return rows[0].n;
}

function bearer(user: string): Record<string, string> {
  return { ...JSON_TYPE, Authorization: `Bearer ${keys[user]}` };
}

beforeAll(async () => {
  db = await createTestDatabase({ migrate: true });
  for (const u of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'henry', 'ivan', 'flood']) {
    await createUser(db.pool, u);
    keys[u] = (await createApiKey(db.pool, u, 'test')).key;
  }
  ({ app, base } = await startServer({ bodyLimitBytes: 4 << 20 }));
});

afterAll(async () => {
  await Promise.all(extraServers.map((s) => s.close()));
  await app?.close();
  await db?.drop();
  const redis = new Redis(inject('redisUrl'), { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const found = await redis.keys(`${ns}:*`);
    if (found.length) await redis.del(...found);
  } finally {
    redis.disconnect();
  }
});

describe('POST /api/v1/ingest', () => {
  it('accepts a sample export with a valid key (Bearer) and stores it as that user', async () => {
    const body = sampleExport();
    const r = await request(base, INGEST, { method: 'POST', headers: bearer('alice'), body });
    expect(r.status).toBe(200);
    expect(r.json.status).toBe('ok');
    expect(r.json.bytes).toBe(body.length);
    expect(r.json.totals.read).toBeGreaterThan(0);
    expect(r.json.totals.inserted).toBe(r.json.totals.read);
    expect(r.json.source).toMatch(/^http:127\.0\.0\.1:\d+$/);
    expect(r.headers['x-ratelimit-limit']).toBe('1000');

    const { rows } = await db.pool.query(
      `SELECT r.source_kind, r.status, r.bytes FROM raw_ingestions r WHERE r.id = $1`,
      [r.json.ingestionId],
    );
    expect(rows.map((x) => ({ ...x, bytes: Number(x.bytes) }))).toEqual([{ source_kind: 'http', status: 'ok', bytes: body.length }]);
    const { rows: total } = await db.pool.query(
      `SELECT (SELECT count(*) FROM activity_metrics WHERE user_id = $1)::int AS n`,
      [await userId('alice')],
    );
    expect(total[0].n).toBe(r.json.tables.activity_metrics.inserted);
  });

  it('accepts the key as X-API-Key (a re-sent export is all unchanged)', async () => {
    const body = sampleExport();
    const first = await request(base, INGEST, { method: 'POST', headers: { ...JSON_TYPE, 'X-API-Key': keys.alice }, body });
    expect(first.status).toBe(200);
    const r = await request(base, INGEST, { method: 'POST', headers: { ...JSON_TYPE, 'X-API-Key': keys.alice }, body });
    expect(r.status).toBe(200);
    expect(r.json.totals.unchanged).toBe(r.json.totals.read);
    expect(r.json.totals.inserted).toBe(0);
  });

  it('rejects a wrong, missing or malformed key with 401 and stores nothing', async () => {
    const before = await ingestions();
    const wrong = keys.bob.slice(0, -4) + (keys.bob.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    for (const headers of [
      { ...JSON_TYPE, Authorization: `Bearer ${wrong}` },
      { ...JSON_TYPE, 'X-API-Key': 'he_000000000000_' + 'x'.repeat(43) },
      { ...JSON_TYPE, Authorization: 'Bearer nonsense' },
      JSON_TYPE,
    ]) {
      const r = await request(base, INGEST, { method: 'POST', headers, body: stepsExport(1, 3) });
      expect(r.status).toBe(401);
      expect(r.json.error).toMatch(/API key/);
      expect(r.headers['www-authenticate']).toMatch(/^Bearer/);
    }
    expect(await ingestions()).toBe(before);
    expect(await rowsOf('bob')).toBe(0);
  });

  it('answers 415 to a wrong content type or encoding, before reading anything', async () => {
    const before = await ingestions();
    let r = await request(base, INGEST, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', Authorization: `Bearer ${keys.bob}` },
      body: stepsExport(1, 3),
    });
    expect(r.status).toBe(415);
    expect(r.json.error).toMatch(/Content-Type "text\/plain"/);
    r = await request(base, INGEST, { method: 'POST', headers: { ...bearer('bob'), 'Content-Encoding': 'br' }, body: 'x' });
    expect(r.status).toBe(415);
    expect(r.json.error).toMatch(/Content-Encoding "br"/);
    expect(await ingestions()).toBe(before);
  });

  it('answers 400 with the byte position to malformed JSON and to JSON that is not an HAE export', async () => {
    let r = await request(base, INGEST, { method: 'POST', headers: bearer('bob'), body: '{"data":{"metrics":[{"name" 5}]}}' });
    expect(r.status).toBe(400);
    expect(r.json.offset).toBe(28);
    expect(r.json.error).toMatch(/at byte 28/);
    expect(r.json.summary.status).toBe('failed');

    r = await request(base, INGEST, { method: 'POST', headers: bearer('bob'), body: '{"hello":"world"}' });
    expect(r.status).toBe(400);
    expect(r.json.error).toMatch(/not a Health Auto Export file/);
    expect(typeof r.json.offset).toBe('number');

    r = await request(base, INGEST, { method: 'POST', headers: bearer('bob'), body: '' });
    expect(r.status).toBe(400);
    expect(r.json.error).toMatch(/empty input/);
    expect(await rowsOf('bob')).toBe(0);
  });

  it('a truncated upload is 400, and stores exactly what its summary reports', async () => {
    const full = stepsExport(500, 60);
    const cut = full.slice(0, Math.floor(full.length * 0.6));
    const r = await request(base, INGEST, { method: 'POST', headers: bearer('erin'), body: cut });
    expect(r.status).toBe(400);
    expect(r.json.error).toMatch(/unexpected end of input at byte/);
    const s = r.json.summary;
    expect(s.status).toBe('failed');
    expect(await rowsOf('erin')).toBe(s.totals.inserted + s.totals.updated + s.totals.unchanged);
    const { rows } = await db.pool.query('SELECT status, error FROM raw_ingestions WHERE id = $1', [s.ingestionId]);
    expect(rows[0].status).toBe('failed');
    expect(rows[0].error).toMatch(/unexpected end of input/);
  });

  it('a client that disconnects mid-upload leaves a failed run whose counts match what was stored', async () => {
    const body = Buffer.from(stepsExport(700, 120));
    await request(base, INGEST, {
      method: 'POST',
      headers: { ...bearer('ivan'), 'Content-Length': String(body.length) },
      body: async (req) => {
        req.write(body.subarray(0, Math.floor(body.length / 2)));
        await sleep(200);
        req.destroy(new Error('client gone'));
      },
    }).catch(() => {});
    let row: any;
    const deadline = Date.now() + 10_000;
    do {
      await sleep(100);
      ({ rows: [row] } = await db.pool.query(
        `SELECT r.status, r.error, r.counts FROM raw_ingestions r JOIN users u ON u.id = r.user_id WHERE u.name = 'ivan'`,
      ));
    } while ((!row || row.status === 'running') && Date.now() < deadline);
    expect(row.status).toBe('failed');
    expect(row.error).toMatch(/cannot read input/);
    expect(await rowsOf('ivan')).toBe(row.counts.totals.inserted);
  });

  it('accepts gzip (Content-Encoding: gzip, and application/gzip) with the same result as plain JSON', async () => {
    const plain = Buffer.from(stepsExport(100, 48));
    const r1 = await request(base, INGEST, {
      method: 'POST',
      headers: { ...bearer('carol'), 'Content-Encoding': 'gzip' },
      body: gzipSync(plain),
    });
    expect(r1.status).toBe(200);
    expect(r1.json.bytes).toBe(plain.length);
    expect(r1.json.totals.inserted).toBe(96);
    expect(await rowsOf('carol')).toBe(96);
    const r2 = await request(base, INGEST, {
      method: 'POST',
      headers: { 'Content-Type': 'application/gzip', 'X-API-Key': keys.carol },
      body: gzipSync(plain),
    });
    expect(r2.status).toBe(200);
    expect(r2.json.totals.unchanged).toBe(96);
  });

  it('answers 413 over the body limit: declared (nothing stored), streamed and gzip-expanded (summary says what was stored)', async () => {
    const small = await startServer({ bodyLimitBytes: 4096 });
    const body = Buffer.from(stepsExport(7, 200));
    const before = await ingestions('dave');

    // Content-Length over the limit: refused before reading, nothing stored.
    let r = await request(small.base, INGEST, { method: 'POST', headers: bearer('dave'), body });
    expect(r.status).toBe(413);
    expect(r.json.error).toMatch(/exceeds the limit of 4096 bytes/);
    expect(await ingestions('dave')).toBe(before);

    // Chunked (no Content-Length): cut off while streaming; the run is failed, not ok.
    r = await request(small.base, INGEST, {
      method: 'POST',
      headers: { ...bearer('dave'), 'Transfer-Encoding': 'chunked' },
      body: async (req) => {
        for (let i = 0; i < body.length; i += 1000) req.write(body.subarray(i, i + 1000));
        req.end();
      },
    });
    expect(r.status).toBe(413);
    expect(r.json.limit).toBe(4096);
    expect(r.json.summary.status).toBe('failed');
    expect(await rowsOf('dave')).toBe(r.json.summary.totals.inserted);

    // Small on the wire, too large once decompressed.
    const gz = gzipSync(body);
    expect(gz.length).toBeLessThan(4096);
    r = await request(small.base, INGEST, { method: 'POST', headers: { ...bearer('dave'), 'Content-Encoding': 'gzip' }, body: gz });
    expect(r.status).toBe(413);
    expect(r.json.summary.status).toBe('failed');
  });

  it('answers 429 with Retry-After past the per-key rate limit (counted in Redis)', async () => {
    const limited = await startServer({ rateLimitPerMinute: 5 });
    const body = stepsExport(3, 2);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      statuses.push((await request(limited.base, INGEST, { method: 'POST', headers: bearer('flood'), body })).status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    const r = await request(limited.base, INGEST, { method: 'POST', headers: bearer('flood'), body });
    expect(r.status).toBe(429);
    expect(r.json.error).toMatch(/rate limit/);
    expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(limited.app.rateLimiter.backend).toBe('redis');
    // Another key is not affected.
    const other = await request(limited.base, INGEST, { method: 'POST', headers: bearer('henry'), body });
    expect(other.status).toBe(200);
    // The count lives in Redis under the documented key.
    const redis = new Redis(inject('redisUrl'));
    try {
      const found = await redis.keys(`${ns}:ratelimit:*`);
      expect(found.some((k) => /:ratelimit:\d+:\d+$/.test(k))).toBe(true);
    } finally {
      redis.disconnect();
    }
  });

  it('keeps the data of users posting concurrently apart', async () => {
    const users = ['frank', 'grace', 'bob'];
    // Same timestamps for everyone, values that tell the users apart.
    const bodies = users.map((_, i) => stepsExport((i + 1) * 10_000, 48, 'Shared Watch'));
    const replies = await Promise.all(
      users.flatMap((u, i) => [0, 1].map(() => request(base, INGEST, { method: 'POST', headers: bearer(u), body: bodies[i] }))),
    );
    for (const r of replies) expect(r.status).toBe(200);
    for (const [i, u] of users.entries()) {
      const id = await userId(u);
      const { rows } = await db.pool.query(
        `SELECT count(*)::int AS n, min(qty) AS lo, max(qty) AS hi FROM activity_metrics WHERE user_id = $1 AND metric = 'step_count'`,
        [id],
      );
      expect(rows[0]).toEqual({ n: 48, lo: (i + 1) * 10_000, hi: (i + 1) * 10_000 + 47 });
      const { rows: hr } = await db.pool.query(`SELECT count(*)::int AS n FROM heart_rate_metrics WHERE user_id = $1`, [id]);
      expect(hr[0].n).toBe(48);
    }
  });

  it("invalidates the user's cached summaries after an upload, as import does", async () => {
    const cache = openCache(inject('redisUrl'), { prefix: `${ns}:cache` });
    try {
      const s = await startServer({ cache });
      const id = await userId('henry');
      const key = latestKey(cache, id);
      expect(await cache.fill(key, 600, async () => ['stale'])).toBe(true);
      const r = await request(s.base, INGEST, { method: 'POST', headers: bearer('henry'), body: stepsExport(900, 3) });
      expect(r.status).toBe(200);
      const { source } = await cache.lookup(key, 600, async () => ['fresh']);
      expect(source).toBe('miss');
    } finally {
      await cache.close();
    }
  });

  it('answers 404 and 405 in JSON', async () => {
    let r = await request(base, '/nope');
    expect(r.status).toBe(404);
    expect(r.json.error).toMatch(/no such endpoint/);
    r = await request(base, INGEST);
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('POST');
    expect(r.json.error).toMatch(/not allowed/);
  });
});

describe('health, readiness, metrics', () => {
  it('/health is 200 and /ready is 200 with a database', async () => {
    expect((await request(base, '/health')).status).toBe(200);
    const r = await request(base, '/ready');
    expect(r.status).toBe(200);
    expect(r.json.status).toBe('ready');
  });

  it('/ready and ingest answer 503 when the database is gone (ended pool, dead server)', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    pool.on('error', () => {});
    const s = await startServer({ pool, readyTimeoutMs: 1000 });
    expect((await request(s.base, '/ready')).status).toBe(200);
    // Warm the key cache, then lose the database: verification is cached, the import is not.
    expect((await request(s.base, INGEST, { method: 'POST', headers: bearer('grace'), body: stepsExport(1, 1) })).status).toBe(200);
    await pool.end();
    let r = await request(s.base, '/ready');
    expect(r.status).toBe(503);
    expect(r.json.error).toMatch(/database unavailable/);
    r = await request(s.base, INGEST, { method: 'POST', headers: bearer('grace'), body: stepsExport(1, 1) });
    expect(r.status).toBe(503);
    expect(r.headers['retry-after']).toBe('5');

    const dead = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/none', connectionTimeoutMillis: 1000 });
    dead.on('error', () => {});
    const d = await startServer({ pool: dead, readyTimeoutMs: 1000 });
    expect((await request(d.base, '/ready')).status).toBe(503);
    r = await request(d.base, INGEST, { method: 'POST', headers: bearer('frank'), body: stepsExport(1, 1) });
    // frank's key was verified (and cached) by the main server in this process: either the key
    // check or the import meets the dead database.
    expect(r.status).toBe(503);
    r = await request(d.base, INGEST, {
      method: 'POST',
      headers: { ...JSON_TYPE, Authorization: `Bearer he_0123456789ab_${'y'.repeat(43)}` },
      body: '{}',
    });
    expect(r.status).toBe(503);
    await d.app.close();
    await dead.end();
  });

  it('/metrics exposes request counts by route template', async () => {
    // The answers counted below, made here so the test runs alone (the tests above add 413, 429, 499).
    const post = (headers: Record<string, string>, body: string) => request(base, INGEST, { method: 'POST', headers, body });
    expect((await post(bearer('bob'), stepsExport(3, 2))).status).toBe(200);
    expect((await post({ ...JSON_TYPE, Authorization: 'Bearer he_000000000000_nope' }, '{}')).status).toBe(401);
    expect((await post({ 'Content-Type': 'text/plain', Authorization: `Bearer ${keys.bob}` }, '{}')).status).toBe(415);
    expect((await post(bearer('bob'), '{"data":{"metrics":[{"name" 5}]}}')).status).toBe(400);
    const r = await request(base, '/metrics');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/plain/);
    const samples = parseSamples(r.text);
    const ok = samples.find(
      (s) => s.name === 'healthexport_http_requests_total' && s.labels.route === INGEST && s.labels.method === 'POST' && s.labels.status === '200',
    );
    expect(ok?.value).toBeGreaterThan(0);
    for (const status of ['401', '415', '400']) {
      expect(samples.some((s) => s.name === 'healthexport_http_requests_total' && s.labels.route === INGEST && s.labels.status === status), status).toBe(true);
    }
    expect(samples.some((s) => s.name === 'healthexport_import_runs_total' && s.labels.status === 'ok' && s.value > 0)).toBe(true);
  });
});

describe('graceful close', () => {
  it('stops accepting connections but finishes an in-flight slow upload with 200', async () => {
    const s = await startServer();
    const body = Buffer.from(stepsExport(42, 40));
    let closed = false;
    let closing: Promise<void> | undefined;
    const reply = request(s.base, INGEST, {
      method: 'POST',
      headers: { ...bearer('grace'), 'Content-Length': String(body.length) },
      body: async (req) => {
        const half = Math.floor(body.length / 2);
        req.write(body.subarray(0, half));
        await sleep(300);
        closing = s.app.close().then(() => {
          closed = true;
        });
        await sleep(300);
        // New connections are refused while the upload is still going.
        await expect(request(s.base, '/health')).rejects.toThrow(/ECONNREFUSED/);
        expect(closed).toBe(false);
        req.end(body.subarray(half));
      },
    });
    const r = await reply;
    expect(r.status).toBe(200);
    expect(r.json.totals.read).toBe(80);
    expect(r.headers.connection).toBe('close');
    await closing;
    expect(closed).toBe(true);
  });
});

describe('healthexport serve (the command)', () => {
  const fixture = fileURLToPath(new URL('./fixtures/serve-cli.ts', import.meta.url));

  function runServe(args: string[]) {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, ...args], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PUSHGATEWAY_URL: '', REDIS_URL: '' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (err += b));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const url = (async () => {
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) return m[1];
        if (child.exitCode !== null) break;
        await sleep(50);
      }
      throw new Error(`serve did not start: ${out}\n${err}`);
    })();
    return { child, url, exited, output: () => ({ out, err }) };
  }

  it.skipIf(!GATEWAY)('serves, pushes its metrics to a Pushgateway every interval, and stops on SIGTERM', async () => {
    const gw = await startPushgateway();
    const run = runServe(['--port', '0', '--database-url', db.url, '--pushgateway', gw.url, '--push-interval', '1', '--redis-url', inject('redisUrl')]);
    try {
      const url = await run.url;
      const r = await request(url, INGEST, { method: 'POST', headers: bearer('frank'), body: stepsExport(5, 2) });
      expect(r.json).toMatchObject({ status: 'ok' });
      expect(r.status).toBe(200);
      let pushed: ReturnType<typeof parseSamples> = [];
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        pushed = parseSamples(await gw.metrics()).filter(
          (s) => s.name === 'healthexport_http_requests_total' && s.labels.job === 'healthexport_serve' && s.labels.route === INGEST,
        );
        if (pushed.some((s) => s.labels.status === '200' && s.value >= 1)) break;
        await sleep(250);
      }
      expect(pushed.some((s) => s.labels.status === '200' && s.value >= 1)).toBe(true);
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
      expect(run.output().err).toMatch(/stopped/);
    } finally {
      run.child.kill('SIGKILL');
      await gw.stop();
    }
  });

  it('a Pushgateway that cannot be reached is a warning, not a failure', async () => {
    const run = runServe(['--port', '0', '--database-url', db.url, '--pushgateway', 'http://127.0.0.1:1', '--push-interval', '1', '--rate-limit', '0']);
    try {
      const url = await run.url;
      expect((await request(url, '/health')).status).toBe(200);
      const deadline = Date.now() + 10_000;
      while (!/warning: push to http:\/\/127\.0\.0\.1:1 failed/.test(run.output().err) && Date.now() < deadline) await sleep(100);
      expect(run.output().err).toMatch(/warning: push to http:\/\/127\.0\.0\.1:1 failed/);
      expect((await request(url, '/health')).status).toBe(200);
      run.child.kill('SIGINT');
      expect(await run.exited).toBe(0);
    } finally {
      run.child.kill('SIGKILL');
    }
  });
});
