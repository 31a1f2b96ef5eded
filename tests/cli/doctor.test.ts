/**
 * `healthexport doctor` through the binary, against the real PostgreSQL, Redis and Pushgateway:
 * all green exits 0; each kind of trouble is one failing line with what to do, and the exit code
 * says so (75 when the database cannot be reached, else 1). It never changes the database.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/db/embedded.js';
import { runCli } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { startPushgateway, type RunningPushgateway } from '../support/pushgateway.js';

interface Check {
  check: string;
  ok: boolean;
  detail: string;
  fix: string | null;
}

async function doctor(args: string[], env: Record<string, string> = {}) {
  const r = await runCli(['doctor', '--json', ...args], { env });
  let checks: Check[] = [];
  try {
    checks = JSON.parse(r.stdout);
  } catch {
    throw new Error(`doctor printed no JSON (exit ${r.code}): ${r.stderr}`);
  }
  const byName = Object.fromEntries(checks.map((c) => [c.check, c]));
  return { code: r.code, checks, byName, stderr: r.stderr };
}

describe('healthexport doctor', () => {
  let ready: TestDatabase;
  let fresh: TestDatabase;
  let gw: RunningPushgateway;
  let closedPort: number;
  beforeAll(async () => {
    [ready, fresh, gw, closedPort] = await Promise.all([createTestDatabase({ migrate: true }), createTestDatabase(), startPushgateway(), freePort()]);
    const p = await runCli(['partitions', 'create', '--months-ahead', '3', '--database-url', ready.url]);
    expect(p.code, p.stderr).toBe(0);
  });
  afterAll(async () => Promise.all([ready?.drop(), fresh?.drop(), gw?.stop()]));

  it('passes every check on a ready database with Redis and the Pushgateway, and exits 0', async () => {
    const r = await doctor(['--database-url', ready.url, '--redis-url', inject('redisUrl'), '--pushgateway', gw.url]);
    expect(r.checks.map((c) => c.check)).toEqual(['database', 'postgis', 'migrations', 'partitions', 'redis', 'pushgateway']);
    expect(r.checks.filter((c) => !c.ok)).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.byName.database.detail).toMatch(/^PostgreSQL \d+/);
    expect(r.byName.redis.detail).toMatch(/PONG/);
    const text = await runCli(['doctor', '--database-url', ready.url], {});
    expect(text.stdout.trim().split('\n')).toHaveLength(6);
    expect(text.stdout).toMatch(/^ok {4}database {4}PostgreSQL/m);
  });

  it('names migrate up on a database without the schema, and does not migrate it', async () => {
    const r = await doctor(['--database-url', fresh.url]);
    expect(r.code).toBe(1);
    expect(r.byName.migrations).toMatchObject({ ok: false, fix: 'run `healthexport migrate up`' });
    const { rows } = await fresh.pool.query(`SELECT to_regclass('healthexport_migrations') AS t`);
    expect(rows[0].t).toBeNull();
  });

  it('names partitions create when the coming months have no partitions', async () => {
    const r = await doctor(['--database-url', ready.url, '--months-ahead', '6']);
    expect(r.code).toBe(1);
    expect(r.byName.partitions.ok).toBe(false);
    expect(r.byName.partitions.fix).toMatch(/healthexport partitions create --months-ahead 12/);
    expect(r.byName.migrations.ok).toBe(true);
  });

  it('exits 75 when only the database cannot be reached', async () => {
    const r = await doctor(['--database-url', `postgres://postgres@127.0.0.1:${closedPort}/x`]);
    expect(r.code).toBe(75);
    expect(r.byName.database).toMatchObject({ ok: false });
    expect(r.byName.database.detail).toMatch(/ECONNREFUSED/);
    expect(r.byName.database.fix).toMatch(/start PostgreSQL/);
  });

  it('reports an unreachable Redis and Pushgateway with what to do', async () => {
    const r = await doctor(['--database-url', ready.url, '--redis-url', `redis://127.0.0.1:${closedPort}`, '--pushgateway', `http://127.0.0.1:${closedPort}`]);
    expect(r.code).toBe(1);
    expect(r.byName.redis).toMatchObject({ ok: false });
    expect(r.byName.redis.fix).toMatch(/REDIS_URL/);
    expect(r.byName.pushgateway).toMatchObject({ ok: false });
    expect(r.byName.pushgateway.fix).toMatch(/PUSHGATEWAY_URL/);
  });

  it('checks the embedded data directory when no server is named', async (ctx) => {
    if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
      console.warn('skipped: the closed-directory case needs root (the embedded server then runs as postgres)');
      ctx.skip();
    }
    const closed = await mkdtemp(path.join(os.tmpdir(), 'healthexport-doctor-'));
    await chmod(closed, 0o700);
    try {
      const r = await doctor([], { HEALTHEXPORT_DATA_DIR: path.join(closed, 'data') });
      expect(r.code).toBe(1);
      expect(r.byName['data dir']).toMatchObject({ ok: false });
      expect(r.byName['data dir'].detail).toContain(`${closed} is closed to the 'postgres' OS user`);
      expect(r.byName.database).toBeUndefined();
    } finally {
      await rm(closed, { recursive: true, force: true });
    }
  });
});
