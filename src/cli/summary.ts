/**
 * `summary`: what a person asks for (daily aggregates of one metric, latest values, recent
 * workouts), read through the cache so that what is cached is what users see.
 */
import { Command } from 'commander';
import type { CacheSource } from '../cache/cache.js';
import type { DailyStats, LatestValue, WorkoutSummary } from '../cache/summary-sql.js';
import { cachedDaily, cachedLatest, cachedWorkouts } from '../cache/summaries.js';
import {
  addDbOptions,
  addRedisOption,
  daysOption,
  defaultUser,
  openCommandCache,
  positiveInt,
  printJson,
  resolveUser,
  tzOption,
  withDatabase,
  type CacheFlags,
  type DbOptions,
} from './context.js';
import { listZones } from '../rollups/rebuild.js';
import { renderTable } from './format.js';
import { log } from './log.js';

const fmt = (n: number | null | undefined): string | number => (n === null || n === undefined ? '' : Math.round(n * 100) / 100);

export function renderDaily(s: DailyStats): string {
  if (!s.rows.length) return `no ${s.metric} samples in the last ${s.days} day${s.days === 1 ? '' : 's'} (${s.tz})`;
  if (s.rows.some((r) => r.diastolic)) {
    return renderTable(
      ['day', 'count', 'sys min', 'sys avg', 'sys max', 'dia min', 'dia avg', 'dia max', 'unit'],
      s.rows.map((r) => [
        r.day, r.count, fmt(r.min), fmt(r.avg), fmt(r.max),
        fmt(r.diastolic?.min), fmt(r.diastolic?.avg), fmt(r.diastolic?.max), r.unit ?? '',
      ]),
    );
  }
  return renderTable(
    ['day', 'count', 'min', 'avg', 'max', 'sum', 'unit'],
    s.rows.map((r) => [r.day, r.count, fmt(r.min), fmt(r.avg), fmt(r.max), fmt(r.sum), r.unit ?? '']),
  );
}

export function renderLatest(values: LatestValue[]): string {
  if (!values.length) return 'no data yet';
  return renderTable(
    ['metric', 'value', 'unit', 'at'],
    values.map((v) => {
      const shown =
        v.metric === 'blood_pressure' && v.parts
          ? `${fmt(v.parts.systolic)}/${fmt(v.parts.diastolic)}`
          : v.value !== null
            ? String(fmt(v.value))
            : (v.text ?? '');
      return [v.metric, shown, v.unit ?? '', v.recordedAt];
    }),
  );
}

export function renderWorkouts(ws: WorkoutSummary[]): string {
  if (!ws.length) return 'no workouts yet';
  return renderTable(
    ['started', 'name', 'minutes', 'distance', 'energy'],
    ws.map((w) => [
      w.startedAt,
      w.name,
      fmt(w.durationS === null ? null : w.durationS / 60),
      w.distance === null ? '' : `${fmt(w.distance)} ${w.distanceUnit ?? ''}`.trim(),
      w.activeEnergy === null ? '' : `${fmt(w.activeEnergy)} ${w.activeEnergyUnit ?? ''}`.trim(),
    ]),
  );
}

interface SummaryFlags extends DbOptions, CacheFlags {
  user: string;
  metric?: string;
  days: number;
  tz: string;
  workouts?: number | true;
  json?: boolean;
}

export function summaryCommand(): Command {
  const cmd = new Command('summary')
    .description('daily min/avg/max/sum of a metric, the latest value of every metric, or recent workouts (through the cache)')
    .option('--user <name>', 'whose data (default: $HEALTHEXPORT_USER or "default")', defaultUser())
    .option('--metric <name>', 'metric as exported (step_count, heart_rate, blood_pressure, sleep_analysis, ...); omitted: latest value of every metric')
    .option('--days <n>', 'how many days back, today included', daysOption, 7)
    .option('--tz <zone>', 'time zone of the days (IANA name)', tzOption, 'UTC')
    .option('--workouts [n]', 'show the most recent workouts instead (default 10)', positiveInt('--workouts', 1000))
    .option('--json', 'print as JSON')
    .addHelpText(
      'after',
      `
Days are calendar days in --tz (default UTC), read from the daily rollups (kept for UTC and
the zones of "rollups zones add"; other zones are computed from the 15-minute rollups).
Cumulative metrics (steps, distance, energy, ...) count each 15 minutes once, from the
best-ranked source ("sources priority"). Values come from the cache when it has them
(REDIS_URL), else from PostgreSQL; an import invalidates the importing user's summaries.

Examples:
  $ healthexport summary --metric step_count --days 7
  $ healthexport summary --user jane --metric heart_rate --days 30 --tz Europe/Berlin --json
  $ healthexport summary                      # latest value of every metric`,
    );
  addRedisOption(addDbOptions(cmd)).action(async (o: SummaryFlags) => {
    const cache = openCommandCache(o);
    try {
      await withDatabase(o, async (db) => {
        const userId = await resolveUser(db.pool, o.user);
        const head = { user: o.user, userId };
        const label = (src: CacheSource) => (src === 'off' ? 'no cache' : `cache ${src}`);
        if (o.workouts !== undefined) {
          const limit = o.workouts === true ? undefined : o.workouts;
          const r = await cachedWorkouts(db.pool, cache, userId, limit);
          if (o.json) return printJson({ ...head, cache: r.source, workouts: r.value });
          console.log(`recent workouts of ${o.user} (${label(r.source)})\n${renderWorkouts(r.value)}`);
        } else if (o.metric) {
          const r = await cachedDaily(db.pool, cache, userId, o.metric, o.days, { tz: o.tz });
          // Days in a zone not kept are summed from the 15-minute rollups: exact, but ~1 s over
          // ten years (1 GB bench) against ~15 ms from kept days. Say how to keep them.
          if (r.source !== 'hit' && !(await listZones(db.pool, userId)).includes(o.tz)) {
            log.info(`days in ${o.tz} are not kept for ${o.user}: computed from the 15-minute rollups; "healthexport rollups zones add --user ${o.user} ${o.tz}" keeps them`);
          }
          if (o.json) return printJson({ ...head, cache: r.source, ...r.value });
          console.log(`${o.metric} of ${o.user}, last ${o.days} day${o.days === 1 ? '' : 's'} (${o.tz}; ${label(r.source)})`);
          console.log(renderDaily(r.value));
        } else {
          const r = await cachedLatest(db.pool, cache, userId);
          if (o.json) return printJson({ ...head, cache: r.source, latest: r.value });
          console.log(`latest values of ${o.user} (${label(r.source)})\n${renderLatest(r.value)}`);
        }
      }, { readOnly: true });
    } finally {
      await cache.close();
    }
  });
  return cmd;
}
