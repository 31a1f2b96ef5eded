/**
 * docs/queries.md: every SQL block runs against a database loaded (through the binary, as a user
 * would) from examples/sample-export.json and examples/sleep-unaggregated.json, and its answer
 * matches what the files hold, computed here from the JSON independently of the importer.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createTestDatabase, postgisAvailable, type TestDatabase } from '../support/db.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SAMPLE = path.join(ROOT, 'examples/sample-export.json');
const SLEEP = path.join(ROOT, 'examples/sleep-unaggregated.json');

interface Block {
  heading: string;
  sql: string;
}

/** The ```sql blocks of the document, each with the `##` heading it sits under. */
function sqlBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  let heading = '';
  const re = /^## (.+)$|^```sql\n([\s\S]*?)^```$/gm;
  for (let m = re.exec(markdown); m; m = re.exec(markdown)) {
    if (m[1] !== undefined) heading = m[1].trim();
    else blocks.push({ heading, sql: m[2] });
  }
  return blocks;
}

const blocks = sqlBlocks(readFileSync(path.join(ROOT, 'docs/queries.md'), 'utf8'));
const under = (heading: string) => blocks.filter((b) => b.heading === heading);

// What the export files hold. Their dates are wall-clock times in the documented zone with the
// offset in force, so the first 10 characters are the local date.
const sample = JSON.parse(readFileSync(SAMPLE, 'utf8')).data;
const metric = (name: string) => sample.metrics.find((m: { name: string }) => m.name === name).data as any[];
const instant = (d: string) => new Date(d.replace(' ', 'T').replace(/ ([+-]\d\d)(\d\d)$/, '$1:$2'));
/** A day on which the phone and the watch counted the same walks. */
const OVERLAP = [
  { date: '2024-04-02 09:00:00 -0700', qty: 1000, source: 'Jane’s iPhone' },
  { date: '2024-04-02 09:05:00 -0700', qty: 900, source: 'Jane’s Apple Watch' },
  { date: '2024-04-02 10:10:00 -0700', qty: 300, source: 'Jane’s iPhone' },
  { date: '2024-04-02 10:00:00 -0700', qty: 250, source: 'Jane’s Apple Watch' },
  { date: '2024-04-02 14:00:00 -0700', qty: 400, source: 'Jane’s iPhone' },
];
const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
/** pg reads a `date` as local midnight of this process. */
const ymd = (d: Date) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;

