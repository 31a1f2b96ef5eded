import { Registry } from 'prom-client';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  batchDurationSeconds,
  copyDurationSeconds,
  METRIC_FAMILIES,
  METRIC_NAMES,
  addParsedBytes,
  countFutureMonths,
  observeHttpRequest,
  observePool,
  recordCache,
  recordError,
  recordImportRun,
  recordOutcomes,
  refreshBusinessGauges,
  registry,
  renderMetrics,
  resetMetrics,
  setNewestRecord,
  trackPool,
} from '../../src/metrics/registry.js';
import { parseSamples } from '../support/pushgateway.js';

async function samples(name: string, labels: Record<string, string> = {}) {
  return parseSamples(await registry.metrics()).filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
}
async function value(name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const s = await samples(name, labels);
  expect(s.length).toBeLessThanOrEqual(1);
  return s[0]?.value;
}

beforeEach(() => resetMetrics());

describe('registry', () => {
  it('is one prom-client Registry with default process metrics', async () => {
    expect(registry).toBeInstanceOf(Registry);
    const text = await registry.metrics();
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
  });

  it('records outcomes by table and outcome, creating all four outcome series', async () => {
    recordOutcomes('heart_rate_metrics', { inserted: 10, updated: 2 });
    recordOutcomes('heart_rate_metrics', { rejected: 1 });
    recordOutcomes('heart_rate_metrics', { inserted: 5 });
    const text = await registry.metrics();
    expect(text).toContain('healthexport_records_total{table="heart_rate_metrics",outcome="inserted"} 15');
    expect(text).toContain('healthexport_records_total{table="heart_rate_metrics",outcome="updated"} 2');
    expect(text).toContain('healthexport_records_total{table="heart_rate_metrics",outcome="unchanged"} 0');
    expect(text).toContain('healthexport_records_total{table="heart_rate_metrics",outcome="rejected"} 1');
    expect(text).toMatch(/# TYPE healthexport_records_total counter/);
  });

  it('times batches and COPYs into histograms', async () => {
    copyDurationSeconds.observe({ table: 'workouts' }, 0.001);
    batchDurationSeconds.observe({ table: 'workouts' }, 0.002);
    expect(await value('healthexport_batch_duration_seconds_count', { table: 'workouts' })).toBe(1);
    expect(await value('healthexport_copy_duration_seconds_count', { table: 'workouts' })).toBe(1);
    expect(await value('healthexport_batch_duration_seconds_bucket', { table: 'workouts', le: '60' })).toBe(1);
    expect(await value('healthexport_batch_duration_seconds_bucket', { table: 'workouts', le: '0.01' })).toBe(1);
  });

  it('records import runs: count, duration and last timestamp by status', async () => {
    expect(await value('healthexport_import_runs_total', { status: 'failed' })).toBe(0); // pre-initialised
    recordImportRun('ok', 12.5, new Date('2025-01-02T03:04:05Z'));
    recordImportRun('partial', 3, 1_700_000_000_000);
    expect(await value('healthexport_import_runs_total', { status: 'ok' })).toBe(1);
    expect(await value('healthexport_import_runs_total', { status: 'partial' })).toBe(1);
    expect(await value('healthexport_import_duration_seconds_sum', { status: 'ok' })).toBe(12.5);
    expect(await value('healthexport_import_duration_seconds_bucket', { status: 'ok', le: '15' })).toBe(1);
    expect(await value('healthexport_import_duration_seconds_bucket', { status: 'ok', le: '5' })).toBe(0);
    expect(await value('healthexport_last_import_timestamp_seconds', { status: 'ok' })).toBe(
      Date.parse('2025-01-02T03:04:05Z') / 1000,
    );
    expect(await value('healthexport_last_import_timestamp_seconds', { status: 'partial' })).toBe(1_700_000_000);
    expect(await samples('healthexport_last_import_timestamp_seconds', { status: 'failed' })).toHaveLength(0);
  });

  it('observePool sets the pool gauges', async () => {
    observePool({ totalCount: 7, idleCount: 3, waitingCount: 2, options: { max: 10 } });
    expect(await value('healthexport_db_pool_connections', { state: 'total' })).toBe(7);
    expect(await value('healthexport_db_pool_connections', { state: 'idle' })).toBe(3);
    expect(await value('healthexport_db_pool_connections', { state: 'waiting' })).toBe(2);
    expect(await value('healthexport_db_pool_max_connections')).toBe(10);
  });

  it('trackPool reads the pool at every scrape until untracked', async () => {
    const pool = { totalCount: 1, idleCount: 1, waitingCount: 0, options: { max: 4 } };
    const untrack = trackPool(pool);
    pool.totalCount = 4;
    pool.idleCount = 0;
    pool.waitingCount = 9;
    expect(await value('healthexport_db_pool_connections', { state: 'waiting' })).toBe(9);
    expect(await value('healthexport_db_pool_connections', { state: 'total' })).toBe(4);
    untrack();
    pool.waitingCount = 1;
    expect(await value('healthexport_db_pool_connections', { state: 'waiting' })).toBe(9);
  });

  it('counts errors, cache results, parsed bytes and HTTP requests', async () => {
    recordError('db_retry');
    recordError('db_retry');
    recordCache('hit');
    recordCache('hit');
    recordCache('miss');
    addParsedBytes(1024);
    addParsedBytes(-5); // ignored
    observeHttpRequest('/api/v1/import', 'post', 201, 0.3);
    observeHttpRequest('/api/v1/import', 'POST', 500, 0.01);
    expect(await value('healthexport_errors_total', { kind: 'db_retry' })).toBe(2);
    expect(await value('healthexport_cache_requests_total', { result: 'hit' })).toBe(2);
    expect(await value('healthexport_cache_requests_total', { result: 'miss' })).toBe(1);
    expect(await value('healthexport_parsed_bytes_total')).toBe(1024);
    expect(await value('healthexport_http_requests_total', { route: '/api/v1/import', method: 'POST', status: '201' })).toBe(1);
    expect(await value('healthexport_http_requests_total', { route: '/api/v1/import', method: 'POST', status: '500' })).toBe(1);
    expect(await value('healthexport_http_request_duration_seconds_count', { route: '/api/v1/import', method: 'POST' })).toBe(2);
    expect(await value('healthexport_http_request_duration_seconds_bucket', { route: '/api/v1/import', method: 'POST', le: '0.005' })).toBe(0);
    expect(await value('healthexport_http_request_duration_seconds_bucket', { route: '/api/v1/import', method: 'POST', le: '0.025' })).toBe(1);
  });

  it('setNewestRecord only moves forward', async () => {
    setNewestRecord('step_count', Date.parse('2025-03-01T00:00:00Z'));
    setNewestRecord('step_count', new Date('2020-01-01T00:00:00Z')); // back-fill: ignored
    expect(await value('healthexport_newest_record_timestamp_seconds', { metric: 'step_count' })).toBe(
      Date.parse('2025-03-01T00:00:00Z') / 1000,
    );
    setNewestRecord('step_count', Date.parse('2025-03-02T00:00:00Z'));
    expect(await value('healthexport_newest_record_timestamp_seconds', { metric: 'step_count' })).toBe(
      Date.parse('2025-03-02T00:00:00Z') / 1000,
    );
  });

  it('renderMetrics gives the exposition body and content type', async () => {
    const { contentType, body } = await renderMetrics();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(body).toContain('# HELP healthexport_records_total');
  });
});

describe('METRIC_NAMES', () => {
  it('follows Prometheus naming: healthexport_ prefix, _total counters, base units', () => {
    for (const { name, type } of METRIC_FAMILIES) {
      expect(name).toMatch(/^healthexport_[a-z0-9_]+$/);
      if (type === 'counter') expect(name).toMatch(/_total$/);
      else expect(name).not.toMatch(/_total$/);
      if (type === 'histogram') expect(name).toMatch(/_seconds$/);
      expect(name).not.toMatch(/_(ms|milliseconds|kb|mb|minutes|hours)(_|$)/);
    }
    expect(new Set(METRIC_NAMES).size).toBe(METRIC_NAMES.length);
  });

  it('matches exactly what the registry exposes once everything is recorded', async () => {
    recordOutcomes('workouts', { inserted: 1 });
    batchDurationSeconds.observe({ table: 'workouts' }, 0.002);
    copyDurationSeconds.observe({ table: 'workouts' }, 0.001);
    addParsedBytes(1);
    recordImportRun('ok', 1);
    recordError('db');
    observePool({ totalCount: 1, idleCount: 1, waitingCount: 0, options: { max: 2 } });
    recordCache('hit');
    observeHttpRequest('/metrics', 'GET', 200, 0.001);
    setNewestRecord('step_count', Date.now());
    await refreshBusinessGauges(async (sql) => {
      if (sql.includes('count(*)')) return { rows: [{ n: 2 }] };
      if (sql.includes('pg_partition_tree')) return { rows: [{ table_name: 'workouts', rows: 5 }] };
      if (sql.includes('pg_inherits')) return { rows: [{ parent: 'workouts', child: 'workouts_p209901' }] };
      return { rows: [] };
    });
    const exposed = new Set(
      parseSamples(await registry.metrics())
        .map((s) => s.name)
        .filter((n) => n.startsWith('healthexport_')),
    );
    expect([...exposed].sort()).toEqual([...METRIC_NAMES].sort());
  });

  it('every family has help text', async () => {
    const text = await registry.metrics();
    for (const { name } of METRIC_FAMILIES) expect(text).toMatch(new RegExp(`^# HELP ${name} \\S.{10,}`, 'm'));
  });
});

describe('countFutureMonths', () => {
  const now = new Date('2026-11-15T12:00:00Z');
  const names = (...months: string[]) => months.map((m) => `activity_metrics_p${m}`);

  it('counts consecutive months after the current one, across a year end', () => {
    expect(countFutureMonths('activity_metrics', names('202611', '202612', '202701', '202702'), now)).toBe(3);
  });
  it('stops at a gap and ignores the past, other tables and odd names', () => {
    expect(countFutureMonths('activity_metrics', names('202610', '202612', '202702'), now)).toBe(1);
    expect(countFutureMonths('activity_metrics', ['workouts_p202612', 'activity_metrics_default', 'activity_metrics_p202612_old'], now)).toBe(0);
    expect(countFutureMonths('activity_metrics', [], now)).toBe(0);
  });
  it('does not confuse a table with another whose name extends it', () => {
    expect(countFutureMonths('workout', ['workout_routes_p202612'], now)).toBe(0);
  });
});

describe('refreshBusinessGauges (query stub)', () => {
  it('skips missing tables silently and reports other failures without throwing', async () => {
    const missing = Object.assign(new Error('relation "users" does not exist'), { code: '42P01' });
    const r = await refreshBusinessGauges(async (sql) => {
      if (sql.includes('healthexport_partitioned_tables')) throw missing;
      if (sql.includes('count(*)')) throw missing;
      if (sql.includes('pg_partition_tree')) throw Object.assign(new Error('permission denied'), { code: '42501' });
      return { rows: [] };
    });
    expect(r.users).toBeNull();
    expect(r.errors).toEqual(['rows estimate: permission denied']);
    expect(await samples('healthexport_users')).toHaveLength(0); // unknown: not exported as 0
  });
});
