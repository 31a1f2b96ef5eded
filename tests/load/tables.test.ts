import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealthRecord } from '../../src/records/model.js';
import { TableBatch } from '../../src/load/batch.js';
import { TABLES } from '../../src/load/tables.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

describe('table specs', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: true });
  });
  afterAll(async () => db?.drop());

  it('write every column with the type the schema gives it (binary COPY reads bytes, not text)', async () => {
    for (const spec of Object.values(TABLES)) {
      const { rows } = await db.pool.query(
        `SELECT column_name, udt_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1`,
        [spec.table],
      );
      const types = new Map(rows.map((r) => [r.column_name, r.udt_name]));
      expect({ table: spec.table, types: spec.columns.map((c) => types.get(c)) }).toEqual({ table: spec.table, types: [...spec.types] });
      expect([types.get('user_id'), types.get('ingestion_id')]).toEqual(['int8', 'uuid']);
    }
  });

  it("a series (spec.series) is the value of one of the key's columns, which makes it safe to skip the key map", () => {
    // TableBatch trusts that a row later than every earlier row of its series repeats no key: that
    // holds only if two rows of different series can never share a key.
    const t = Date.UTC(2024, 0, 10, 12);
    const samples: HealthRecord[] = [
      { kind: 'quantity', metric: 'step_count', unit: 'count', time: t, endTime: null, source: 'Watch', qty: 1, text: null, extra: null },
      {
        kind: 'route_point', workoutId: 'w-1', time: t, seq: 0, latitude: 1, longitude: 2, altitude: null, course: null,
        courseAccuracy: null, speed: null, speedAccuracy: null, horizontalAccuracy: null, verticalAccuracy: null,
      },
      { kind: 'workout_heart_rate', workoutId: 'w-1', series: 'recovery', time: t, source: 'Watch', unit: 'count/min', min: null, avg: 90, max: null },
      { kind: 'workout_series', workoutId: 'w-1', series: 'stepCount', time: t, source: 'Watch', unit: 'count', qty: 3 },
      { kind: 'event', section: 'symptoms', time: t, endTime: null, eventKey: 'k', source: 'Phone', data: {} },
    ];
    const withSeries = Object.entries(TABLES).filter(([, spec]) => spec.series !== undefined).map(([kind]) => kind);
    expect(withSeries.sort()).toEqual(samples.map((r) => r.kind).sort());
    for (const r of samples) {
      const spec = TABLES[r.kind];
      const b = new TableBatch(spec);
      expect(b.add(r)).toBeNull();
      const fields = b.rows.rowText(0).split('\t');
      const keyValues = spec.key.map((k) => fields[spec.columns.indexOf(k)]);
      expect(keyValues, spec.table).toContain(spec.series!(r));
    }
  });
});
