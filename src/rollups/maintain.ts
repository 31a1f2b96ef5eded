/**
 * What the writer calls so that every stored batch keeps the rollups true, in the batch's own
 * transaction: a batch that rolls back leaves no trace in them either.
 *
 * - after a direct COPY: `refreshAfterCopy` with the copied rows, all new: their quarter
 *   aggregates are added to the stored ones (aggregate.ts);
 * - after a staging merge: `refreshAfterMerge` with the staging table, which then holds exactly
 *   the rows that were inserted or changed (unchanged ones were dropped from it first).
 * Tables that do not roll up (workouts, routes, events, ...) cost nothing.
 */
import type pg from 'pg';
import { rollupInput } from './inputs.js';
import { aggregateRows, type SampleRows } from './aggregate.js';
import { addQuarters, refreshSpans } from './refresh.js';
import { spansOfStaged } from './spans.js';

/** The slice of a table spec the rollups need. */
export interface RolledTable {
  table: string;
  timeColumn: string;
  columns: readonly string[];
}

export function rollsUp(table: string): boolean {
  return rollupInput(table) !== undefined;
}

export async function refreshAfterCopy(
  client: pg.PoolClient,
  userId: number,
  spec: RolledTable,
  rows: SampleRows,
): Promise<void> {
  const input = rollupInput(spec.table);
  if (!input) return;
  await addQuarters(client, userId, input, aggregateRows(rows, input));
}

export async function refreshAfterMerge(client: pg.PoolClient, userId: number, spec: RolledTable, staged: string): Promise<void> {
  const input = rollupInput(spec.table);
  if (!input) return;
  const spans = await spansOfStaged(client, staged, input.timeColumn, input.seriesColumn, input.skipSeries);
  await refreshSpans(client, userId, input, spans);
}
