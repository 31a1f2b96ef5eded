/**
 * The one prom-client registry shared by every command (import, serve, partitions, ...).
 *
 * Everything the program exports is defined here, prefixed `healthexport_`, with Prometheus
 * naming (`_total` counters, `_seconds` / `_bytes` units). The rest of the code records through
 * the small functions at the bottom (recordOutcomes, observePool, refreshBusinessGauges, ...),
 * so the DB / load / server layers never import prom-client themselves.
 *
 * Default Node.js process metrics (process_*, nodejs_*) are collected unprefixed, under their
 * standard names, so community dashboards work unchanged.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { USER_DATA_TABLES } from '../db/user-tables.js';

export const registry = new Registry();
collectDefaultMetrics({ register: registry });

/** Every record ends in exactly one of these (design notes, "Loading"). */
export const OUTCOMES = ['inserted', 'updated', 'unchanged', 'rejected'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export const RUN_STATUSES = ['ok', 'partial', 'failed'] as const;
/** ok: everything stored; partial: some records rejected (exit 3); failed: nothing/aborted. */
export type RunStatus = (typeof RUN_STATUSES)[number];

export const POOL_STATES = ['total', 'idle', 'waiting'] as const;
export type PoolState = (typeof POOL_STATES)[number];

export const CACHE_RESULTS = ['hit', 'miss'] as const;
export type CacheResult = (typeof CACHE_RESULTS)[number];

/**
 * Suggested values for the `kind` label of healthexport_errors_total. Keep the set small and
 * fixed (never put messages or ids in a label).
 */
export type ErrorKind =
  | 'parse' // input is not valid JSON / not the HAE shape
  | 'validation' // a record failed validation (it is also counted as rejected)
  | 'db' // a database error that aborted a batch or a run
  | 'db_retry' // a transient database error that was retried
  | 'cache' // Redis unavailable or a cache command failed
  | 'http' // an HTTP request handler failed (5xx)
  | 'push' // a Pushgateway push failed
  | 'io' // reading the input failed
  | 'internal';

/**
 * Tables whose row estimates are exported (plus every table listed in
 * healthexport_partitioned_tables, so tables added by later migrations are covered).
 */
export const BUSINESS_TABLES = USER_DATA_TABLES;

// ---- bucket layouts -------------------------------------------------------------------------

/** Per-batch work (staging COPY, INSERT ... ON CONFLICT): 10 ms .. 60 s. */
export const BATCH_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Whole import runs: 1 s .. 4 h (a decade-long export of route points takes a while). */
export const RUN_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400];
/** HTTP requests served by `serve`: 5 ms .. 30 s (large POSTed exports are slow). */
export const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

// ---- definitions ----------------------------------------------------------------------------

type MetricType = 'counter' | 'gauge' | 'histogram';
const defined: { name: string; type: MetricType }[] = [];

function counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []) {
  defined.push({ name, type: 'counter' });
  return new Counter<L>({ name, help, labelNames, registers: [registry] });
}
function gauge<L extends string>(
  name: string,
  help: string,
  labelNames: readonly L[] = [],
  collect?: () => void,
) {
  defined.push({ name, type: 'gauge' });
  return new Gauge<L>({ name, help, labelNames, registers: [registry], ...(collect ? { collect } : {}) });
}
function histogram<L extends string>(
  name: string,
  help: string,
  buckets: number[],
  labelNames: readonly L[] = [],
) {
  defined.push({ name, type: 'histogram' });
  return new Histogram<L>({ name, help, labelNames, buckets, registers: [registry] });
}

// pipeline

export const recordsTotal = counter(
  'healthexport_records_total',
  'Records processed, by target table and final outcome (inserted, updated, unchanged, rejected). ' +
    'Every record read ends in exactly one outcome.',
  ['table', 'outcome'],
);

