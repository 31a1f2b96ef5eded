/** The result of importing one input, as printed (table or --json) and stored in raw_ingestions. */
import type { AsOfSource } from '../load/ingestions.js';
import { addCounts, emptyCounts, type Counts } from '../load/outcome.js';

export type ImportStatus = 'ok' | 'partial' | 'failed';

/**
 * Why a run failed: the input itself (not HAE, truncated: `errorOffset` says where), reading it
 * (a vanished file, an upload cut off), the database, or a signal (Ctrl-C, SIGTERM) that stopped
 * it. Null when it did not fail.
 */
export type ImportFailure = 'input' | 'read' | 'database' | 'interrupted' | null;

export interface ImportSummary {
  ingestionId: string | null;
  /** Whose data this is (users.id); null for a dry run, which never touches the database. */
  userId: number | null;
  source: string;
  bytes: number;
  sha256: string | null;
  durationMs: number;
  status: ImportStatus;
  failure: ImportFailure;
  dryRun: boolean;
  tables: Record<string, Counts>;
  totals: Counts;
  unknownMetrics: string[];
  /** Every metric name the input carried (for cache invalidation), sorted. */
  metrics: string[];
  unknownKeys: string[];
  /** One line, naming the file and the byte offset where the input went wrong. */
  error: string | null;
  errorOffset: number | null;
  /** heart-rate series that look like recovery samples (see docs), by workout id. */
  workoutsFlagged: string[];
  /**
   * v2 workouts stored at another start and replaced (row and series) by this run's corrected
   * one; the earlier rows are gone, the corrected ones counted as inserted.
   */
  workoutsMoved: string[];
  /** The run's "as of" instant (src/import/as-of.ts) and where it came from; null for a dry run. */
  asOf: { at: string; source: AsOfSource } | null;
  /**
   * Per table, how many of its `unchanged` records differed from the stored row but were not
   * applied because that row came from a newer export (the five counts still reconcile).
   */
  unchangedOlder: Record<string, number>;
  /** Dry run only: records per table that would be stored (then read = valid + rejected). */
  valid: Record<string, number> | null;
}

export function totalsOf(tables: Record<string, Counts>): Counts {
  const t = emptyCounts();
  for (const c of Object.values(tables)) addCounts(t, c);
  return t;
}

export function statusOf(totals: Counts, failed: boolean): ImportStatus {
  if (failed) return 'failed';
  return totals.rejected > 0 ? 'partial' : 'ok';
}
