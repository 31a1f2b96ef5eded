/**
 * What the import pipeline needs from a format reader (HAE JSON, Apple Health XML, ...): typed
 * records and rejects in input order, in batches, plus what the summary reports about the
 * input. A reader throws InputError (src/errors.ts) when the input itself breaks (not JSON,
 * truncated, ...), after yielding everything complete before that point.
 */
import type { HealthRecord, RecordKind } from './model.js';

export interface ReaderReject {
  /** The kind of record it would have been (for per-table counts). */
  kind: RecordKind;
  reason: string;
  /** Where in the input: a JSON path, an XML element path, ... */
  path: string;
  byteOffset: number | null;
  raw: string | null;
}

export interface ReaderBatch {
  records: HealthRecord[];
  rejects: ReaderReject[];
  /**
   * Every record here passed `recordProblem` (records/admissible.ts) where the reader knew its
   * place in the input, so the import need not check it again; it checks batches without this.
   */
  checked?: boolean;
}

export interface ReaderStats {
  /** Metric names seen, each with whether healthexport knows it. */
  metrics: Map<string, boolean>;
  /** Keys or elements not understood (skipped, reported). */
  unknownKeys: string[];
  /**
   * When the input says when it was exported (Apple's <ExportDate>), epoch ms; set as soon as it
   * is read, before the first record. The import takes it as the input's "as of" instant.
   */
  exportedAt?: number;
}

export interface RecordReader {
  batches: AsyncIterable<ReaderBatch>;
  stats: ReaderStats;
}