export const batchDurationSeconds = histogram(
  'healthexport_batch_duration_seconds',
  'Time to load one batch into its table (COPY into staging + INSERT ... ON CONFLICT + commit), in seconds.',
  BATCH_BUCKETS,
  ['table'],
);

export const copyDurationSeconds = histogram(
  'healthexport_copy_duration_seconds',
  'Time spent in the COPY statements of one batch (into its table, or its staging table), in seconds.',
  BATCH_BUCKETS,
  ['table'],
);

export const parsedBytesTotal = counter(
  'healthexport_parsed_bytes_total',
  'Bytes of Health Auto Export input read and parsed (uncompressed JSON).',
);

export const importRunsTotal = counter(
  'healthexport_import_runs_total',
  'Import runs finished (CLI imports and POSTs to serve), by status: ok, partial (some records rejected), failed.',
  ['status'],
);

export const importDurationSeconds = histogram(
  'healthexport_import_duration_seconds',
  'Wall-clock duration of one import run, by status, in seconds.',
  RUN_BUCKETS,
  ['status'],
);

export const lastImportTimestampSeconds = gauge(
  'healthexport_last_import_timestamp_seconds',
  'Unix time at which the last import run with this status finished. The freshness alert treats ' +
    'ok and partial as successful (data arrived).',
  ['status'],
);

export const errorsTotal = counter(
  'healthexport_errors_total',
  'Errors by kind (parse, validation, db, db_retry, cache, http, push, io, internal).',
  ['kind'],
);

// database pool (updated by observePool, and at every scrape/push for a pool given to trackPool)

let trackedPool: PoolLike | undefined;

export const dbPoolConnections = gauge(
  'healthexport_db_pool_connections',
  'PostgreSQL client pool: state="total" connections open, state="idle" open but unused, ' +
    'state="waiting" callers queued for a connection.',
  ['state'],
  () => {
    if (trackedPool) observePool(trackedPool);
  },
);

export const dbPoolMax = gauge(
  'healthexport_db_pool_max_connections',
  'Configured maximum size of the PostgreSQL client pool.',
);

// cache

export const cacheRequestsTotal = counter(
  'healthexport_cache_requests_total',
  'Redis cache lookups by result (hit, miss).',
  ['result'],
);

// HTTP (serve)

export const httpRequestsTotal = counter(
  'healthexport_http_requests_total',
  'HTTP requests handled by serve, by route template, method and status code.',
  ['route', 'method', 'status'],
);

export const httpRequestDurationSeconds = histogram(
  'healthexport_http_request_duration_seconds',
  'Duration of HTTP requests handled by serve, by route template and method, in seconds.',
  HTTP_BUCKETS,
  ['route', 'method'],
);

// business

export const users = gauge('healthexport_users', 'Number of users (rows in table users).');

export const tableRowsEstimate = gauge(
  'healthexport_table_rows_estimate',
  'Estimated rows per table, summed over its partitions (pg_class.reltuples; refreshed by ANALYZE / autovacuum).',
  ['table'],
);

export const newestRecordTimestampSeconds = gauge(
  'healthexport_newest_record_timestamp_seconds',
  'Unix time of the newest record per metric (record kind for the non-activity tables) in the imports that wrote rows.',
  ['metric'],
);

export const partitionsFutureMonths = gauge(
  'healthexport_partitions_future_months',
  'Consecutive months after the current (UTC) month for which a partition of the table exists.',
  ['table'],
);

export const partitionCurrentMonth = gauge(
  'healthexport_partition_current_month',
  '1 when a partition of the table covers the current (UTC) month, else 0.',
  ['table'],
);

export const ingestionRunningOldestSeconds = gauge(
  'healthexport_ingestion_running_oldest_seconds',
  "Age of the oldest raw_ingestions row still 'running' (0 when none): an import or POST stuck, or killed before it could record its end.",
);

// ---- names, as Prometheus exposes them ----------------------------------------------------

