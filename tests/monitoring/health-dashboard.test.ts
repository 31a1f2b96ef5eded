/**
 * monitoring/grafana/healthexport-health.json against a database loaded from the example
 * exports: every panel and variable query, expanded as Grafana's PostgreSQL data source does for
 * a fixed range, runs and returns rows of the shape its panel type draws.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userIdByName } from '../../src/db/users.js';
import { importSource } from '../../src/import/run-import.js';
import { resolveInputs } from '../../src/input/open-input.js';
import { addZone } from '../../src/rollups/rebuild.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { HEALTH_DASHBOARD, dashboardQueries, expandMacros, grafanaSql, rfc3339Nano, type DashboardQuery } from '../support/grafana.js';
import { exampleAsOf } from '../support/inputs.js';

const EXAMPLES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples');
// The sample exports span 2024-03-09 to 2024-03-11 (America/Los_Angeles).
const RANGE = { from: new Date('2024-03-08T00:00:00Z'), to: new Date('2024-03-12T23:59:59.5Z'), intervalMs: 3_600_000 };

const NUMERIC = new Set([20, 21, 23, 700, 701, 1700]); // int8, int2, int4, float4, float8, numeric
const TIME = new Set([1114, 1184]); // timestamp, timestamptz

let db: TestDatabase;
let vars: Record<string, string>;

beforeAll(async () => {
  db = await createTestDatabase({ migrate: true });
  for (const f of ['sample-export.json', 'sample-export-later.json', 'sleep-unaggregated.json']) {
    const [src] = await resolveInputs([path.join(EXAMPLES, f)]);
    await importSource(src, { pool: db.pool, user: 'jane', asOf: exampleAsOf(f) });
  }
  const user = (await userIdByName(db.pool, 'jane'))!;
  await addZone(db.pool, user, 'America/Los_Angeles');
  const w = await db.pool.query(`SELECT workout_id FROM workouts WHERE user_id = $1 AND route_points > 0 ORDER BY started_at LIMIT 1`, [user]);
  vars = { user: String(user), tz: 'America/Los_Angeles', workout: w.rows[0].workout_id, DS_POSTGRES: 'unused' };
});
afterAll(async () => {
  await db?.drop();
});

async function run(q: DashboardQuery, v = vars): Promise<pg.QueryResult> {
  return db.pool.query(grafanaSql(q, v, RANGE));
}

describe('the macro expansion', () => {
  it('matches Grafana: RFC3339Nano bounds, epoch groups, the interval', () => {
    expect(rfc3339Nano(new Date('2024-03-08T00:00:00Z'))).toBe('2024-03-08T00:00:00Z');
    expect(rfc3339Nano(new Date('2024-03-12T23:59:59.500Z'))).toBe('2024-03-12T23:59:59.5Z');
    expect(expandMacros('WHERE $__timeFilter(t) AND x > $__timeFrom() AND x < $__timeTo()', RANGE)).toBe(
      "WHERE t BETWEEN '2024-03-08T00:00:00Z' AND '2024-03-12T23:59:59.5Z' AND x > '2024-03-08T00:00:00Z' AND x < '2024-03-12T23:59:59.5Z'",
    );
    expect(expandMacros("SELECT $__timeGroupAlias(b, $__interval), $__timeGroup(b, '1d')", RANGE)).toBe(
      'SELECT floor(extract(epoch from b)/3600)*3600 AS "time", floor(extract(epoch from b)/86400)*86400',
    );
    expect(expandMacros('$__unixEpochFilter(e) $__interval_ms $__unixEpochFrom()', RANGE)).toBe(
      `e >= 1709856000 AND e <= 1710287999 3600000 1709856000`,
    );
    expect(() => expandMacros('$__nope(x)', RANGE)).toThrow(/unknown macro/);
  });
});

describe('monitoring/grafana/healthexport-health.json', () => {
  const dash = JSON.parse(readFileSync(HEALTH_DASHBOARD, 'utf8'));
  const queries = dashboardQueries();
  const panels = queries.filter((q) => q.panelType !== 'variable');

  it('has at least 12 panels over the PostgreSQL data source, a user variable, macros in every panel', () => {
    expect(panels.length).toBeGreaterThanOrEqual(12);
    expect(dash.templating.list.map((v: { name: string }) => v.name)).toContain('user');
    for (const q of panels) {
      expect(q.rawSql, q.title).toMatch(/\$__time(Filter|GroupAlias|Group)\(/);
      expect(q.rawSql, q.title).toMatch(/user_id = \$user/);
    }
    const types = new Set(panels.map((q) => q.panelType));
    for (const t of ['timeseries', 'stat', 'table', 'geomap']) expect(types, t).toContain(t);
    // Day panels read the rollups, never the raw sample tables.
    const raw = panels.filter((q) => /\b(activity_metrics|heart_rate_metrics|blood_pressure_metrics)\b/.test(q.rawSql));
    expect(raw.map((q) => q.title)).toEqual([]);
  });

  it('variables return what Grafana lists', async () => {
    for (const q of queries.filter((x) => x.panelType === 'variable')) {
      const r = await run(q);
      expect(r.rows.length, q.title).toBeGreaterThan(0);
      if (q.title === 'variable tz') expect(r.rows.map((x) => x.tz)).toEqual(['America/Los_Angeles', 'UTC']);
      else expect(r.fields.map((f) => f.name), q.title).toEqual(['__text', '__value']);
    }
  });

  for (const q of panels) {
    it(`${q.panelType} "${q.title}" runs and returns rows of its shape`, async () => {
      for (const tz of ['America/Los_Angeles', 'UTC']) {
        const r = await run(q, { ...vars, tz });
        expect(r.rows.length, `${q.title} (${tz})`).toBeGreaterThan(0);
        const fields = r.fields;
        if (q.panelType === 'timeseries') {
          const time = fields.find((f) => f.name === 'time');
          expect(time, 'a "time" column').toBeDefined();
          expect(TIME.has(time!.dataTypeID) || NUMERIC.has(time!.dataTypeID)).toBe(true);
          for (const f of fields.filter((x) => x.name !== 'time')) {
            if (f.name === 'metric') expect(f.dataTypeID, 'metric is text').toBe(25);
            else expect(NUMERIC.has(f.dataTypeID), `${f.name} is numeric`).toBe(true);
          }
          const times = r.rows.map((x) => new Date(x.time instanceof Date ? x.time : Number(x.time) * 1000).getTime());
          expect([...times].sort((a, b) => a - b)).toEqual(times); // Grafana needs series sorted by time
          const values = r.rows.flatMap((x) => fields.filter((f) => NUMERIC.has(f.dataTypeID) && f.name !== 'time').map((f) => x[f.name]));
          expect(values.some((v) => v !== null)).toBe(true);
        } else if (q.panelType === 'stat') {
          expect(r.rows).toHaveLength(1);
          for (const f of fields) expect(NUMERIC.has(f.dataTypeID), f.name).toBe(true);
          expect(Object.values(r.rows[0])[0]).not.toBeNull();
        } else if (q.panelType === 'table') {
          expect(fields.map((f) => f.name)).toEqual(
            expect.arrayContaining(['start', 'type', 'duration', 'distance', 'energy', 'avg heart rate']),
          );
          expect(r.rows.some((x) => x['avg heart rate'] !== null)).toBe(true);
        } else if (q.panelType === 'geomap') {
          for (const name of ['latitude', 'longitude']) {
            const f = fields.find((x) => x.name === name);
            expect(f && NUMERIC.has(f.dataTypeID), name).toBe(true);
          }
        } else {
          throw new Error(`no shape check for panel type ${q.panelType}`);
        }
      }
    });
  }

  it('the steps panel shows the same days as summary (rollup_days), and sleep includes stage intervals', async () => {
    const steps = panels.find((q) => q.title === 'Steps per day')!;
    const r = await run(steps);
    const { rows } = await db.pool.query(
      `SELECT sum(qty)::float8 AS s FROM activity_metrics WHERE user_id = $1 AND metric = 'step_count'`,
      [vars.user],
    );
    expect(r.rows.reduce((a, x) => a + x.value, 0)).toBe(rows[0].s); // one source per span in the samples
    const sleep = panels.find((q) => q.title === 'Sleep per night by stage')!;
    const nov = await db.pool.query(
      grafanaSql(sleep, vars, { from: new Date('2024-11-01T00:00:00Z'), to: new Date('2024-11-05T00:00:00Z'), intervalMs: 3_600_000 }),
    );
    expect(nov.rows.length).toBe(3); // the three nights of sleep-unaggregated.json
    expect(nov.rows.every((x) => x.Deep !== null || x['Asleep (no stage)'] !== null)).toBe(true);
  });
});
