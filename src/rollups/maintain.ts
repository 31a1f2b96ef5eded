/**
 * What the writer calls so that every stored batch keeps the rollups true, in the batch's own
 * transaction: a batch that rolls back leaves no trace in them either.
 *
 * - before the transaction: `ensureRollupPartitions` creates the rollup_quarters months the
 *   batch touches (outside it, so the partition lock is not held for the whole batch);
 * - after a direct COPY: `refreshAfterCopy` with the copied lines;
 * - after a staging merge: `refreshAfterMerge` with the staging table, which then holds exactly
 *   the rows that were inserted or changed (unchanged ones were dropped from it first).
 * Tables that do not roll up (workouts, routes, events, ...) cost nothing.
 */
import type pg from 'pg';
import { ensureMonths } from '../db/partitions.js';
import { rollupInput } from './inputs.js';
import { refreshSpans } from './refresh.js';
import { spansOfLines, spansOfStaged } from './spans.js';

/** The slice of a table spec the rollups need. */
export interface RolledTable {
  table: string;
  timeColumn: string;
  columns: readonly string[];
}

export function rollsUp(table: string): boolean {
  return rollupInput(table) !== undefined;
}

export async function ensureRollupPartitions(
  db: pg.Pool | pg.PoolClient,
  table: string,
  months: Iterable<number>,
  known: Set<string>,
): Promise<void> {
  // Quarter buckets never cross a month: months start at UTC midnight, a quarter boundary.
  if (rollsUp(table)) await ensureMonths(db, 'rollup_quarters', months, known);
}

export async function refreshAfterCopy(
  client: pg.PoolClient,
  userId: number,
  spec: RolledTable,
  lines: readonly string[],
  minTime: number,
  maxTime: number,
): Promise<void> {
  const input = rollupInput(spec.table);
  if (!input) return;
  const spans = spansOfLines(lines, spec.columns, input.timeColumn, input.seriesColumn, minTime, maxTime);
  await refreshSpans(client, userId, input, spans);
}

export async function refreshAfterMerge(client: pg.PoolClient, userId: number, spec: RolledTable, staged: string): Promise<void> {
  const input = rollupInput(spec.table);
  if (!input) return;
  const spans = await spansOfStaged(client, staged, input.timeColumn, input.seriesColumn);
  await refreshSpans(client, userId, input, spans);
}