describe('docs/queries.md', () => {
  let db: TestDatabase;
  let tmp: string | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
    tmp = await mkdtemp(path.join(tmpdir(), 'he-queries-'));
    const overlap = path.join(tmp, 'overlap.json');
    writeFileSync(overlap, JSON.stringify({ data: { metrics: [{ name: 'step_count', units: 'count', data: OVERLAP }] } }));
    for (const file of [SAMPLE, SLEEP, overlap]) {
      const r = await runCli(['import', file, '--user', 'jane', '--database-url', db.url, '--json']);
      if (r.code !== 0) throw new Error(`import ${file} exited ${r.code}: ${r.stderr}`);
    }
  });
  afterAll(async () => {
    await db?.drop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  const query = async (b: Block) => (await db.pool.query(b.sql)).rows;

  it('has the queries the README promises, and this file tests every block', () => {
    expect(blocks.map((b) => b.heading)).toEqual([
      'Daily steps',
      'Resting heart rate trend',
      'Sleep per night',
      'Sleep per night',
      'Workouts with distance',
      'A route as GeoJSON',
      'A route as GeoJSON',
    ]);
  });

  it('daily steps: one row per local day, each quarter-hour counted once from the best source', async () => {
    // The Health app's default order: a source naming the Watch, then the iPhone, then others
    // (then by name); per quarter-hour only the best source with data counts.
    const rank = (source: string) => {
      const s = source.toLowerCase();
      return s.includes('watch') ? 1 : s.includes('iphone') ? 2 : 3;
    };
    const quarters = new Map<string, { day: string; source: string; steps: number }[]>();
    for (const d of [...metric('step_count'), ...OVERLAP]) {
      const q = String(Math.floor(instant(d.date).getTime() / 900_000));
      const list = quarters.get(q) ?? [];
      const same = list.find((x) => x.source === d.source);
      if (same) same.steps += d.qty;
      else list.push({ day: d.date.slice(0, 10), source: d.source, steps: d.qty });
      quarters.set(q, list);
    }
    const expected = new Map<string, number>();
    for (const list of quarters.values()) {
      const best = list.sort((a, b) => rank(a.source) - rank(b.source) || (a.source < b.source ? -1 : 1))[0];
      expected.set(best.day, (expected.get(best.day) ?? 0) + best.steps);
    }
    const rows = await query(under('Daily steps')[0]);
    expect(rows.map((r) => [ymd(r.day), Number(r.steps)])).toEqual(
      [...expected].sort().map(([d, v]) => [d, Math.round(v)]),
    );
    // The overlap day: the phone's 1000 and 300 lose to the watch's 900 and 250 where both
    // counted; the phone alone counts at 14:00.
    expect(expected.get('2024-04-02')).toBe(900 + 250 + 400);
  });

  it('resting heart rate: per day, with the 7-day average', async () => {
    const days = metric('resting_heart_rate').map((d) => ({ day: d.date.slice(0, 10), qty: d.qty as number }));
    const rows = await query(under('Resting heart rate trend')[0]);
    expect(rows.map((r) => [ymd(r.day), Number(r.resting_bpm)])).toEqual(days.map((d) => [d.day, d.qty]));
    // All sample days fall inside one 7-day window: the last average is the mean of them all.
    const mean = days.reduce((s, d) => s + d.qty, 0) / days.length;
    expect(Number(rows.at(-1).avg_7d)).toBe(round(mean, 1));
    expect(Number(rows[0].avg_7d)).toBe(days[0].qty);
  });

  it('sleep per night from the aggregated nights', async () => {
    const nights = metric('sleep_analysis');
    const rows = await query(under('Sleep per night')[0]);
    expect(rows.map((r) => [ymd(r.night_ending), r.total_sleep, r.deep])).toEqual(
      nights.map((n) => [n.date.slice(0, 10), n.totalSleep, n.deep]),
    );
  });

  it('sleep per night from stage intervals, by source, with DST nights at their real length', async () => {
    const stages = JSON.parse(readFileSync(SLEEP, 'utf8')).data.metrics[0].data as any[];
    const asleep = new Map<string, number>();
    for (const s of stages) {
      if (!['Core', 'Deep', 'REM', 'Asleep'].includes(s.value)) continue;
      // The night ends on the local date 12 hours after the interval starts (wall clock).
      const night = new Date(Date.parse(`${s.startDate.slice(0, 10)}T${s.startDate.slice(11, 19)}Z`) + 12 * 3600_000).toISOString().slice(0, 10);
      const k = `${night} ${s.source}`;
      asleep.set(k, (asleep.get(k) ?? 0) + (instant(s.endDate).getTime() - instant(s.startDate).getTime()) / 3600_000);
    }
    const rows = await query(under('Sleep per night')[1]);
    const got = rows.filter((r) => r.asleep_h !== null).map((r) => [`${ymd(r.night_ending)} ${r.source}`, Number(r.asleep_h)]);
    expect(got).toEqual([...asleep].sort().map(([k, v]) => [k, round(v, 2)]));
    expect(new Set(got.map(([k]) => String(k).slice(0, 10))).size).toBe(3);
  });

  it('workouts with distance: every workout that has one, with its average heart rate', async () => {
    const withDistance = sample.workouts.filter((w: any) => w.distance);
    const rows = await query(under('Workouts with distance')[0]);
    expect(rows.map((r) => [r.name, r.distance, r.distance_unit])).toEqual(
      withDistance.map((w: any) => [w.name, w.distance.qty, w.distance.units]),
    );
    for (const [i, w] of withDistance.entries()) {
      // v1 exports write one `qty` per sample, v2 Min/Avg/Max.
      const bpm = (w.heartRateData as { Avg?: number; qty?: number }[]).map((h) => (h.Avg ?? h.qty) as number);
      expect(Number(rows[i].avg_bpm), w.name).toBe(Math.round(bpm.reduce((a, b) => a + b, 0) / bpm.length));
      expect(rows[i].route_points).toBe(w.route?.length ?? 0);
    }
  });

  it('a route as GeoJSON without PostGIS: the newest route, point by point', async () => {
    const newest = sample.workouts
      .filter((w: any) => w.route?.length)
      .sort((a: any, b: any) => instant(b.start).getTime() - instant(a.start).getTime())[0];
    const [{ geojson }] = await query(under('A route as GeoJSON')[0]);
    expect(geojson.type).toBe('Feature');
    expect(geojson.properties.name).toBe(newest.name);
    expect(geojson.geometry.type).toBe('LineString');
    expect(geojson.geometry.coordinates).toEqual(newest.route.map((p: any) => [p.longitude, p.latitude, p.altitude]));
  });

  it('a route as GeoJSON with PostGIS: the same line as the query without it', async (ctx) => {
    if (!(await postgisAvailable())) {
      if (process.env.CI === 'true') throw new Error('PostGIS is missing: CI installs postgresql-15-postgis-3');
      console.warn('skipped: this PostgreSQL has no postgis extension (Debian: apt-get install postgresql-15-postgis-3)');
      ctx.skip();
    }
    expect(await db.hasPostgis()).toBe(true);
    const [{ geojson: plain }] = await query(under('A route as GeoJSON')[0]);
    const [{ geojson }] = await query(under('A route as GeoJSON')[1]);
    expect(geojson.geometry.type).toBe('LineString');
    expect(geojson.properties.workout_id).toBe(plain.properties.workout_id);
    // Altitude is a float4 column: PostGIS widens it to double (116.98 -> 116.980003).
    const close = (a: number[][]) => a.map((p) => p.map((x) => round(x, 4)));
    expect(close(geojson.geometry.coordinates)).toEqual(close(plain.geometry.coordinates));
    expect(Number(geojson.properties.length_m)).toBeGreaterThan(0);
  });
});
