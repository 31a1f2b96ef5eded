/**
 * After a bench import: how long every query of the health dashboard and `summary --days 3650`
 * take on that database, uncached (no Redis; PostgreSQL's own buffers as they are), and what
 * keeping days in a second zone costs once. Part of `npm run bench`, run on the largest size.
 *
 * Ranges: the dashboard's default (the last 90 days of the data) and the whole span (the
 * export's ~10 years). Each query runs 3 times; the first and the best are printed.
 */
import pg from 'pg';
import { dailyStats } from '../src/cache/summary-sql.js';
import { addZone } from '../src/rollups/rebuild.js';
import { dashboardQueries, grafanaSql } from '../tests/support/grafana.js';

const ZONE = 'America/Los_Angeles'; // the generator's default --user-tz

async function time<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t = process.hrtime.bigint();
  const r = await fn();
  return [Number(process.hrtime.bigint() - t) / 1e6, r];
}

export interface DashboardTimes {
  lines: string[];
  slowestMs: number;
}

export async function dashboardBench(url: string, user = 'bench'): Promise<DashboardTimes> {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const lines: string[] = [];
  try {
    const { rows: u } = await pool.query('SELECT id FROM users WHERE name = $1', [user]);
    const userId = Number(u[0].id);
    const { rows: span } = await pool.query(
      `SELECT min(starts_at) AS lo, max(starts_at) + interval '1 day' AS hi FROM rollup_days WHERE user_id = $1 AND tz = 'UTC'`,
      [userId],
    );
    const to = new Date(span[0].hi);
    const [zoneMs, zoneRows] = await time(() => addZone(pool, userId, ZONE));
    lines.push(`  rollups zones add ${ZONE}: ${(zoneMs / 1000).toFixed(1)} s once (${zoneRows} day rows)`);
    const { rows: w } = await pool.query(
      `SELECT workout_id FROM workouts WHERE user_id = $1 AND route_points > 0 ORDER BY route_points DESC LIMIT 1`,
      [userId],
    );
    const vars = { user: String(userId), tz: ZONE, workout: w[0]?.workout_id ?? '' };
    const ranges = [
      { label: '90 days', from: new Date(to.getTime() - 90 * 86_400_000), to, intervalMs: 3_600_000 },
      { label: `all ${Math.round((to.getTime() - new Date(span[0].lo).getTime()) / (365.25 * 86_400_000))} years`, from: new Date(span[0].lo), to, intervalMs: 86_400_000 },
    ];
    let slowest = 0;
    lines.push(`  dashboard queries (ms, first / best of 3; user ${user}, days in ${ZONE}):`);
    lines.push(`    ${'panel'.padEnd(48)} ${ranges.map((r) => r.label.padStart(16)).join('')}  rows`);
    for (const q of dashboardQueries()) {
      const cells: string[] = [];
      let rows = 0;
      for (const r of ranges) {
        const sql = grafanaSql(q, vars, r);
        const runs: number[] = [];
        for (let i = 0; i < 3; i++) {
          const [ms, res] = await time(() => pool.query(sql));
          runs.push(ms);
          rows = res.rowCount ?? 0;
        }
        slowest = Math.max(slowest, runs[0]);
        cells.push(`${runs[0].toFixed(0)} / ${Math.min(...runs).toFixed(0)}`.padStart(16));
      }
      lines.push(`    ${q.title.slice(0, 48).padEnd(48)} ${cells.join('')}  ${rows}`);
    }
    lines.push(`  summary --days 3650 (dailyStats, ms, first / best of 3; UTC kept, Europe/Berlin answered from the quarters):`);
    for (const metric of ['heart_rate', 'step_count', 'active_energy', 'blood_pressure', 'sleep_analysis']) {
      const cells: string[] = [];
      for (const tz of ['UTC', ZONE, 'Europe/Berlin']) {
        const runs: number[] = [];
        for (let i = 0; i < 3; i++) runs.push((await time(() => dailyStats(pool, userId, metric, 3650, to, tz)))[0]);
        if (tz !== 'Europe/Berlin') slowest = Math.max(slowest, runs[0]);
        cells.push(`${tz} ${runs[0].toFixed(0)} / ${Math.min(...runs).toFixed(0)}`);
      }
      lines.push(`    ${metric.padEnd(16)} ${cells.join('   ')}`);
    }
    lines.push(`  slowest first run (dashboard, and summary in kept zones): ${slowest.toFixed(0)} ms`);
    return { lines, slowestMs: slowest };
  } finally {
    await pool.end();
  }
}
