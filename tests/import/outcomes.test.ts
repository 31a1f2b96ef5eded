/**
 * What became of each record, through a whole import, for both formats and both write paths.
 * The data is asymmetric on purpose: 4 inserted, 3 updated, 2 unchanged, 1 rejected, so swapping
 * any two outcomes anywhere (reader, in-batch duplicates, direct COPY, staging merge, summary)
 * changes the counts. Each test imports as its own user, so each runs alone.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPORT_XML } from '../../examples/apple/make-samples.js';
import { importSource } from '../../src/import/run-import.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { hae, stringSource } from '../support/inputs.js';

const EXPECTED = { read: 10, inserted: 4, updated: 3, unchanged: 2, rejected: 1 };
const pad = (n: number) => String(n).padStart(2, '0');

/** One step count per [minute, qty]; qty -4 is refused by the bounds check. */
function haeSteps(points: [number, number][]): string {
  return hae({
    metrics: [{ name: 'step_count', units: 'count', data: points.map(([m, qty]) => ({ date: `2024-02-01 10:${pad(m)}:00 +0000`, qty, source: 'Phone' })) }],
  });
}

const XML_HEAD = EXPORT_XML.slice(0, EXPORT_XML.indexOf('<Record'));
/** The same as Apple's export.xml; value "abc" is not a number. */
function appleSteps(points: [number, number | string][]): string {
  const records = points.map(([m, v]) => {
    const at = `2024-02-01 10:${pad(m)}:00 +0000`;
    return ` <Record type="HKQuantityTypeIdentifierStepCount" sourceName="Phone" unit="count" startDate="${at}" endDate="${at}" value="${v}"/>\n`;
  });
  return `${XML_HEAD}${records.join('')}</HealthData>\n`;
}

/** Minutes 0..3 new; 0,1,2 again with new values; 3 and 1 again unchanged; 9 rejected. */
const IN_FILE: [number, number][] = [[0, 10], [1, 11], [2, 12], [3, 13], [0, 20], [1, 21], [2, 22], [3, 13], [1, 21], [9, -4]];
/** Stored first: minutes 0..5. Then 4 new (10..13), 3 changed (0..2), 2 the same (3, 4), 1 rejected. */
const FIRST: [number, number][] = [[0, 10], [1, 11], [2, 12], [3, 13], [4, 14], [5, 15]];
const SECOND: [number, number][] = [[10, 30], [11, 31], [12, 32], [13, 33], [0, 20], [1, 21], [2, 22], [3, 13], [4, 14], [9, -4]];

describe('import outcomes: 4 inserted, 3 updated, 2 unchanged, 1 rejected', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: true });
  });
  afterAll(async () => db?.drop());

  const user = () => `outcomes-${randomBytes(4).toString('hex')}`;
  const stored = async (name: string) =>
    (
      await db.pool.query(
        `SELECT extract(minute FROM recorded_at)::int AS m, qty FROM activity_metrics a JOIN users u ON u.id = a.user_id
          WHERE u.name = $1 ORDER BY 1`,
        [name],
      )
    ).rows.map((r) => [r.m, r.qty]);
  const load = (text: string, name: string, file: string, batchRows: number) =>
    importSource(stringSource(text, file, 53), { pool: db.pool, user: name, batchRows });

  const formats = [
    { format: 'HAE', file: 'steps.json', doc: (p: [number, number][]) => haeSteps(p) },
    { format: 'Apple', file: 'export.xml', doc: (p: [number, number][]) => appleSteps(p.map(([m, q]) => [m, q < 0 ? 'abc' : q])) },
  ];

  for (const { format, file, doc } of formats) {
    // One batch: duplicates resolved in memory, then the direct COPY into fresh months.
    // Batches of 3: the repeats arrive in later batches and meet the stored rows.
    for (const batchRows of [100, 3]) {
      it(`${format}, keys repeated inside one file, first import, batches of ${batchRows}`, async () => {
        const name = user();
        const s = await load(doc(IN_FILE), name, file, batchRows);
        expect(s.tables.activity_metrics).toEqual(EXPECTED);
        expect(s.totals).toEqual(EXPECTED);
        expect(s.status).toBe('partial');
        expect(await stored(name)).toEqual([[0, 20], [1, 21], [2, 22], [3, 13]]);
      });
    }

    it(`${format}, a second import over stored rows (staging merge)`, async () => {
      const name = user();
      const first = await load(doc(FIRST), name, file, 100);
      expect(first.tables.activity_metrics).toEqual({ read: 6, inserted: 6, updated: 0, unchanged: 0, rejected: 0 });
      const s = await load(doc(SECOND), name, file, 100);
      expect(s.tables.activity_metrics).toEqual(EXPECTED);
      expect(await stored(name)).toEqual([[0, 20], [1, 21], [2, 22], [3, 13], [4, 14], [5, 15], [10, 30], [11, 31], [12, 32], [13, 33]]);
      // The run's row says the same.
      const { rows } = await db.pool.query(`SELECT counts FROM raw_ingestions WHERE id = $1`, [s.ingestionId]);
      expect(rows[0].counts).toMatchObject({ tables: { activity_metrics: EXPECTED }, totals: EXPECTED });
    });
  }
});
