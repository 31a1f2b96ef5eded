/**
 * What the writer calls so that every stored batch keeps the rollups true, in the batch's own
 * transaction: a batch that rolls back leaves no trace in them either.
 *
 * - after a direct COPY: `addCopiedQuarters` with the quarter aggregates of the copied rows, all
 *   new (`quartersOfCopy`, aggregate.ts, computed before the transaction opens so that it does
 *   not sit idle meanwhile), added to the stored ones;
 * - after a staging merge: `refreshAfterMerge` with the staging table, which then holds exactly
 *   the rows that were inserted or changed (unchanged ones were dropped from it first).
 * Tables that do not roll up (workouts, routes, events, ...) cost nothing.
 */
import type pg from 'pg';
import { rollupInput, type RollupInput } from './inputs.js';
import { aggregateRows, type QuarterRows, type SampleRows } from './aggregate.js';
import { addQuarters, refreshSpans } from './refresh.js';
import type { SourceRankCache } from './add-quarters.js';
import { spansOfStaged } from './spans.js';

export type { SourceRankCache };

/** The slice of a table spec the rollups need. */
export interface RolledTable {
  table: string;
  timeColumn: string;
  columns: readonly string[];
}

export function rollsUp(table: string): boolean {
  return rollupInput(table) !== undefined;
}

/** A direct batch's quarter aggregates, for `addCopiedQuarters`. */
export interface CopiedQuarters {
  input: RollupInput;
  rows: QuarterRows;
}

/**
 * The quarter aggregates of rows about to be COPYed: those their batch kept as it was filled
 * (`kept`), else read from the rows; null when their table does not roll up.
 */
export function quartersOfCopy(spec: RolledTable, rows: SampleRows, kept: QuarterRows | null = null): CopiedQuarters | null {
  const input = rollupInput(spec.table);
  return input ? { input, rows: kept ?? aggregateRows(rows, input) } : null;
}

/** Adds them, once the rows are COPYed, in the same transaction; then recomputes their days. */
export async function addCopiedQuarters(client: pg.PoolClient, userId: number, q: CopiedQuarters, ranks: SourceRankCache): Promise<void> {
  await addQuarters(client, userId, q.input, q.rows, ranks);
}

export async function refreshAfterMerge(client: pg.PoolClient, userId: number, spec: RolledTable, staged: string): Promise<void> {
  const input = rollupInput(spec.table);
  if (!input) return;
  const spans = await spansOfStaged(client, staged, input.timeColumn, input.seriesColumn, input.skipSeries);
  await refreshSpans(client, userId, input, spans);
}
