/**
 * Adds a direct batch's quarter aggregates (aggregate.ts) to rollup_quarters.
 *
 * Most of them are quarters nobody has stored: a direct COPY goes into months where the user had
 * no rows of that table, and batches hold a metric's samples mostly in time order, so another
 * batch of the same metric (an earlier one, or a concurrent one: those cover disjoint time spans,
 * load/scheduler.ts) meets this one only in the quarter of the metric's first or last sample
 * here. Those edge quarters are upserted (added to whatever is committed there); the rest go in
 * with a binary COPY, which costs a fraction of an upsert: measured on 430k quarter rows, INSERT
 * 3.1 us a row against 7.4 us with ON CONFLICT DO UPDATE, and the upsert's eight parameter
 * arrays cost node several more microseconds a row to build and PostgreSQL to parse.
 *
 * When an interior quarter exists after all (a file listing one metric twice, samples out of
 * order across batches), the COPY fails on the primary key, its savepoint is rolled back and
 * every quarter of the batch goes through the upsert: slower, never wrong.
 */
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RowWriter } from '../db/copy-binary.js';
import type { QuarterRows } from './aggregate.js';

const COLUMNS = 'user_id, metric, bucket, source, unit, priority, samples, total, low, high';

/** Adds quarter rows of new samples to rollup_quarters (user $1); ranks each source once. */
const UPSERT_SQL = `WITH a AS (
    SELECT * FROM unnest($2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::int[], $7::float8[], $8::float8[], $9::float8[])
      AS a(metric, bucket, source, unit, samples, total, low, high)
  ), rk AS MATERIALIZED (
    SELECT s.source, healthexport_source_rank(p.patterns, s.source) AS priority
    FROM (SELECT DISTINCT source FROM a) s CROSS JOIN (SELECT healthexport_source_patterns($1) AS patterns OFFSET 0) p
  )
  INSERT INTO rollup_quarters AS q (${COLUMNS})
  SELECT $1, a.metric, a.bucket, a.source, a.unit, rk.priority, a.samples, a.total, a.low, a.high
  FROM a JOIN rk USING (source)
  ON CONFLICT (user_id, metric, bucket, source, unit) DO UPDATE
    SET samples = q.samples + excluded.samples, total = q.total + excluded.total,
        low = least(q.low, excluded.low), high = greatest(q.high, excluded.high)`;

// MATERIALIZED: inlined, the rank (a PL/pgSQL call) ran once per quarter row instead of once per
// source, a third of the statement's time on 4,300 rows.

/**
 * The ranks of sources this run has met, per priority (the user's patterns as text): read again
 * in every transaction, so a priority changed meanwhile is seen as before, but each source is
 * ranked by PostgreSQL only once (a round trip per batch saved).
 */
export type SourceRankCache = Map<string, Map<string, number>>;

/**
 * Adds `rows` (all for user `userId`) inside the caller's transaction on `client`, then leaves
 * JIT off for the rest of it (the day refresh that follows).
 */
export async function addQuarterRows(client: pg.PoolClient, userId: number, rows: QuarterRows, cache: SourceRankCache): Promise<void> {
  const n = rows.bucket.length;
  const span = new Map<string, { first: number; last: number }>();
  for (let i = 0; i < n; i++) {
    const b = rows.bucket[i];
    const s = span.get(rows.metric[i]);
    if (!s) span.set(rows.metric[i], { first: b, last: b });
    else if (b < s.first) s.first = b;
    else if (b > s.last) s.last = b;
  }
  const edge: number[] = [];
  const inner: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = span.get(rows.metric[i])!;
    (rows.bucket[i] === s.first || rows.bucket[i] === s.last ? edge : inner).push(i);
  }
  // One round trip: JIT off, the savepoint the COPY may roll back to, the user's priority.
  const started = (await client.query(
    `SET LOCAL jit = off; SAVEPOINT he_quarters; SELECT healthexport_source_patterns(${Number(userId)})::text AS patterns`,
  )) as unknown as pg.QueryResult[];
  const patterns = started[started.length - 1].rows[0].patterns as string;
  if (inner.length) {
    const ranks = await sourceRanks(client, userId, rows.source, inner, cache, patterns);
    if (!(await copyInner(client, userId, rows, inner, ranks))) edge.push(...inner);
  }
  if (edge.length) await upsert(client, userId, rows, edge);
}

/** COPYs the rows at `idx`; false (and nothing written) when one of their quarters exists already. */
async function copyInner(client: pg.PoolClient, userId: number, rows: QuarterRows, idx: number[], rank: Map<string, number>): Promise<boolean> {
  const w = new RowWriter();
  for (const i of idx) {
    w.begin(10);
    w.int8(userId);
    w.text(rows.metric[i]);
    w.timestamptz(rows.bucket[i]);
    w.text(rows.source[i]);
    w.text(rows.unit[i]);
    w.int2(rank.get(rows.source[i])!);
    w.int4(rows.samples[i]);
    w.float8(rows.total[i]);
    w.float8(rows.low[i]);
    w.float8(rows.high[i]);
    w.end();
  }
  try {
    await pipeline(Readable.from(w.copyData()), client.query(copyFrom(`COPY rollup_quarters (${COLUMNS}) FROM STDIN (FORMAT binary)`)));
  } catch (err) {
    if ((err as { code?: string }).code !== '23505') throw err;
    await client.query('ROLLBACK TO SAVEPOINT he_quarters');
    return false;
  }
  // The savepoint is left to the COMMIT: releasing it would cost a round trip and buy nothing.
  return true;
}

/** The user's rank of each source among `idx` (the same function the upsert and the rebuild use). */
async function sourceRanks(
  client: pg.PoolClient,
  userId: number,
  sources: string[],
  idx: number[],
  cache: SourceRankCache,
  patterns: string,
): Promise<Map<string, number>> {
  let known = cache.get(patterns);
  if (!known) cache.set(patterns, (known = new Map()));
  const missing = new Set<string>();
  for (const i of idx) if (!known.has(sources[i])) missing.add(sources[i]);
  if (missing.size) {
    const { rows } = await client.query<{ source: string; priority: number }>(
      `SELECT s.source, healthexport_source_rank(p.patterns, s.source)::int AS priority
         FROM unnest($2::text[]) AS s(source) CROSS JOIN (SELECT healthexport_source_patterns($1) AS patterns OFFSET 0) p`,
      [userId, [...missing]],
    );
    for (const r of rows) known.set(r.source, r.priority);
  }
  return known;
}

async function upsert(client: pg.PoolClient, userId: number, rows: QuarterRows, idx: number[]): Promise<void> {
  const pick = <T>(a: T[]) => idx.map((i) => a[i]);
  await client.query(UPSERT_SQL, [
    userId,
    pick(rows.metric),
    idx.map((i) => new Date(rows.bucket[i]).toISOString()),
    pick(rows.source),
    pick(rows.unit),
    pick(rows.samples),
    pick(rows.total),
    pick(rows.low),
    pick(rows.high),
  ]);
}
