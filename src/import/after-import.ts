/**
 * What follows an import, the same for `import` (CLI) and `serve` (each POST): Prometheus
 * metrics of the run, and the summaries cache of the touched user made honest again (and warmed
 * when asked). At the end of a CLI run, one push to the Pushgateway (serve pushes on a timer).
 */
import type pg from 'pg';
import type { Cache } from '../cache/cache.js';
import { refreshSummaries } from '../cache/warm.js';
import { BLOOD_PRESSURE, HEART_RATE, SLEEP } from '../cache/summary-sql.js';
import type { WriteResult } from '../load/writer.js';
import { pushMetrics, type PushResult } from '../metrics/push.js';
import {
  addParsedBytes,
  batchDurationSeconds,
  copyDurationSeconds,
  recordError,
  recordImportRun,
  recordOutcomes,
  refreshBusinessGauges,
  setNewestRecord,
  type ErrorKind,
} from '../metrics/registry.js';
import type { ImportObserver } from './run-import.js';
import type { ImportFailure, ImportSummary } from './summary.js';

/** Pass as `observer` to importSource: records each batch as it commits. */
export const metricsObserver: Required<Pick<ImportObserver, 'batchWritten' | 'newestRecords'>> = {
  batchWritten(table: string, r: WriteResult) {
    // Rejections are left to afterImport, which sees them all (the reader's and the database's).
    recordOutcomes(table, { ...r.counts, rejected: 0 });
    batchDurationSeconds.observe({ table }, r.seconds);
    copyDurationSeconds.observe({ table }, r.copySeconds);
  },
  newestRecords(newest) {
    for (const [metric, at] of newest) setNewestRecord(metric, at);
  },
};

const ERROR_KIND: Record<Exclude<ImportFailure, null>, ErrorKind> = { input: 'parse', read: 'io', database: 'db', interrupted: 'io' };

export interface AfterImportOptions {
  pool?: pg.Pool;
  /** The summaries cache; absent or disabled: nothing to invalidate. */
  cache?: Cache | null;
  /** Fill the touched summaries again right away (`import --warm`). */
  warm?: boolean;
}

/**
 * Once per imported input, after importSource returned. Never throws: a cache that fails is the
 * cache's business, not the import's (the cache counts its own errors).
 * @example const s = await importSource(src, { pool, user, observer: metricsObserver }); await afterImport(s, { pool, cache });
 */
export async function afterImport(summary: ImportSummary, opts: AfterImportOptions = {}): Promise<void> {
  for (const [table, c] of Object.entries(summary.tables)) if (c.rejected) recordOutcomes(table, { rejected: c.rejected });
  addParsedBytes(summary.bytes);
  recordImportRun(summary.status, summary.durationMs / 1000);
  if (summary.failure) recordError(ERROR_KIND[summary.failure]);

  const { pool, cache } = opts;
  if (!pool || !cache?.enabled || summary.userId === null) return;
  const touched = touchedBy(summary);
  if (!touched.metrics.length && !touched.workouts) return;
  await refreshSummaries(pool, cache, summary.userId, touched, !!opts.warm).catch(() => {});
}

/** Which summaries an import changed: metric names (as the summary queries take them) and workouts. */
export function touchedBy(summary: ImportSummary): { metrics: string[]; workouts: boolean } {
  if (summary.dryRun) return { metrics: [], workouts: false };
  // A failed run may have committed some batches before failing: treat what it read as touched.
  const failed = summary.status === 'failed';
  const changed = (table: string) => {
    const c = summary.tables[table];
    return !!c && (c.inserted + c.updated > 0 || (failed && c.read > 0));
  };
  if (!Object.keys(summary.tables).some(changed)) return { metrics: [], workouts: false };
  const metrics = new Set(summary.metrics);
  if (changed('heart_rate_metrics')) metrics.add(HEART_RATE);
  if (changed('blood_pressure_metrics')) metrics.add(BLOOD_PRESSURE);
  if (changed('sleep_metrics')) metrics.add(SLEEP);
  return { metrics: [...metrics].sort(), workouts: changed('workouts') };
}

/**
 * Once at the end of a CLI import run: refresh the business gauges (users, rows, partitions) and
 * push everything to the Pushgateway. A failed push is counted and returned, never thrown:
 * monitoring must not fail an import.
 */
export async function pushImportRun(gateway: string, job: string, pool?: pg.Pool): Promise<PushResult> {
  if (pool) await refreshBusinessGauges((sql) => pool.query(sql));
  const pushed = await pushMetrics({ url: gateway, job });
  if (!pushed.ok) recordError('push');
  return pushed;
}