function sampleNames(m: { name: string; type: MetricType }): string[] {
  return m.type === 'histogram' ? [`${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`] : [m.name];
}

/** Every healthexport_* sample name the code exports (histograms as _bucket/_sum/_count). */
export const METRIC_NAMES: readonly string[] = Object.freeze(defined.flatMap(sampleNames));

/** Metric family names with their types (histogram families listed once). */
export const METRIC_FAMILIES: readonly { name: string; type: MetricType }[] = Object.freeze([...defined]);

// ---- recording helpers ----------------------------------------------------------------------

/** Give known label values a 0 sample so ratios and increase() see the series from the start. */
function initialiseKnownLabels(): void {
  for (const status of RUN_STATUSES) importRunsTotal.inc({ status }, 0);
  for (const result of CACHE_RESULTS) cacheRequestsTotal.inc({ result }, 0);
  // Unlabelled gauges start at 0 in prom-client; "0 users" or "pool max 0" would be a lie (and
  // max 0 would make the pool look saturated), so expose nothing until a real value is set.
  users.remove();
  dbPoolMax.remove();
  // "Nothing stuck" is only known once raw_ingestions was read.
  ingestionRunningOldestSeconds.remove();
}
initialiseKnownLabels();

const newest = new Map<string, number>();

/**
 * Count the outcomes of a batch (or a whole table) in one call. All four outcome series of the
 * table are created (with 0) so the reject ratio is defined even when nothing was rejected.
 */
export function recordOutcomes(table: string, counts: Partial<Record<Outcome, number>>): void {
  for (const outcome of OUTCOMES) {
    const n = counts[outcome] ?? 0;
    if (!(n >= 0) || !Number.isFinite(n)) continue;
    recordsTotal.inc({ table, outcome }, n);
  }
}

export function addParsedBytes(bytes: number): void {
  if (bytes > 0 && Number.isFinite(bytes)) parsedBytesTotal.inc(bytes);
}

/**
 * Record the end of an import run: counts the run, observes its duration and sets
 * healthexport_last_import_timestamp_seconds{status} to `finishedAt` (default now).
 */
export function recordImportRun(status: RunStatus, durationSeconds: number, finishedAt: number | Date = Date.now()): void {
  importRunsTotal.inc({ status });
  if (durationSeconds >= 0 && Number.isFinite(durationSeconds)) importDurationSeconds.observe({ status }, durationSeconds);
  lastImportTimestampSeconds.set({ status }, toEpochMs(finishedAt) / 1000);
}

export function recordError(kind: ErrorKind | (string & {}), n = 1): void {
  errorsTotal.inc({ kind }, n);
}

export function recordCache(result: CacheResult, n = 1): void {
  cacheRequestsTotal.inc({ result }, n);
}

/**
 * Record one HTTP request. `route` must be the route template (e.g. "/api/v1/import"), never the
 * raw path, to keep the label set small; `status` is the numeric status code.
 */
export function observeHttpRequest(route: string, method: string, status: number | string, durationSeconds: number): void {
  const m = method.toUpperCase();
  httpRequestsTotal.inc({ route, method: m, status: String(status) });
  if (durationSeconds >= 0 && Number.isFinite(durationSeconds)) {
    httpRequestDurationSeconds.observe({ route, method: m }, durationSeconds);
  }
}

/** Shape of a pg.Pool as far as metrics care. */
export interface PoolLike {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
  options?: { max?: number };
}

/** Set the pool gauges from a pg.Pool (or anything shaped like one). */
export function observePool(pool: PoolLike): void {
  dbPoolConnections.set({ state: 'total' }, pool.totalCount);
  dbPoolConnections.set({ state: 'idle' }, pool.idleCount);
  dbPoolConnections.set({ state: 'waiting' }, pool.waitingCount);
  const max = pool.options?.max;
  if (typeof max === 'number' && Number.isFinite(max)) dbPoolMax.set(max);
}

