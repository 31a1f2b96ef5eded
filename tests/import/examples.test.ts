/**
 * The shipped sample exports, imported through the CLI path's pipeline, against the outcomes
 * examples/README.md documents for them.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importSource } from '../../src/import/run-import.js';
import { resolveInputs } from '../../src/input/open-input.js';
import { reconciles } from '../../src/load/outcome.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { exampleAsOf } from '../support/inputs.js';

const examples = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples');

describe('sample exports', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: true });
  });
  afterAll(async () => db?.drop());

  async function importFile(name: string, user: string) {
    const [src] = await resolveInputs([path.join(examples, name)]);
    const s = await importSource(src, { pool: db.pool, user, asOf: exampleAsOf(name) });
    expect(reconciles(s.totals)).toBe(true);
    for (const c of Object.values(s.tables)) expect(reconciles(c)).toBe(true);
    return s;
  }
  const pick = (s: Awaited<ReturnType<typeof importFile>>, k: 'inserted' | 'updated' | 'unchanged' | 'rejected' | 'read') =>
    Object.fromEntries(Object.entries(s.tables).map(([t, c]) => [t, c[k]]));

  it('sample-export.json stores every record of every shape', async () => {
    const s = await importFile('sample-export.json', 'jane');
    expect(s.status).toBe('ok');
    // 290 datapoints: 56 heart_rate, 3 blood_pressure, 3 sleep nights, the rest single values.
    expect(pick(s, 'inserted')).toEqual({
      activity_metrics: 228,
      heart_rate_metrics: 56,
      blood_pressure_metrics: 3,
      sleep_metrics: 3,
      workouts: 5,
      workout_routes: 130,
      workout_heart_rate: 181 + 12,
      workout_series: 170 + 90,
      health_events: 9,
    });
    expect(s.unknownMetrics).toEqual(['apple_future_metric_2027', 'headache']);
    expect(s.workoutsFlagged).toHaveLength(1);
    const { rows } = await db.pool.query(
      `SELECT w.name FROM workouts w JOIN users u ON u.id = w.user_id WHERE u.name = 'jane' AND heart_rate_is_recovery`,
    );
    expect(rows).toEqual([{ name: 'Elliptical' }]);
  });

  it('the same export as .json.gz and .zip changes nothing', async () => {
    expect((await importFile('sample-export.json', 'formats')).status).toBe('ok');
    for (const f of ['sample-export.json.gz', 'sample-export.zip', 'sample-export.json']) {
      const s = await importFile(f, 'formats');
      expect(s.totals.inserted, f).toBe(0);
      expect(s.totals.updated, f).toBe(0);
      expect(s.totals.unchanged, f).toBe(s.totals.read);
      expect(s.totals.read, f).toBe(290 + 5 + 130 + 193 + 260 + 9);
    }
  });

  it('sample-export-later.json inserts, updates and keeps exactly what examples/README.md says', async () => {
    expect((await importFile('sample-export.json', 'later')).status).toBe('ok');
    const s = await importFile('sample-export-later.json', 'later');
    expect(s.status).toBe('ok');
    expect(s.tables).toEqual({
      activity_metrics: { read: 33, inserted: 18, updated: 1, unchanged: 14, rejected: 0 },
      heart_rate_metrics: { read: 6, inserted: 4, updated: 0, unchanged: 2, rejected: 0 },
      sleep_metrics: { read: 1, inserted: 0, updated: 0, unchanged: 1, rejected: 0 },
      workouts: { read: 2, inserted: 1, updated: 0, unchanged: 1, rejected: 0 },
      workout_routes: { read: 25, inserted: 25, updated: 0, unchanged: 0, rejected: 0 },
      workout_heart_rate: { read: 79, inserted: 31, updated: 0, unchanged: 48, rejected: 0 },
      workout_series: { read: 101, inserted: 56, updated: 0, unchanged: 45, rejected: 0 },
      health_events: { read: 1, inserted: 1, updated: 0, unchanged: 0, rejected: 0 },
    });
    const { rows } = await db.pool.query(
      `SELECT qty FROM activity_metrics a JOIN users u ON u.id = a.user_id
        WHERE u.name = 'later' AND metric = 'step_count' AND recorded_at = '2024-03-11 09:00:00-07'`,
    );
    expect(rows).toEqual([{ qty: 655 }]);
  });

  it('bad-records.json quarantines the 7 bad records and stores the rest', async () => {
    const s = await importFile('bad-records.json', 'bad');
    expect(s.status).toBe('partial');
    expect(pick(s, 'rejected')).toEqual({
      activity_metrics: 4,
      heart_rate_metrics: 1,
      blood_pressure_metrics: 1,
      workouts: 0,
      workout_routes: 1,
      workout_heart_rate: 0,
    });
    expect(pick(s, 'inserted')).toEqual({
      activity_metrics: 11,
      heart_rate_metrics: 5,
      blood_pressure_metrics: 2,
      workouts: 1,
      workout_routes: 11,
      workout_heart_rate: 14,
    });
    const { rows } = await db.pool.query(`SELECT json_path, reason FROM ingestion_rejects WHERE ingestion_id = $1 ORDER BY byte_offset, json_path`, [
      s.ingestionId,
    ]);
    expect(rows).toHaveLength(7);
    expect(rows.some((r) => /route\[7\]$/.test(r.json_path) && /latitude/.test(r.reason))).toBe(true);
    expect(rows.some((r) => /900/.test(r.reason))).toBe(true);
  });

  it('truncated-export.json stores the 115 complete datapoints before the cut and fails', async () => {
    const s = await importFile('truncated-export.json', 'cut');
    expect(s.status).toBe('failed');
    expect(s.errorOffset).toBeGreaterThan(11_000);
    expect(s.totals.inserted).toBe(115);
  });

  it('not-hae.json is refused whole', async () => {
    const s = await importFile('not-hae.json', 'geo');
    expect(s.status).toBe('failed');
    expect(s.error).toMatch(/not-hae\.json: .*not a Health Auto Export/);
    expect(s.totals.read).toBe(0);
  });
});
