/**
 * PostgreSQL stops in the middle of an import (a server this file owns: the shared one is never
 * stopped). Nothing crashes: the run ends as failed with what it committed, the CLI prints one
 * line and its JSON summary, the next run marks the dead run failed, running the same import
 * again finishes the job, and `serve` answers 503 and keeps serving.
 */
import { writeFile, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth/api-keys.js';
import { migrate } from '../../src/db/migrations.js';
import { createUser } from '../../src/db/users.js';
import { importSource } from '../../src/import/run-import.js';
import { reconciles } from '../../src/load/outcome.js';
import { createServer } from '../../src/server/app.js';
import { runCli } from '../support/cli.js';
import { stringSource } from '../support/inputs.js';
import { startOwnPostgres, type OwnPostgres } from '../support/own-postgres.js';
import { request, stepsExport } from '../server/helpers.js';

/** `n` minutely step counts from 2024-01-01 (one month per ~44,640 records). */
function steps(n: number): string {
  const data: string[] = [];
  for (let i = 0; i < n; i++) data.push(`{"date":"${new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString()}","qty":${i % 50},"source":"W"}`);
  return `{"data":{"metrics":[{"name":"step_count","units":"count","data":[${data.join(',')}]}]}}`;
}

describe('PostgreSQL stops during an import', () => {
  let own: OwnPostgres;
  let pool: pg.Pool;
  beforeAll(async () => {
    own = await startOwnPostgres();
    pool = new pg.Pool({ connectionString: own.url, max: 4 });
    pool.on('error', () => {}); // as openDatabase does
    await migrate(pool);
  });
  afterAll(async () => {
    await pool?.end().catch(() => {});
    await own?.destroy();
  });

  it('ends the run failed with what it committed; the next run marks it; a re-run finishes the job', async () => {
    const text = steps(20_000);
    let stopping: Promise<void> | null = null;
    const s = await importSource(stringSource(text, 'big.json', 64 * 1024), {
      pool,
      user: 'jane',
      batchRows: 1000,
      observer: {
        batchWritten() {
          stopping ??= own.stop();
        },
      },
    });
    await stopping;
    expect(s.status).toBe('failed');
    expect(s.failure).toBe('database');
    expect(s.error).toMatch(/^database unavailable: .*; [\d,]+ of [\d,]+ records read were stored before that and are kept; running the same import again finishes the job( source=\S+)?$/);
    expect(s.totals.inserted).toBeGreaterThanOrEqual(1000);
    expect(s.totals.inserted).toBeLessThan(20_000);

    await own.start();
    const row = async (id: string) => (await pool.query('SELECT status, error FROM raw_ingestions WHERE id = $1', [id])).rows[0];
    // Either its own retries reached the database, or its row waits for the next run.
    const before = await row(s.ingestionId!);
    expect(['failed', 'running']).toContain(before.status);
    const again = await importSource(stringSource(text, 'big.json', 64 * 1024), { pool, user: 'jane', batchRows: 5000 });
    expect((await row(s.ingestionId!)).status).toBe('failed');
    expect(again.status).toBe('ok');
    expect(reconciles(again.totals)).toBe(true);
    expect(again.totals.inserted).toBe(20_000 - s.totals.inserted);
    const { rows } = await pool.query('SELECT count(*)::int AS n FROM activity_metrics');
    expect(rows[0].n).toBe(20_000);
  });

  it('import --json: one line on stderr, the failed summary on stdout, exit 1, no stack trace', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'he-lost-'));
    const file = path.join(dir, 'big.json');
    await writeFile(file, steps(60_000));
    const watcher = new pg.Client({ connectionString: own.url });
    await watcher.connect();
    const done = runCli(['import', file, '--user', 'cli', '--json', '--batch-rows', '500'], { env: { DATABASE_URL: own.url }, timeoutMs: 120_000 });
    // Stop the server once the import has committed something.
    for (let i = 0; i < 600; i++) {
      const { rows } = await watcher.query(`SELECT count(*)::int AS n FROM activity_metrics a JOIN users u ON u.id = a.user_id WHERE u.name = 'cli'`);
      if (rows[0].n > 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await watcher.end();
    await own.stop();
    const r = await done;
    await own.start();
    expect(r.stderr).not.toMatch(/\n\s+at |Unhandled|ECONNRESET.*\n.*at /);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^healthexport: database unavailable: .*running the same import again finishes the job( source=\S+)?$/);
    expect([1, 75]).toContain(r.code);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ status: 'failed', failure: 'database' });
    expect(summary.totals.inserted).toBeGreaterThan(0);
  });

  it('serve answers 503 while the database is down and keeps serving', async () => {
    await createUser(pool, 'web');
    const { key } = await createApiKey(pool, 'web', 'test', { N: 1024, r: 8, p: 1 });
    const app = createServer({ pool, rateLimitPerMinute: 0, businessGaugesIntervalS: 0, log: () => {} });
    const { port } = await app.listen(0);
    const base = `http://127.0.0.1:${port}`;
    const post = (n: number) =>
      request(base, '/api/v1/ingest', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${key}` },
        body: stepsExport(n, 48),
      });
    try {
      expect((await post(1)).status).toBe(200);
      await own.stop();
      const down = await post(2);
      expect(down.status).toBe(503);
      expect(down.headers['retry-after']).toBeDefined();
      expect(down.json.error).toMatch(/database unavailable/);
      expect((await request(base, '/health')).status).toBe(200);
      expect((await request(base, '/ready')).status).toBe(503);
      await own.start();
      const up = await post(3);
      expect(up.status).toBe(200);
      expect(up.json.status).toBe('ok');
    } finally {
      await own.start();
      await app.close();
    }
  });
});