/**
 * Read the pool's counts at every scrape / push from now on (one pool per process).
 * Returns a function that stops tracking it.
 */
export function trackPool(pool: PoolLike): () => void {
  trackedPool = pool;
  observePool(pool);
  return () => {
    if (trackedPool === pool) trackedPool = undefined;
  };
}

/**
 * Note that a record of `metric` at time `at` was loaded. The gauge only moves forward, so
 * back-filling history does not hide newer data.
 */
export function setNewestRecord(metric: string, at: number | Date): void {
  const ms = toEpochMs(at);
  if (!Number.isFinite(ms)) return;
  const prev = newest.get(metric);
  if (prev !== undefined && prev >= ms) return;
  newest.set(metric, ms);
  newestRecordTimestampSeconds.set({ metric }, ms / 1000);
}

/** Reset every metric (tests, or a long-lived process that wants a clean slate). */
export function resetMetrics(): void {
  registry.resetMetrics();
  newest.clear();
  initialiseKnownLabels();
}

/** Body and content type for a /metrics response. */
export async function renderMetrics(): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}

function toEpochMs(at: number | Date): number {
  return at instanceof Date ? at.getTime() : at;
}

// ---- business gauges from the catalog -------------------------------------------------------

export type QueryFn = (sql: string) => Promise<{ rows: any[] }>;

export interface BusinessGaugesResult {
  users: number | null;
  rowsEstimate: Record<string, number>;
  futureMonths: Record<string, number>;
  /** Queries that failed (other than "table does not exist yet", which is silently skipped). */
  errors: string[];
}

function sqlTextArray(names: readonly string[]): string {
  return `ARRAY[${names.map((n) => `'${n.replace(/'/g, "''")}'`).join(', ')}]::text[]`;
}

/**
 * Rows per table from catalog estimates: for a partitioned table, the leaf partitions'
 * reltuples summed (pg_partition_tree walks pg_inherits, sub-partitions included); for a plain
 * table its own reltuples. to_regclass() yields NULL for tables that do not exist yet, so they
 * produce no row. reltuples is -1 for a never-analysed relation (PG 14+), counted as 0.
 */
export const rowsEstimateSql = (tables: readonly string[]): string => `
SELECT t.name AS table_name,
       (CASE WHEN c.relkind = 'p' THEN
          (SELECT coalesce(sum(greatest(leaf.reltuples, 0)), 0)
             FROM pg_partition_tree(c.oid) AS pt
             JOIN pg_class leaf ON leaf.oid = pt.relid
            WHERE pt.isleaf)
        ELSE greatest(c.reltuples, 0) END)::float8 AS rows
  FROM unnest(${sqlTextArray(tables)}) AS t(name)
  JOIN pg_class c ON c.oid = to_regclass(t.name)`;

/** Direct partitions of the partitioned tables in the list, by name (`<table>_pYYYYMM`). */
export const partitionsSql = (tables: readonly string[]): string => `
SELECT parent.relname AS parent, child.relname AS child
  FROM unnest(${sqlTextArray(tables)}) AS t(name)
  JOIN pg_class parent ON parent.oid = to_regclass(t.name) AND parent.relkind = 'p'
  LEFT JOIN pg_inherits i ON i.inhparent = parent.oid
  LEFT JOIN pg_class child ON child.oid = i.inhrelid`;

/** A missing users table fails with 42P01 (undefined_table), which is skipped. */
export const USERS_SQL = `SELECT count(*)::float8 AS n FROM users`;

/**
 * Consecutive months after `now`'s (UTC) month covered by a partition named `<table>_pYYYYMM`.
 * A gap ends the count: an insert into the missing month would fail.
 */
export function countFutureMonths(table: string, partitionNames: Iterable<string>, now: Date = new Date()): number {
  const months = partitionMonths(table, partitionNames);
  const current = now.getUTCFullYear() * 12 + now.getUTCMonth();
  let n = 0;
  while (months.has(current + n + 1)) n++;
  return n;
}

