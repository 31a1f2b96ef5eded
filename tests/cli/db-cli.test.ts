import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectExit, runCli, stdoutJson } from '../support/cli.js';
import { loadMigrations, migrate } from '../../src/db/migrations.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { hae } from '../support/inputs.js';

describe('healthexport migrate / partitions / db info (CLI)', () => {
  /** Every migration the package ships, in order (1, 2, ...). */
  const versions = loadMigrations().map((m) => m.version);
  let db: TestDatabase;
  let env: Record<string, string>;
  beforeAll(async () => {
    db = await createTestDatabase();
    env = { DATABASE_URL: db.url };
  });
  afterAll(async () => db?.drop());

  it('explains every command with an example', async () => {
    const top = await runCli(['--help']);
    expectExit(top, 0);
    for (const c of ['import', 'migrate', 'partitions', 'rejects', 'db']) expect(top.stdout).toMatch(new RegExp(`\\n  ${c}\\b`));
    const sub = await runCli(['partitions', 'create', '--help']);
    expect(sub.stdout).toMatch(/--months-ahead/);
    expect(sub.stdout).toMatch(/Example/);
  });

  it('migrate up, status, down --to 0, up again', async () => {
    const up = await runCli(['migrate', 'up', '--json'], { env });
    expectExit(up, 0);
    const r = JSON.parse(up.stdout);
    expect(r.from).toBe(0);
    expect(r.applied.map((a: { version: number }) => a.version)).toEqual(versions);
    expect(versions.slice(0, 2)).toEqual([1, 2]);
    const status = await runCli(['migrate', 'status', '--json'], { env });
    expect(stdoutJson(expectExit(status, 0)).every((m: { appliedAt: string | null }) => m.appliedAt)).toBe(true);
    const down = stdoutJson(expectExit(await runCli(['migrate', 'down', '--to', '0', '--json'], { env }), 0));
    expect(down.to).toBe(0);
    const { rows } = await db.pool.query(`SELECT to_regclass('heart_rate_metrics') AS t`);
    expect(rows[0].t).toBeNull();
    expect((await runCli(['migrate', 'up'], { env })).stdout).toMatch(/applied 0002_postgis/);
  });

  it('partitions create is idempotent and list shows them', async () => {
    await migrate(db.pool);
    const first = stdoutJson(expectExit(await runCli(['partitions', 'create', '--months-ahead', '2', '--json'], { env }), 0));
    expect(first.created).toBeGreaterThan(0);
    const second = stdoutJson(expectExit(await runCli(['partitions', 'create', '--months-ahead', '2', '--json'], { env }), 0));
    expect(second.created).toBe(0);
    const list = stdoutJson(expectExit(await runCli(['partitions', 'list', '--table', 'workouts', '--json'], { env }), 0));
    expect(list).toHaveLength(3);
    const refused = await runCli(['partitions', 'drop', '--older-than', '2000-01'], { env });
    expectExit(refused, 1);
    expect(refused.stderr).toMatch(/--yes/);
    const badMonth = await runCli(['partitions', 'create', '--from', '2024-13'], { env });
    expectExit(badMonth, 1);
  });

  it('db info names the database, server version and PostGIS state', async () => {
    await migrate(db.pool);
    const info = stdoutJson(expectExit(await runCli(['db', 'info', '--json'], { env }), 0));
    expect(info.kind).toBe('server');
    expect(info.serverVersion).toMatch(/^\d+/);
    expect(info.migrations.applied).toEqual(versions);
    expect(typeof info.postgis.enabled).toBe('boolean');
  });
});

describe('embedded default (no DATABASE_URL)', () => {
  let dir: string;
  beforeAll(async () => {
    // Under the system temp dir so the postgres OS user can reach it when tests run as root.
    dir = await mkdtemp(path.join(os.tmpdir(), 'he-embedded-'));
    await chmod(dir, 0o755);
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('starts a local PostgreSQL, migrates, imports, and keeps the data for the next run', async () => {
    const file = path.join(dir, 'one.json');
    await writeFile(file, hae({ metrics: [{ name: 'step_count', units: 'count', data: [{ date: '2024-01-01 10:00:00 +0100', qty: 5 }] }] }));
    const dataDir = path.join(dir, 'data');
    const first = await runCli(['import', file, '--json', '--data-dir', dataDir], { timeoutMs: 120_000 });
    expect(first.stderr).toBe('');
    expectExit(first, 0);
    expect(JSON.parse(first.stdout).totals.inserted).toBe(1);
    const second = await runCli(['import', file, '--json', '--data-dir', dataDir], { timeoutMs: 120_000 });
    expect(stdoutJson(expectExit(second, 0)).totals.unchanged).toBe(1);
    const info = stdoutJson(expectExit(await runCli(['db', 'info', '--json', '--data-dir', dataDir]), 0));
    expect(info.kind).toBe('embedded');
    expect(info.postgis.enabled).toBe(false);
  });
});
