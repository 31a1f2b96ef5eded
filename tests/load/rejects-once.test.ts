/**
 * A bad record is stored once, however often its file is imported (through the binary), and
 * `rejects list` filters by file and reason. Migration 7 collapses duplicates stored before it.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrations.js';
import { runCli } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

const BAD = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples/bad-records.json');

describe('rejects of a re-imported file', () => {
  let db: TestDatabase;
  const ids: string[] = [];
  beforeAll(async () => {
    db = await createTestDatabase();
    for (let i = 0; i < 2; i++) {
      const r = await runCli(['import', BAD, '--user', 'bad', '--json', '--database-url', db.url]);
      expect(r.code, r.stderr).toBe(3);
      ids.push(JSON.parse(r.stdout).ingestionId);
    }
  });
  afterAll(async () => db?.drop());

  it('are stored once, seen twice, under the latest import', async () => {
    const { rows } = await db.pool.query(`SELECT ingestion_id, times_seen FROM ingestion_rejects`);
    expect(rows).toHaveLength(7);
    expect(rows.every((r) => r.ingestion_id === ids[1] && r.times_seen === 2)).toBe(true);
    // The latest run's rejects are all there: its summary and `rejects list --ingestion` agree.
    const list = await runCli(['rejects', 'list', '--ingestion', ids[1], '--json', '--database-url', db.url]);
    expect(JSON.parse(list.stdout)).toHaveLength(7);
  });

  it('can be filtered by file (path or name) and by reason', async () => {
    const list = async (...args: string[]) => {
      const r = await runCli(['rejects', 'list', '--json', '--database-url', db.url, ...args]);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as { source: string; reason: string; jsonPath: string; timesSeen: number }[];
    };
    expect(await list('--file', 'bad-records.json')).toHaveLength(7);
    expect(await list('--file', BAD)).toHaveLength(7);
    expect(await list('--file', 'records.json')).toEqual([]);
    expect(await list('--file', 'sample-export.json')).toEqual([]);
    const latitude = await list('--file', 'bad-records.json', '--reason', 'LATITUDE');
    expect(latitude).toHaveLength(1);
    expect(latitude[0].jsonPath).toMatch(/route\[7\]$/);
    expect(latitude[0].timesSeen).toBe(2);
    expect(await list('--reason', 'no reason says this')).toEqual([]);
    const text = await runCli(['rejects', 'list', '--reason', 'latitude', '--database-url', db.url]);
    expect(text.stdout).toMatch(/bad-records\.json .*latitude.*\(seen 2 times\)/);
  });
});

describe('migration 7 on rejects stored twice before it', () => {
  it('keeps the newest of each record and counts the others', async () => {
    const db = await createTestDatabase();
    try {
      await migrate(db.pool, { target: 6 });
      const row = `(1, gen_random_uuid(), 'workout_routes', 'data.workouts[0].route[7]', 1234, 'latitude 123 out of range', '{"lat":123}')`;
      await db.pool.query(`INSERT INTO ingestion_rejects (user_id, ingestion_id, target_table, json_path, byte_offset, reason, raw)
                           VALUES ${row}, ${row}, ${row}, (2, gen_random_uuid(), 'workout_routes', 'data.workouts[0].route[7]', 1234, 'x', '{"lat":123}')`);
      await migrate(db.pool);
      const { rows } = await db.pool.query(`SELECT user_id::int, times_seen FROM ingestion_rejects ORDER BY user_id`);
      expect(rows).toEqual([
        { user_id: 1, times_seen: 3 },
        { user_id: 2, times_seen: 1 },
      ]);
    } finally {
      await db.drop();
    }
  });
});
