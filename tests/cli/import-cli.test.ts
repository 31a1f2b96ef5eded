import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, expectExit, runCli, stdoutJson } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { hae } from '../support/inputs.js';
import { generateExport } from '../../examples/generate.js';

function heartRates(n: number, startMs = Date.UTC(2023, 0, 1)): string {
  const pad = (x: number) => String(x).padStart(2, '0');
  const data = Array.from({ length: n }, (_, i) => {
    const d = new Date(startMs + i * 60_000);
    const date = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:00 +0000`;
    return { date, Min: 50 + (i % 30), Avg: 60 + (i % 30), Max: 70 + (i % 30), source: 'Watch' };
  });
  return hae({ metrics: [{ name: 'heart_rate', units: 'count/min', data }] });
}

describe('healthexport import (CLI)', () => {
  let db: TestDatabase;
  let dir: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: true });
    dir = await mkdtemp(path.join(os.tmpdir(), 'he-cli-'));
    env = { DATABASE_URL: db.url };
    // Several tests read this file; written here so each can run alone.
    await writeFile(path.join(dir, 'hr.json'), heartRates(50));
  });
  afterAll(async () => {
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('prints one JSON summary whose counts reconcile, and exits 0', async () => {
    const file = path.join(dir, 'hr.json');
    const r = await runCli(['import', file, '--json', '--user', 'cli'], { env });
    expect(r.stderr).toBe('');
    expectExit(r, 0);
    const s = JSON.parse(r.stdout);
    expect(Object.keys(s)).toEqual(
      expect.arrayContaining(['ingestionId', 'source', 'bytes', 'durationMs', 'status', 'tables', 'totals', 'unknownMetrics', 'unknownKeys']),
    );
    expect(s.status).toBe('ok');
    expect(s.tables.heart_rate_metrics).toEqual({ read: 50, inserted: 50, updated: 0, unchanged: 0, rejected: 0 });
    expect(s.totals.read).toBe(s.totals.inserted + s.totals.updated + s.totals.unchanged + s.totals.rejected);
  });

  it('--as-of: an older export after a newer one keeps the stored values and says so; a bad value exits 1', async () => {
    const steps = (qty: number) => hae({ metrics: [{ name: 'step_count', units: 'count', data: [{ date: '2024-06-30 00:00:00 +0000', qty }] }] });
    const file = path.join(dir, 'steps.json');
    await writeFile(file, steps(9000));
    expectExit(await runCli(['import', file, '--user', 'asof', '--as-of', '2024-07-01'], { env }), 0);
    await writeFile(file, steps(4000));
    const older = await runCli(['import', file, '--user', 'asof', '--as-of', '2024-06-30 6:00:00 pm +0200'], { env });
    expectExit(older, 0);
    expect(older.stdout).toMatch(/activity_metrics\s+1\s+0\s+0\s+1\s+0/);
    expect(older.stdout).toMatch(/unchanged because the stored values come from a newer export \(this one is as of 2024-06-30T16:00:00.000Z, from its option\): activity_metrics 1/);
    const { rows } = await db.pool.query(`SELECT qty FROM activity_metrics a JOIN users u ON u.id = a.user_id WHERE u.name = 'asof'`);
    expect(rows).toEqual([{ qty: 9000 }]);
    const bad = await runCli(['import', file, '--user', 'asof', '--as-of', 'yesterday'], { env });
    expectExit(bad, 1);
    expect(bad.stderr).toMatch(/--as-of: "yesterday" is not a date/);
  });

  it('prints a table per target table on a terminal-less run without --json', async () => {
    const file = path.join(dir, 'hr.json');
    const first = await runCli(['import', file, '--user', 'table'], { env });
    expectExit(first, 0);
    expect(first.stdout).toMatch(/heart_rate_metrics\s+50\s+50\s+0\s+0\s+0/);
    const again = await runCli(['import', file, '--user', 'table'], { env });
    expectExit(again, 0);
    expect(again.stdout).toMatch(/heart_rate_metrics\s+50\s+0\s+0\s+50\s+0/);
  });

  it('reads gzip (by content) and stdin', async () => {
    const gz = path.join(dir, 'hr-later.json.gz');
    await writeFile(gz, gzipSync(heartRates(20, Date.UTC(2023, 5, 1))));
    const a = stdoutJson(expectExit(await runCli(['import', gz, '--json', '--user', 'gz'], { env }), 0));
    expect(a.tables.heart_rate_metrics.inserted).toBe(20);
    const b = await runCli(['import', '-', '--json', '--user', 'gz'], { env, stdin: gzipSync(heartRates(20, Date.UTC(2023, 5, 1))) });
    expectExit(b, 0);
    expect(JSON.parse(b.stdout).tables.heart_rate_metrics.unchanged).toBe(20);
    const c = await runCli(['import', '-', '--json', '--user', 'stdin'], { env, stdin: heartRates(3) });
    expect(stdoutJson(expectExit(c, 0))).toMatchObject({ source: 'stdin', status: 'ok', totals: { inserted: 3 } });
  });

  it('exits 3 when some records are rejected, 2 for unusable input, with one line naming file and byte', async () => {
    const bad = path.join(dir, 'bad.json');
    await writeFile(bad, hae({ metrics: [{ name: 'step_count', units: 'count', data: [{ date: '2024-01-01 10:00:00 +0000', qty: -4 }, { date: '2024-01-01 10:01:00 +0000', qty: 4 }] }] }));
    const partial = await runCli(['import', bad, '--json'], { env });
    expectExit(partial, 3);
    expect(JSON.parse(partial.stdout).status).toBe('partial');

    const cut = path.join(dir, 'cut.json');
    const text = heartRates(10);
    await writeFile(cut, text.slice(0, 400));
    const truncated = await runCli(['import', cut], { env });
    expectExit(truncated, 2);
    const lines = truncated.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^healthexport: ${cut.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*byte 400`));

    const notHae = path.join(dir, 'package.json');
    await writeFile(notHae, JSON.stringify({ name: 'x', version: '1' }));
    const r = await runCli(['import', notHae], { env });
    expectExit(r, 2);
    expect(r.stderr).toMatch(/not a Health Auto Export/);

    const missing = await runCli(['import', path.join(dir, 'nope.json')], { env });
    expectExit(missing, 2);
    expect(missing.stderr.trim()).toMatch(/nope\.json: no such file/);
  });

  it('exits 1 with one line for a bad DATABASE_URL, 75 for an unreachable server', async () => {
    const file = path.join(dir, 'hr.json');
    const badUrl = await runCli(['import', file], { env: { DATABASE_URL: 'mysql://x' } });
    expectExit(badUrl, 1);
    expect(badUrl.stderr.trim().split('\n')).toHaveLength(1);
    expect(badUrl.stderr).toMatch(/DATABASE_URL must start with postgres/);
    const down = await runCli(['import', file], { env: { DATABASE_URL: 'postgres://x@127.0.0.1:1/none' } });
    expectExit(down, 75);
    expect(down.stderr).toMatch(/cannot connect to PostgreSQL at postgres:\/\/x@127\.0\.0\.1:1\/none/);
  });

  it('a killed import, run again, completes the load with no duplicates', async () => {
    const n = 60_000;
    const file = path.join(dir, 'big.json');
    await writeFile(file, heartRates(n, Date.UTC(2020, 0, 1)));
    const child = spawn(process.execPath, [BIN, 'import', file, '--user', 'killed', '--batch-rows', '2000', '--concurrency', '1'], {
      env: { ...process.env, DATABASE_URL: db.url },
      stdio: 'ignore',
    });
    const exited = new Promise((r) => child.on('exit', r));
    // Kill it once some batches are committed but before it can finish.
    let stored = 0;
    for (let i = 0; i < 400 && stored === 0; i++) {
      await new Promise((r) => setTimeout(r, 25));
      const { rows } = await db.pool.query(
        `SELECT count(*)::int AS n FROM heart_rate_metrics h JOIN users u ON u.id = h.user_id WHERE u.name = 'killed'`,
      );
      stored = rows[0].n;
    }
    child.kill('SIGKILL');
    await exited;
    // The import itself runs in a child of the CLI; it stops once its parent is gone. Wait until
    // no healthexport connection is left, so the count below is final.
    for (let i = 0; i < 200; i++) {
      const { rows } = await db.pool.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'healthexport' AND datname = current_database()`,
      );
      if (rows[0].n === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(stored).toBeGreaterThan(0);
    const { rows: mid } = await db.pool.query(
      `SELECT count(*)::int AS n FROM heart_rate_metrics h JOIN users u ON u.id = h.user_id WHERE u.name = 'killed'`,
    );
    expect(mid[0].n).toBeLessThan(n);

    const again = await runCli(['import', file, '--user', 'killed', '--json'], { env });
    expectExit(again, 0);
    const s = JSON.parse(again.stdout);
    expect(s.totals.read).toBe(n);
    expect(s.totals.inserted + s.totals.unchanged).toBe(n);
    expect(s.totals.unchanged).toBe(mid[0].n);
    const { rows: end } = await db.pool.query(
      `SELECT count(*)::int AS n, count(DISTINCT recorded_at)::int AS d FROM heart_rate_metrics h JOIN users u ON u.id = h.user_id WHERE u.name = 'killed'`,
    );
    expect(end[0]).toEqual({ n, d: n });
  });

  it('a record too large for the import heap cap ends with one line saying how to lift it', async () => {
    const t0 = Date.UTC(2024, 0, 1, 6);
    const route = Array.from({ length: 60_000 }, (_, i) => ({
      latitude: 47 + i * 1e-6,
      longitude: -122 + i * 1e-6,
      altitude: 10,
      timestamp: new Date(t0 + i * 1000).toISOString(),
    }));
    const file = path.join(dir, 'one-long-ride.json');
    await writeFile(file, hae({ workouts: [{ id: 'W', name: 'Ride', start: new Date(t0).toISOString(), end: new Date(t0 + 6e7).toISOString(), route }] }));
    const r = await runCli(['import', file, '--dry-run'], { env: { HEALTHEXPORT_MAX_HEAP_MB: '16' } });
    expectExit(r, 1);
    expect(r.stderr.trim().split('\n').pop()).toMatch(/^healthexport: the import ran out of its 16 MB heap .*HEALTHEXPORT_MAX_HEAP_MB=/);
    const ok = await runCli(['import', file, '--dry-run', '--json'], { env: { HEALTHEXPORT_MAX_HEAP_MB: '256' } });
    expectExit(ok, 0);
    expect(JSON.parse(ok.stdout).valid.workout_routes).toBe(60_000);
  });

  it('an export whose every record is rejected (dates past today) runs in a small heap: rejects do not keep their records alive', async () => {
    // 40 MB from 2030 on: ~300 k records, 53 workouts with routes. Before rejects copied their
    // raw text (and were stored by size too), this ran out of a 40 MB heap (and a 48 MB one).
    const file = path.join(dir, 'future.json');
    await generateExport({ sizeBytes: 40e6, out: file, seed: 3, start: '2030-01-01' });
    const r = await runCli(['import', file, '--json', '--user', 'future'], { env: { ...env, HEALTHEXPORT_MAX_HEAP_MB: '40' } });
    expectExit(r, 3);
    const s = JSON.parse(r.stdout);
    expect(s.totals.inserted).toBe(0);
    expect(s.totals.rejected).toBe(s.totals.read);
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n, max(length(raw))::int AS longest FROM ingestion_rejects r JOIN users u ON u.id = r.user_id WHERE u.name = 'future'`,
    );
    expect(rows[0].n).toBe(s.totals.rejected);
    expect(rows[0].longest).toBeGreaterThan(60_000); // whole workouts among them, cut at 64 K characters
  });

  it('dry run writes nothing and reports what is valid', async () => {
    const file = path.join(dir, 'hr.json');
    const r = await runCli(['import', file, '--dry-run', '--json', '--user', 'dry'], { env });
    expectExit(r, 0);
    const s = JSON.parse(r.stdout);
    expect(s.dryRun).toBe(true);
    expect(s.valid.heart_rate_metrics).toBe(50);
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM users WHERE name = 'dry'`);
    expect(rows[0].n).toBe(0);
  });
});
