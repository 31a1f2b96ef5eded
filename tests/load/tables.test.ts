import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
});
