/**
 * `rollups rebuild | zones` and `sources priority` through the built CLI, as a user runs them.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { rollupSnapshot } from '../support/rollups.js';

const SAMPLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples/sample-export.json');

let db: TestDatabase;
const cli = (args: string[]) => runCli([...args, '--database-url', db.url]);

beforeAll(async () => {
  db = await createTestDatabase({ migrate: true });
  const r = await cli(['import', SAMPLE, '--user', 'jane', '--json', '--rollups', 'end']);
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(/rollups of jane rebuilt/);
});
afterAll(async () => {
  await db?.drop();
});

describe('rollups and sources commands', () => {
  it('import --rollups end leaves the same rollups a rebuild makes', async () => {
    const before = (await db.pool.query('SELECT count(*)::int AS n, sum(total) AS t FROM rollup_days')).rows[0];
    expect(before.n).toBeGreaterThan(0);
    const r = await cli(['rollups', 'rebuild', '--user', 'jane', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)[0]).toMatchObject({ user: 'jane', days: before.n });
    expect((await db.pool.query('SELECT count(*)::int AS n, sum(total) AS t FROM rollup_days')).rows[0]).toEqual(before);
  });

  it('zones add keeps days in a zone; summary answers in it, and says how to keep a zone it computes', async () => {
    const summary = (tz: string) =>
      runCli(['summary', '--user', 'jane', '--metric', 'step_count', '--days', '3650', '--tz', tz, '--json', '--database-url', db.url]);
    const computed = await summary('Asia/Kolkata');
    expect(computed.code).toBe(0);
    expect(computed.stderr).toContain('healthexport rollups zones add --user jane Asia/Kolkata');
    const add = await cli(['rollups', 'zones', 'add', '--user', 'jane', 'Asia/Kolkata']);
    expect(add.code).toBe(0);
    expect(add.stdout).toMatch(/keeping days in Asia\/Kolkata/);
    expect((await cli(['rollups', 'zones', 'list', '--user', 'jane', '--json'])).stdout).toContain('Asia/Kolkata');
    const s = await summary('Asia/Kolkata');
    expect(s.code).toBe(0);
    expect(s.stderr).not.toContain('zones add');
    expect(JSON.parse(s.stdout)).toEqual(JSON.parse(computed.stdout));
    expect(JSON.parse(s.stdout).rows.length).toBeGreaterThan(0);
    const bad = await cli(['rollups', 'zones', 'add', '--user', 'jane', 'Mars/Olympus']);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('sources priority shows, sets and resets; sources and --reset together are refused', async () => {
    expect((await cli(['sources', 'priority', '--user', 'jane'])).stdout).toMatch(/Watch > iPhone > other sources/);
    const set = await cli(['sources', 'priority', '--user', 'jane', 'iPhone, Watch', '--json']);
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout).priority).toEqual(['iPhone', 'Watch']);
    const reset = await cli(['sources', 'priority', '--user', 'jane', '--reset', '--json']);
    expect(JSON.parse(reset.stdout).priority).toEqual(['Watch', 'iPhone']);
    const both = await cli(['sources', 'priority', '--user', 'jane', 'Watch', '--reset']);
    expect(both.code).toBe(1);
    const nobody = await cli(['sources', 'priority', '--user', 'nobody']);
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toMatch(/unknown user/);
  });

  it('partitions drop takes the quarters of the dropped months, keeps the days, and importing them again counts once', async () => {
    const own = await createTestDatabase({ migrate: true });
    try {
      const run = (args: string[]) => runCli([...args, '--database-url', own.url]);
      expect((await run(['import', SAMPLE, '--user', 'kept', '--json'])).code).toBe(0);
      const userId = Number((await own.pool.query(`SELECT id FROM users WHERE name = 'kept'`)).rows[0].id);
      const first = await rollupSnapshot(own.pool, userId);
      expect(first.quarters.length).toBeGreaterThan(0);

      const drop = await run(['partitions', 'drop', '--older-than', '2025-01', '--yes', '--json']);
      expect(drop.code).toBe(0);
      expect(JSON.parse(drop.stdout).rollupQuartersDeleted).toBe(first.quarters.length);
      const dropped = await rollupSnapshot(own.pool, userId);
      expect(dropped).toEqual({ quarters: [], days: first.days });

      // The sample's months come back: its quarters are added once, not onto stale ones.
      expect((await run(['import', SAMPLE, '--user', 'kept', '--json'])).code).toBe(0);
      expect(await rollupSnapshot(own.pool, userId)).toEqual(first);
    } finally {
      await own.drop();
    }
  });
});