/** Whether a partition named `<table>_pYYYYMM` covers `now`'s (UTC) month. */
export function coversCurrentMonth(table: string, partitionNames: Iterable<string>, now: Date = new Date()): boolean {
  return partitionMonths(table, partitionNames).has(now.getUTCFullYear() * 12 + now.getUTCMonth());
}

/** Months (year * 12 + month index) of the partitions named `<table>_pYYYYMM`. */
function partitionMonths(table: string, partitionNames: Iterable<string>): Set<number> {
  const re = new RegExp(`^${table.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}_p(\\d{4})(\\d{2})$`);
  const months = new Set<number>();
  for (const name of partitionNames) {
    const m = re.exec(name);
    if (m) months.add(Number(m[1]) * 12 + (Number(m[2]) - 1));
  }
  return months;
}

/** Age in seconds of the oldest ingestion still marked running; 0 when none is. */
export const RUNNING_INGESTION_SQL = `SELECT coalesce(extract(epoch FROM now() - min(received_at)), 0)::float8 AS age FROM raw_ingestions WHERE status = 'running'`;

/**
 * Refresh users, row estimates and partition coverage from the catalog. Every query is
 * independent and failures are collected, never thrown; tables that do not exist yet are skipped.
 * Pass a pool's query (not a client inside a transaction: a failed query would abort it).
 * The newest-record gauges are not queried here (max() per metric over a large partitioned table
 * is not cheap); each import sets them at its end (metricsObserver in src/import/after-import.ts).
 */
export async function refreshBusinessGauges(query: QueryFn, now: Date = new Date()): Promise<BusinessGaugesResult> {
  const result: BusinessGaugesResult = { users: null, rowsEstimate: {}, futureMonths: {}, errors: [] };
  const attempt = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (err) {
      const e = err as { code?: string; message?: string };
      // 42P01 undefined_table, 3F000 invalid_schema_name: schema not migrated yet.
      if (e?.code === '42P01' || e?.code === '3F000') return;
      result.errors.push(`${what}: ${e?.message ?? String(err)}`);
    }
  };

  const tables = new Set<string>(BUSINESS_TABLES);
  try {
    const { rows } = await query('SELECT table_name FROM healthexport_partitioned_tables');
    for (const r of rows) if (typeof r.table_name === 'string') tables.add(r.table_name);
  } catch {
    // not migrated yet (or an older schema): the built-in list is enough
  }
  const tableNames = [...tables].sort();

  await attempt('users', async () => {
    const { rows } = await query(USERS_SQL);
    const n = rows[0]?.n;
    if (n !== null && n !== undefined) {
      result.users = Number(n);
      users.set(result.users);
    }
  });

  await attempt('rows estimate', async () => {
    const { rows } = await query(rowsEstimateSql(tableNames));
    for (const r of rows) {
      const n = Math.round(Number(r.rows));
      result.rowsEstimate[r.table_name] = n;
      tableRowsEstimate.set({ table: r.table_name }, n);
    }
  });

  await attempt('partitions', async () => {
    const { rows } = await query(partitionsSql(tableNames));
    const byParent = new Map<string, string[]>();
    for (const r of rows) {
      const list = byParent.get(r.parent) ?? [];
      if (r.child) list.push(r.child);
      byParent.set(r.parent, list);
    }
    for (const [table, children] of byParent) {
      const n = countFutureMonths(table, children, now);
      result.futureMonths[table] = n;
      partitionsFutureMonths.set({ table }, n);
      partitionCurrentMonth.set({ table }, coversCurrentMonth(table, children, now) ? 1 : 0);
    }
  });

  await attempt('running ingestions', async () => {
    const { rows } = await query(RUNNING_INGESTION_SQL);
    ingestionRunningOldestSeconds.set(Math.round(Number(rows[0]?.age ?? 0)));
  });

  return result;
}
